"""Nodes of the scoring pipeline: a thin wrapper around :func:`mtlsearch.scoring.score.score_model`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.finetune.lora import load_adapter
from mtlsearch.scoring.score import score_model


def score_adapter(
    evaluation_sets: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained, adapter: Path, scoring: dict,
    evaluation_run: dict | None = None,
):
    """Predictions of the adapted model on the evaluation sets, and the metrics per split and dataset."""
    model = load_adapter(base_model.value, adapter)
    predictions, metrics, _ = score_model(model, tokenizer, evaluation_sets, scoring)
    return predictions, metrics
