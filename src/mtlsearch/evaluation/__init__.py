"""Evaluation: the one recipe (formatting -> finetune -> scoring of a combination) and the evaluators a search asks."""
