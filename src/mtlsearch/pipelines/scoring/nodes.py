"""Nodes of the scoring pipeline: a thin wrapper around :func:`mtlsearch.evaluation.recipe.scoring_stage`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.evaluation.recipe import scoring_stage
from mtlsearch.finetune.training import load_adapter


def score_adapter(
    evaluation_sets: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained, adapter: Path, scoring: dict
):
    """Predictions of the adapted model on the evaluation sets, and the metrics per dataset."""
    model = load_adapter(base_model.value, adapter)
    predictions, metrics, _ = scoring_stage(model, tokenizer, evaluation_sets, scoring)
    return predictions, metrics
