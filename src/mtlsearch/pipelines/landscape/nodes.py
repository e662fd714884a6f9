"""Nodes of the landscape pipeline: thin wrappers around :mod:`mtlsearch.landscape.recorded`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.combinations import SEPARATOR
from mtlsearch.landscape.recorded import LandscapeSettings, measure_noise, record_landscape, summarize, summary_markdown


def landscape_search(landscape: dict, search: dict) -> dict:
    """The search parameters aimed at the landscape's target and pool (the evaluator's settings)."""
    settings = LandscapeSettings.from_params(landscape)
    return {**dict(search), "target": settings.target, "candidates": SEPARATOR.join(settings.pool)}


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
