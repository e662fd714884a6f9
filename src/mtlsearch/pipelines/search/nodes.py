"""Nodes of the search pipeline: thin wrappers around :mod:`mtlsearch.searching`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.artifacts import Pretrained, prepare_base_model, prepare_tokenizer
from mtlsearch.evaluation import EvaluationConfig
from mtlsearch.evaluators import TableEvaluator
from mtlsearch.ingest import build_examples
from mtlsearch.searching import FinetuneEvaluator, SearchSettings


def prepare_evaluator(
    raw_root: Path,
    tokenizer_previous: Pretrained | None,
    base_model_previous: Pretrained | None,
    search: dict,
    ingestion: dict,
    model: dict,
    formatting: dict,
    finetune: dict,
    scoring: dict,
    evaluate: dict,
):
    """What answers the search's evaluations, with the base artifacts it needs.

    The table evaluator needs neither data nor models: the base artifacts are passed through
    untouched (nothing is built or written).
    """
    settings = SearchSettings.from_params(search)
    if settings.evaluator == "table":
        table = TableEvaluator(settings.table_path, settings.target, settings.table_noise, settings.table_delay_s, settings.seed)
        keep = Pretrained(None, "", {})
        return table, tokenizer_previous or keep, base_model_previous or keep
    examples = build_examples(raw_root, ingestion)
    tokenizer = prepare_tokenizer(examples, tokenizer_previous, model)
    base_model = prepare_base_model(examples, tokenizer, base_model_previous, model)
    config = EvaluationConfig(formatting=formatting, finetune=finetune, scoring=scoring, seed=int(evaluate.get("seed", 0)))
    return FinetuneEvaluator(examples, tokenizer, base_model, config), tokenizer, base_model


def run_search(evaluator, search: dict) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Search, recording every evaluation in MLflow; the history, the best, the predictions."""
    from mtlsearch.searching import run_tracked_search

    return run_tracked_search(evaluator, SearchSettings.from_params(search))
