"""Nodes of the search pipeline: thin wrappers around :mod:`mtlsearch.search.run`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.search.run import SearchSettings, build_evaluator


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
    return build_evaluator(
        raw_root, tokenizer_previous, base_model_previous, SearchSettings.from_params(search),
        ingestion, model, formatting, finetune, scoring, evaluate,
    )


def run_search(evaluator, search: dict) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Search, recording every evaluation in MLflow; the history, the best, the predictions."""
    from mtlsearch.search.run import run_tracked_search

    return run_tracked_search(evaluator, SearchSettings.from_params(search))
