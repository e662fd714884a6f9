"""Interactive (plotly) versions of the report's figures, for the analysis notebook.

They draw the same tables as :mod:`mtlsearch.reporting.report` (whose matplotlib figures the
``report`` pipeline saves as images): hover shows each evaluation's datasets and scores, legends
sit outside the data, and effects are sorted with their definition in the axis title.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from mtlsearch.reporting.report import auxiliary_effects, progress_table, surrogate_fit_table

LEGEND_OUTSIDE = {"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0}


def progress_plot(history: pd.DataFrame, target: str, metric: str = "score", optimum: float | None = None,
                  target_alone: float | None = None) -> go.Figure:
    """Each new evaluation's score and the best so far against the number of new evaluations."""
    table = progress_table(history)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=table["evaluation"], y=table["score"], mode="markers", name="evaluation",
                                text=table["datasets"], hovertemplate="%{text}<br>%{y:.4f}<extra></extra>"))
    figure.add_trace(go.Scatter(x=table["evaluation"], y=table["best_so_far"], mode="lines", name="best so far",
                                line={"shape": "hv"}))
    for value, name, dash in ((optimum, "exhaustive optimum", "dash"), (target_alone, f"{target} alone", "dot")):
        if value is not None:
            figure.add_hline(y=float(value), line_dash=dash, annotation_text=name, annotation_position="bottom right")
    figure.update_layout(title=f"Search for {target}", xaxis_title="new evaluations (0: reused)",
                         yaxis_title=f"{target} {metric}", legend=LEGEND_OUTSIDE)
    return figure


def fit_plot(history: pd.DataFrame, predictions: pd.DataFrame | None, target: str) -> go.Figure | None:
    """The surrogate's prediction before each evaluation (out of sample) against the score; None
    for a strategy that does not predict. The final fit has seen every score and is not drawn."""
    table = surrogate_fit_table(history, predictions)
    table = table[table["predicted_before"].notna()]
    if table.empty:
        return None
    low, high = float(min(table["actual"].min(), table["predicted_before"].min())), float(
        max(table["actual"].max(), table["predicted_before"].max()))
    figure = go.Figure([
        go.Scatter(x=table["predicted_before"], y=table["actual"], mode="markers", text=table["datasets"],
                   name="prediction before evaluation", hovertemplate="%{text}<br>predicted %{x:.4f}<br>"
                   "actual %{y:.4f}<extra></extra>"),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x", line={"dash": "dot"}),
    ])
    figure.update_layout(title=f"Surrogate for {target}: prediction before each evaluation",
                         xaxis_title="predicted", yaxis_title="actual", legend=LEGEND_OUTSIDE)
    return figure


def effects_plot(history: pd.DataFrame, target: str, candidates: Sequence[str] | None = None) -> go.Figure:
    """Each auxiliary's effect, sorted: the target's mean score over evaluated combinations with
    it minus the mean over those without it."""
    table = auxiliary_effects(history, target, candidates).dropna(subset=["effect"]).sort_values("effect")
    figure = go.Figure(go.Bar(x=table["effect"], y=table["auxiliary"], orientation="h",
                              customdata=table[["with_n", "without_n"]],
                              hovertemplate="%{y}: %{x:+.4f}<br>with: %{customdata[0]} evaluations, "
                              "without: %{customdata[1]}<extra></extra>"))
    figure.update_layout(title=f"Auxiliaries of {target}",
                         xaxis_title="effect = mean score with it - mean score without it (evaluated combinations)")
    return figure


def transfer_plot(matrix: pd.DataFrame) -> go.Figure:
    """The transfer matrix (target x auxiliary: mean score with the auxiliary minus alone)."""
    limit = float(matrix.abs().max().max()) if matrix.size else 1.0
    figure = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
                                  colorscale="RdBu", zmid=0, zmin=-limit, zmax=limit,
                                  hovertemplate="target %{y}, auxiliary %{x}: %{z:+.4f}<extra></extra>"))
    figure.update_layout(title="Transfer: mean score with the auxiliary minus the target alone",
                         xaxis_title="auxiliary", yaxis_title="target")
    return figure
