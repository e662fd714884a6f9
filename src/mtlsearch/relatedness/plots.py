"""The figure of a signal table: GradTS tau per candidate, and every dataset's PVI distribution."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mtlsearch.relatedness.gradts import DEFAULT_THRESHOLD


def relatedness_figure(table: pd.DataFrame, measurements: Mapping | None = None) -> Figure:
    """Left: each candidate's Kendall tau with the target's head importance, GradTS-thres's
    threshold drawn. Right: each dataset's PVI values (the target first), the target's group in
    colour, with the Welch test's p-value."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    roles = table["role"] if "role" in table else pd.Series("auxiliary", index=table.index)
    auxiliaries = table[roles != "target"]
    own = table.loc[roles == "target", "candidate"]
    target = (measurements or {}).get("target") or (str(own.iloc[0]) if len(own) else "target")
    names = auxiliaries["candidate"].astype(str).tolist()
    taus = auxiliaries["gradts_tau"].astype(float).to_numpy()
    colours = ["tab:blue" if t >= DEFAULT_THRESHOLD else "tab:gray" for t in np.nan_to_num(taus, nan=-1)]
    left.barh(names, np.nan_to_num(taus), color=colours)
    left.axvline(DEFAULT_THRESHOLD, color="tab:red", linestyle="--", linewidth=1, label=f"thres {DEFAULT_THRESHOLD}")
    left.invert_yaxis()
    left.set_xlim(min(-0.1, float(np.nanmin(taus)) - 0.05) if len(taus) and np.isfinite(taus).any() else -0.1, 1.0)
    left.set_xlabel(f"Kendall tau with {target}'s head importance")
    left.set_title("GradTS")
    left.legend(loc="lower right", fontsize=8)

    datasets = (measurements or {}).get("datasets") or {}
    order = [target, *names] if datasets else []
    values = [np.asarray(datasets[d]["pvi"], dtype=float) for d in order if d in datasets]
    if values:
        in_group = dict(zip(table["candidate"].astype(str), table["in_pvi_group"].astype(bool)))
        pvalues = dict(zip(table["candidate"].astype(str), table.get("pvi_pvalue", pd.Series(dtype=float))))
        parts = right.boxplot(values, vert=False, patch_artist=True, widths=0.6)
        for box, name in zip(parts["boxes"], order):
            box.set_facecolor("tab:green" if in_group.get(name, False) else "lightgray")
        rng = np.random.default_rng(0)
        for row, v in enumerate(values, start=1):
            right.scatter(v, row + rng.uniform(-0.15, 0.15, len(v)), s=6, color="black", alpha=0.5)
        labels = [name if name == target else f"{name} (p={pvalues.get(name, np.nan):.2g})" for name in order]
        right.set_yticks(range(1, len(order) + 1), labels)
        right.invert_yaxis()
    else:
        right.text(0.5, 0.5, "no PVI values", ha="center", va="center", transform=right.transAxes)
    right.set_xlabel("PVI (bits): log2 g(y|x) - log2 g'(y|empty)")
    right.set_title(f"PVI (green: {target}'s group)")
    return figure
