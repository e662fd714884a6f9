"""Nodes of the report pipeline: thin wrappers around :mod:`mtlsearch.reporting.report`.

Each figure is also attached to the search's MLflow run, so that the run page holds the same
report as data/08_reporting.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from mtlsearch import tracking
from mtlsearch.reporting import report as reporting


def read_ledger_scores(best_combination: dict) -> pd.DataFrame:
    """Every finished evaluation of the search's fingerprint, any target, one row per member score."""
    # MLflow is the project's tracking store and the ledger of evaluations: reading it here is
    # tracking access (as the search itself does), not data I/O that belongs in the catalog.
    experiment = tracking.search_experiment(best_combination.get("search_run_id"))
    return reporting.ledger_scores(
        tracking.read_ledger(best_combination["fingerprint"], best_combination["metric"], experiment)
    )


def plot_search_progress(search_history: pd.DataFrame, best_combination: dict, search: dict) -> Figure:
    optimum = reporting.exhaustive_optimum(search, best_combination)
    figure = reporting.search_progress_figure(
        search_history,
        optimum=optimum[1] if optimum else None,
        target=best_combination["target"],
        metric=best_combination.get("metric"),
        strategy=best_combination.get("strategy"),
        target_alone=best_combination.get("target_alone_score"),
    )
    tracking.log_figure(best_combination.get("search_run_id"), figure, "search_progress.png")
    return figure


def plot_surrogate_fit(
    search_history: pd.DataFrame, surrogate_predictions: pd.DataFrame, best_combination: dict
) -> Figure:
    figure = reporting.surrogate_fit_figure(
        search_history, surrogate_predictions, best_combination["target"], best_combination.get("strategy")
    )
    tracking.log_figure(best_combination.get("search_run_id"), figure, "surrogate_fit.png")
    return figure


def plot_auxiliary_effects(search_history: pd.DataFrame, best_combination: dict) -> Figure:
    figure = reporting.auxiliary_effect_figure(
        search_history, best_combination["target"], best_combination.get("candidates"), best_combination.get("metric")
    )
    tracking.log_figure(best_combination.get("search_run_id"), figure, "auxiliary_effects.png")
    return figure


def plot_transfer_heatmap(ledger_scores: pd.DataFrame, best_combination: dict) -> Figure:
    figure = reporting.transfer_heatmap_figure(reporting.transfer_matrix(ledger_scores), best_combination.get("metric"))
    tracking.log_figure(best_combination.get("search_run_id"), figure, "transfer_heatmap.png")
    return figure


def write_search_summary(search_history: pd.DataFrame, best_combination: dict, search: dict) -> str:
    optimum = reporting.exhaustive_optimum(search, best_combination)
    summary = reporting.search_summary(best_combination, search_history, optimum)
    tracking.annotate_search_run(
        best_combination.get("search_run_id"), best_combination,
        reporting.best_run_id(search_history, best_combination), summary, optimum,
    )
    return summary


def read_search_curves(best_combination: dict) -> pd.DataFrame:
    """The best-so-far curves of every search of the target in the search's experiment."""
    return tracking.search_curves(best_combination["target"],
                                  tracking.search_experiment(best_combination.get("search_run_id")))


def plot_search_comparison(search_curves: pd.DataFrame, best_combination: dict, search: dict) -> Figure:
    optimum = reporting.exhaustive_optimum(search, best_combination)
    figure = reporting.search_comparison_figure(search_curves, best_combination["target"],
                                                best_combination.get("search_run_id"),
                                                optimum[1] if optimum else None)
    tracking.log_figure(best_combination.get("search_run_id"), figure, "search_comparison.png")
    return figure
