"""Nodes of the evaluate pipeline: the evaluation's MLflow run around the formatting, finetune
and scoring nodes (:mod:`mtlsearch.evaluation.recipe`, :mod:`mtlsearch.tracking`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch import tracking
from mtlsearch.combinations import parse_combination
from mtlsearch.evaluation.recipe import EvaluationConfig, evaluation_fingerprint, evaluation_params
from mtlsearch.finetune.base_model import Pretrained


def open_evaluation_run(
    examples: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained,
    evaluate: dict, formatting: dict, finetune: dict, scoring: dict,
) -> dict:
    """Open the evaluation's MLflow run (RUNNING until ``record_evaluation_run`` finishes it)."""
    config = EvaluationConfig(formatting=formatting, finetune=finetune, scoring=scoring, seed=int(evaluate.get("seed", 0)))
    datasets = parse_combination(evaluate["datasets"])
    target = evaluate.get("target")
    fingerprint = evaluation_fingerprint(config, tokenizer, base_model, examples, target)
    run_id = tracking.start_evaluation(
        datasets, fingerprint, evaluation_params(datasets, config, base_model, fingerprint), target=target
    )
    return {"run_id": run_id, "fingerprint": fingerprint, "datasets": list(datasets),
            "selection_split": config.selection_split}


def record_evaluation_run(
    evaluation_run: dict, evaluation_metrics: dict, training_stats: dict, predictions: pd.DataFrame, adapter: Path
) -> dict:
    """Log the scores, predictions and adapter to the evaluation's run and mark it finished."""
    tracking.finish_evaluation(
        evaluation_run["run_id"], evaluation_metrics, evaluation_run["selection_split"], training_stats, predictions, adapter
    )
    return {**evaluation_run, "training": training_stats}
