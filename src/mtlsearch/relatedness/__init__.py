"""Cheap relatedness signals between a target and its auxiliaries: GradTS head-importance
correlation (:mod:`.gradts`) and PVI distributions (:mod:`.pvi`), combined in one signal table
(:mod:`.signals`); the fine-tunes they need go through the MLflow ledger (:mod:`.records`)."""
