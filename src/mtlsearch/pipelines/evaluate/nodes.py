"""Nodes of the evaluate pipeline: a thin wrapper around :func:`mtlsearch.evaluation.recipe.evaluate_combination`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.evaluation.recipe import EvaluationConfig, evaluate_combination


def evaluation_config(formatting: dict, finetune: dict, scoring: dict, evaluate: dict) -> EvaluationConfig:
    return EvaluationConfig(formatting=formatting, finetune=finetune, scoring=scoring, seed=int(evaluate.get("seed", 0)))


def evaluate(
    examples: pd.DataFrame,
    tokenizer: Pretrained,
    base_model: Pretrained,
    evaluate: dict,
    formatting: dict,
    finetune: dict,
    scoring: dict,
):
    """Fine-tune on the mixture of ``evaluate.datasets`` and score every member (one MLflow run)."""
    result = evaluate_combination(
        evaluate["datasets"], examples, tokenizer, base_model, evaluation_config(formatting, finetune, scoring, evaluate)
    )
    stats = {k: v for k, v in result.training.items() if isinstance(v, (int, float, str))}
    stats.update(run_id=result.run_id, fingerprint=result.fingerprint, wall_s=result.wall_s)
    return result.adapter, result.predictions, result.metrics, stats
