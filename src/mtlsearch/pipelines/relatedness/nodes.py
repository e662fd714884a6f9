"""Nodes of the relatedness pipeline: thin wrappers around :mod:`mtlsearch.relatedness`."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from mtlsearch import tracking
from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.evaluators import FinetuneEvaluator
from mtlsearch.parameters import RelatednessParams
from mtlsearch.relatedness.measure import measure_relatedness
from mtlsearch.relatedness.plots import relatedness_figure
from mtlsearch.search.run import SearchSettings, search_candidates


def compute_relatedness(evaluator, search: dict, relatedness: dict) -> tuple[pd.DataFrame, dict]:
    """GradTS and PVI of ``search.target`` and each of its candidates: the signal table and the
    measurements behind it, with real fine-tunes through the ledger."""
    settings = SearchSettings.from_params(search)
    targets = getattr(settings, "targets", None) or [settings.target]
    if len(targets) > 1:
        raise ConfigError(f"search.targets: the relatedness signals are measured against one target, got "
                          f"{'+'.join(targets)}; set search.target to one dataset id")
    if not isinstance(evaluator, FinetuneEvaluator):
        raise ConfigError(f"search.evaluator: the relatedness signals need real fine-tunes (finetune), got "
                          f"{settings.evaluator!r}; give search.relatedness_path a signal table instead")
    candidates = search_candidates(settings, evaluator)
    params = RelatednessParams.from_params(relatedness).to_dict()
    return measure_relatedness(evaluator, targets[0], candidates, params)


def plot_relatedness(relatedness: pd.DataFrame, relatedness_measurements: dict) -> Figure:
    """Both signals side by side; also attached to the signals' MLflow run."""
    figure = relatedness_figure(relatedness, relatedness_measurements)
    tracking.log_figure(relatedness_measurements.get("run_id"), figure, "relatedness.png")
    return figure
