"""Nodes of the landscape pipeline: thin wrappers around :mod:`mtlsearch.landscape.recorded`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.search.run import build_evaluator
from mtlsearch.landscape.recorded import LandscapeSettings, measure_noise, record_landscape, summarize, summary_markdown


def prepare_evaluator(
    raw_root: Path,
    tokenizer_previous: Pretrained | None,
    base_model_previous: Pretrained | None,
    landscape: dict,
    search: dict,
    ingestion: dict,
    model: dict,
    formatting: dict,
    finetune: dict,
    scoring: dict,
    evaluate: dict,
):
    """The search's evaluator (``search.evaluator``), aimed at the landscape's target."""
    settings = LandscapeSettings.from_params(landscape)
    return build_evaluator(
        raw_root, tokenizer_previous, base_model_previous, settings.search_settings(search),
        ingestion, model, formatting, finetune, scoring, evaluate,
    )


def landscape_table(evaluator, landscape: dict, search: dict) -> pd.DataFrame:
    """Every subset of the pool with the target, in the table evaluator's CSV format."""
    return record_landscape(evaluator, LandscapeSettings.from_params(landscape), search)


def landscape_noise(evaluator, table: pd.DataFrame, landscape: dict, search: dict) -> pd.DataFrame:
    """A few combinations' target scores under each seed."""
    return measure_noise(evaluator, table, LandscapeSettings.from_params(landscape), search)


def landscape_summary(table: pd.DataFrame, noise: pd.DataFrame, landscape: dict) -> tuple[dict, str]:
    """Spread against noise and each auxiliary's effect, as JSON and as Markdown."""
    summary = summarize(table, noise, LandscapeSettings.from_params(landscape))
    return summary, summary_markdown([summary])
