"""The story of a search, as tables, figures and a Markdown summary.

Every function here takes the search's outputs (``search_history``, ``best_combination``,
``surrogate_predictions``) or the evaluations read back from the MLflow ledger, and returns a
DataFrame, a matplotlib ``Figure`` or text: the ``report`` pipeline saves them as catalog
datasets, and the analysis notebook draws the same figures from the same functions.

Figures are built with ``matplotlib.figure.Figure`` rather than ``pyplot`` so that nodes keep no
global figure state (and leak no figures when the runner saves them).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from mtlsearch.combinations import SEPARATOR, members
from mtlsearch.search.loop import Evaluation

log = logging.getLogger(__name__)

FIGURE_SIZE = (7.0, 4.2)


def _reused(history: pd.DataFrame) -> pd.Series:
    # a CSV round trip may give the flags back as strings
    return history["reused"].map(lambda v: str(v).strip().lower() in ("true", "1"))


def finished_rows(history: pd.DataFrame) -> pd.DataFrame:
    """The rows of finished evaluations (a failed one has no score to draw)."""
    if "status" not in history:
        return history
    return history[history["status"].astype(str) != "failed"]


# --- search progress ----------------------------------------------------------------------------


def progress_table(history: pd.DataFrame) -> pd.DataFrame:
    """The history in search order with the new-evaluation count and the best score so far.

    Reused evaluations (from the ledger, free) sit at ``evaluation`` 0; new ones are numbered from
    1 in the order they finished. ``best_so_far`` includes the reused ones, which the search
    starts from.
    """
    frame = finished_rows(history).sort_values("order", kind="stable").reset_index(drop=True)
    reused = _reused(frame)
    table = pd.DataFrame(
        {
            "order": frame["order"].astype(int),
            "datasets": frame["datasets"].astype(str),
            "score": frame["score"].astype(float),
            "reused": reused,
        }
    )
    table["evaluation"] = np.where(reused, 0, (~reused).cumsum())
    table["best_so_far"] = table["score"].cummax()
    # the reused ones are all known before the first new evaluation
    if reused.any():
        start = table.loc[reused, "score"].max()
        table.loc[reused, "best_so_far"] = start
        table.loc[~reused, "best_so_far"] = np.maximum(table.loc[~reused, "score"].cummax(), start)
    return table


def search_progress_figure(
    history: pd.DataFrame,
    optimum: float | None = None,
    target: str | None = None,
    metric: str | None = None,
    strategy: str | None = None,
    target_alone: float | None = None,
) -> Figure:
    """Best score so far against new evaluations; reused evaluations drawn at 0."""
    table = progress_table(history)
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.add_subplot()
    new = table[~table["reused"]]
    old = table[table["reused"]]
    if len(old):
        axes.scatter(
            old["evaluation"], old["score"], marker="x", color="tab:gray",
            label=f"reused from the ledger ({len(old)})", zorder=3,
        )
    if len(new):
        axes.scatter(new["evaluation"], new["score"], color="tab:blue", s=18, label="evaluation", zorder=3)
    if len(table):
        # a step per new evaluation, starting from what the reused evaluations gave (if any)
        steps = table.groupby("evaluation", sort=True)["best_so_far"].max()
        axes.step(steps.index, steps.to_numpy(), where="post", color="tab:orange", label="best so far", zorder=2)
    if optimum is not None and math.isfinite(optimum):
        axes.axhline(optimum, color="tab:green", linestyle="--", label=f"exhaustive optimum {optimum:.4f}")
    if target_alone is not None and math.isfinite(target_alone):
        axes.axhline(target_alone, color="tab:red", linestyle=":", label=f"target alone {target_alone:.4f}")
    axes.set_xlabel("new evaluations (0: reused)")
    axes.set_ylabel(f"{target or 'target'} {metric or 'score'}")
    axes.set_title(f"Search for {target or 'the target'}" + (f" ({strategy})" if strategy else ""))
    axes.set_xlim(left=-0.5)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    # beside the axes, so that no legend hides a point
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    return figure


def search_comparison_figure(curves: pd.DataFrame, target: str, current_run: str | None = None,
                             optimum: float | None = None) -> Figure:
    """Best score so far against new evaluations, one line per search of ``target`` (the runs of
    the store; :func:`mtlsearch.tracking.search_curves`); the current search drawn bold."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    axes = figure.add_subplot()
    if curves.empty:
        axes.text(0.5, 0.5, "no search of this target logged a curve", ha="center", va="center",
                  transform=axes.transAxes)
    for run_id, curve in curves.groupby("run_id", sort=False):
        curve = curve.sort_values("step")
        current = run_id == current_run
        axes.step(curve["step"], curve["best_score"], where="post", linewidth=2.2 if current else 1.2,
                  label=f"{curve['name'].iloc[0]} [{str(run_id)[:8]}]" + (" (this search)" if current else ""))
    if optimum is not None and math.isfinite(optimum):
        axes.axhline(optimum, color="black", linestyle="--", linewidth=0.8, label=f"exhaustive optimum {optimum:.4f}")
    axes.set_xlabel("new evaluations")
    axes.set_ylabel(f"best {target} score so far")
    axes.set_title(f"Searches for {target}")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", borderaxespad=0)
    return figure


def exhaustive_optimum(search: Mapping, best: Mapping) -> tuple[tuple[str, ...], float] | None:
    """The best combination of the whole table when the search looked scores up in one.

    The search's own settings (``best["settings"]``) say where the table is; ``search``
    (``params:search``) stands in for outputs written before they carried them. The target and
    candidates are the search's own (``best``). None for real evaluations, where nothing knows
    the optimum, and when the table named is not the one the search used (its fingerprint
    differs): a report must not draw another table's optimum.
    """
    from mtlsearch.evaluation.table import TableEvaluator
    from mtlsearch.search.loop import Constraints, Objective

    search = best.get("settings") or search
    if search.get("evaluator") != "table" or not search.get("table_path"):
        return None
    targets = tuple(best.get("targets") or [best["target"]])
    table = TableEvaluator(
        search["table_path"], targets[0], float(search.get("table_noise") or 0.0), 0.0, int(search.get("seed") or 0)
    )
    if best.get("fingerprint") and table.fingerprint != best["fingerprint"]:
        log.warning(
            "search.table_path %s is not the table the search of %s used (fingerprint %s, not %s): no optimum drawn",
            search["table_path"], best["target"], table.fingerprint[:12], str(best["fingerprint"])[:12],
        )
        return None
    # the optimum of what the search maximised, among the combinations it was allowed
    objective = Objective(targets, best.get("target_weights"))
    bounds = best.get("constraints") or {}
    constraints = Constraints(tuple(bounds.get("required") or ()), tuple(bounds.get("excluded") or ()),
                              int(bounds.get("min_datasets") or 0), bounds.get("max_datasets"))
    candidates = best.get("candidates")
    return table.optimum([*candidates, *targets[1:]] if candidates else None, objective,
                         lambda datasets: constraints.violation(datasets, targets) is None)


# --- surrogate fit ------------------------------------------------------------------------------


def surrogate_fit_table(history: pd.DataFrame, predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Evaluated combinations with a prediction: actual score, prediction before evaluation, final fit.

    ``predicted_before`` is what the surrogate said when it proposed the combination (an honest,
    out-of-sample prediction); ``predicted_final`` is the fitted surrogate at the end of the search
    (``surrogate_predictions``), which has seen the score.
    """
    history = finished_rows(history)
    frame = pd.DataFrame(
        {
            "datasets": history["datasets"].astype(str),
            "actual": history["score"].astype(float),
            "predicted_before": pd.to_numeric(history["predicted"], errors="coerce"),
        }
    )
    if predictions is not None and len(predictions):
        final = dict(zip(predictions["datasets"].astype(str), predictions["predicted"].astype(float), strict=True))
        frame["predicted_final"] = frame["datasets"].map(final).astype(float)
    else:
        frame["predicted_final"] = np.nan
    keep = frame["predicted_before"].notna() | frame["predicted_final"].notna()
    return frame[keep].reset_index(drop=True)


def _fit_label(name: str, predicted: pd.Series, actual: pd.Series) -> str:
    mask = predicted.notna()
    error = float((predicted[mask] - actual[mask]).abs().mean())
    label = f"{name} (n={int(mask.sum())}, MAE {error:.4f}"
    if mask.sum() >= 3 and predicted[mask].std() > 0 and actual[mask].std() > 0:
        label += f", r {np.corrcoef(predicted[mask], actual[mask])[0, 1]:.2f}"
    return label + ")"


def surrogate_fit_figure(
    history: pd.DataFrame,
    predictions: pd.DataFrame | None = None,
    target: str | None = None,
    strategy: str | None = None,
) -> Figure:
    """Surrogate predictions against the scores the evaluations gave."""
    table = surrogate_fit_table(history, predictions)
    figure = Figure(figsize=(5.2, 4.6), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(f"Surrogate fit for {target or 'the target'}" + (f" ({strategy})" if strategy else ""))
    axes.set_xlabel("predicted score")
    axes.set_ylabel("actual score")
    if table.empty:
        axes.text(0.5, 0.5, "no surrogate predictions\nfor the evaluated combinations", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
        return figure
    before = table[table["predicted_before"].notna()]
    final = table[table["predicted_final"].notna()]
    if len(final):
        axes.scatter(final["predicted_final"], final["actual"], marker="s", facecolors="none", edgecolors="tab:gray",
                     label=_fit_label("final fit, in-sample (has seen the scores)", table["predicted_final"],
                                      table["actual"]))
    if len(before):
        axes.scatter(before["predicted_before"], before["actual"], color="tab:blue",
                     label=_fit_label("before evaluation, out-of-sample", table["predicted_before"],
                                      table["actual"]))
    values = pd.concat([table["actual"], table["predicted_before"], table["predicted_final"]]).dropna()
    low, high = float(values.min()), float(values.max())
    pad = max((high - low) * 0.05, 1e-3)
    edges = [low - pad, high + pad]
    axes.plot(edges, edges, color="black", linewidth=0.8, linestyle="--", label="y = x")
    axes.set_xlim(low - pad, high + pad)
    axes.set_ylim(low - pad, high + pad)
    axes.set_aspect("equal")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small")
    return figure


# --- auxiliary effects --------------------------------------------------------------------------


def auxiliary_effects(history: pd.DataFrame, target: str, candidates: Sequence[str] | None = None) -> pd.DataFrame:
    """Per auxiliary: the target's mean score (and spread) over evaluated combinations with and without it.

    ``effect`` is the difference of the means; an auxiliary in every (or no) evaluated combination
    has NaN on the side with no combination.
    """
    history = finished_rows(history)
    sets = history["datasets"].map(lambda d: set(members(d)))
    scores = history["score"].astype(float)
    auxiliaries = list(candidates) if candidates else sorted({m for s in sets for m in s} - {target})
    rows = []
    for auxiliary in auxiliaries:
        has = sets.map(lambda s, a=auxiliary: a in s)
        with_, without = scores[has], scores[~has]
        rows.append(
            {
                "auxiliary": auxiliary,
                "with_mean": with_.mean(), "with_std": with_.std(ddof=0), "with_n": int(has.sum()),
                "without_mean": without.mean(), "without_std": without.std(ddof=0), "without_n": int((~has).sum()),
            }
        )
    table = pd.DataFrame(
        rows, columns=["auxiliary", "with_mean", "with_std", "with_n", "without_mean", "without_std", "without_n"]
    )
    table["effect"] = table["with_mean"] - table["without_mean"]
    return table


def auxiliary_effect_figure(
    history: pd.DataFrame, target: str, candidates: Sequence[str] | None = None, metric: str | None = None
) -> Figure:
    """Mean target score with and without each auxiliary (one standard deviation as error bars),
    sorted by the effect: the mean with it minus the mean without it."""
    table = auxiliary_effects(history, target, candidates)
    table = table.sort_values("effect", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    figure = Figure(figsize=(max(5.0, 0.7 * len(table) + 2.5), 4.2), layout="constrained")
    axes = figure.add_subplot()
    x = np.arange(len(table))
    axes.errorbar(x - 0.12, table["with_mean"], yerr=table["with_std"], fmt="o", color="tab:blue", capsize=3,
                  label="with the auxiliary")
    axes.errorbar(x + 0.12, table["without_mean"], yerr=table["without_std"], fmt="s", color="tab:gray", capsize=3,
                  label="without it")
    for i, row in table.iterrows():
        if math.isfinite(row["effect"]):
            top = np.nanmax([row["with_mean"] + row["with_std"], row["without_mean"] + row["without_std"]])
            axes.annotate(f"{row['effect']:+.3f}", (i, top), textcoords="offset points", xytext=(0, 4),
                          ha="center", fontsize="x-small", color="tab:green" if row["effect"] > 0 else "tab:red")
    counts = zip(table["auxiliary"], table["with_n"], table["without_n"], strict=True)
    labels = [f"{a}\n({w}/{o})" for a, w, o in counts]
    axes.set_xticks(x, labels, fontsize="small")
    axes.set_xlabel("auxiliary (evaluations with / without)")
    axes.set_ylabel(f"{target} {metric or 'score'}")
    axes.set_title(f"Effect of each auxiliary on {target}\n(effect = mean with it - mean without it, over the "
                   "evaluated combinations)", fontsize="medium")
    axes.grid(alpha=0.3, axis="y")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    return figure


# --- transfer between datasets, from the ledger --------------------------------------------------


def ledger_scores(evaluations: Iterable[Evaluation]) -> pd.DataFrame:
    """One row per (evaluation, member with a score): every member of a combination is a target."""
    rows = [
        {
            "run_id": e.run_id,
            "datasets": SEPARATOR.join(sorted(e.datasets)),
            "size": len(e.datasets),
            "member": member,
            "score": float(score),
        }
        for e in evaluations
        for member, score in sorted(e.scores.items())
    ]
    return pd.DataFrame(rows, columns=["run_id", "datasets", "size", "member", "score"])


def transfer_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Target x auxiliary: the target's mean score with the auxiliary minus its score alone.

    When the target alone was never evaluated, the baseline is its mean score in the combinations
    without that auxiliary. Repeated evaluations of a combination count once (their mean). Rows are
    the datasets that have a score in some evaluation with another member; NaN where nothing was
    measured.
    """
    if scores.empty:
        return pd.DataFrame(dtype=float)
    per_combination = scores.groupby(["member", "datasets"], as_index=False)["score"].mean()
    everything = sorted({m for d in per_combination["datasets"] for m in members(d)})
    targets = sorted(per_combination["member"].unique())
    matrix = pd.DataFrame(np.nan, index=pd.Index(targets, name="target"),
                          columns=pd.Index(everything, name="auxiliary"), dtype=float)
    for target, group in per_combination.groupby("member"):
        sets = group["datasets"].map(lambda d: set(members(d)))
        alone = group.loc[sets.map(lambda s, t=target: s == {t}), "score"]
        for auxiliary in everything:
            if auxiliary == target:
                continue
            has = sets.map(lambda s, a=auxiliary: a in s)
            if not has.any():
                continue
            baseline = alone.mean() if len(alone) else group.loc[~has, "score"].mean()
            matrix.loc[target, auxiliary] = group.loc[has, "score"].mean() - baseline
    # a dataset only ever seen as a target (or never beside one) has no column worth drawing
    return matrix.dropna(axis=0, how="all").dropna(axis=1, how="all")


def transfer_heatmap_figure(matrix: pd.DataFrame, metric: str | None = None) -> Figure:
    """The transfer matrix as a heatmap: green helps the target, red hurts it, grey unmeasured."""
    rows, columns = matrix.shape
    figure = Figure(figsize=(max(4.5, 0.75 * columns + 2.5), max(2.6, 0.5 * rows + 1.8)), layout="constrained")
    axes = figure.add_subplot()
    title = "Transfer: target score with the auxiliary minus alone"
    axes.set_title(title + (f" ({metric})" if metric else ""), fontsize="medium")
    if matrix.empty or matrix.isna().all().all():
        axes.text(0.5, 0.5, "no evaluations in the ledger", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
        return figure
    values = matrix.to_numpy(dtype=float)
    limit = max(float(np.nanmax(np.abs(values))), 1e-6)
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="lightgray")
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if math.isfinite(value):
            dark = abs(value) > 0.6 * limit
            axes.text(j, i, f"{value:+.3f}", ha="center", va="center", fontsize="x-small",
                      color="white" if dark else "black")
    axes.set_xticks(range(columns), matrix.columns, rotation=45, ha="right", fontsize="small")
    axes.set_yticks(range(rows), matrix.index, fontsize="small")
    axes.set_xlabel("auxiliary")
    axes.set_ylabel("target")
    figure.colorbar(image, ax=axes, shrink=0.9, label="score difference")
    return figure


# --- summary ------------------------------------------------------------------------------------


def best_run_id(history: pd.DataFrame, best: Mapping) -> str | None:
    """The MLflow run of the evaluation that gave the best combination."""
    history = finished_rows(history)
    rows = history.loc[history["datasets"].astype(str) == str(best.get("datasets")), "run_id"].dropna()
    return str(rows.iloc[0]) if len(rows) else None


def _number(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.4f}"


def search_summary(
    best: Mapping, history: pd.DataFrame, optimum: tuple[Sequence[str], float] | None = None
) -> str:
    """A Markdown page: the best combination against the target alone, the cost, the MLflow runs."""
    target, metric = best["target"], best.get("metric", "score")
    score, alone = best.get("score"), best.get("target_alone_score")
    new, reused = int(best.get("evaluations_new", 0)), int(best.get("evaluations_reused", 0))
    combinations = int(best.get("combinations") or 2 ** len(best.get("candidates", [])))
    used = new + reused
    gain = score - alone if score is not None and alone is not None else None
    split = best.get("selection_split", "test")
    confirmation = best.get("confirmation")
    targets = best.get("targets") or [target]
    constraints = best.get("constraints") or {}
    constrained = bool(constraints.get("description") not in (None, "", "none"))
    # the baseline is the target alone unless the constraints make it another (or none)
    baseline = best.get("baseline", target)
    if baseline == target:
        baseline_label = f"{target} alone"
    elif baseline:
        baseline_label = f"baseline `{baseline}`"
    else:
        baseline_label = "baseline (none feasible)"
    if confirmation and confirmation.get("verdict"):
        outcome = f"; verdict: **{confirmation['verdict']}**)"
    elif confirmation:
        outcome = "; no verdict: no feasible baseline)"
    else:
        outcome = ")"
    what = metric if len(targets) == 1 else f"{metric} ({best.get('objective') or 'mean over ' + ', '.join(targets)})"
    lines = [
        f"# Search for {target}",
        "",
        f"**Best combination:** `{best.get('datasets') or '(none)'}`" + f" (selected on {split}" + outcome,
        "",
        "| | value |",
        "| --- | --- |",
    ]
    if len(targets) > 1:
        weights = best.get("target_weights") or [1 / len(targets)] * len(targets)
        lines.append("| targets (one model for all) | "
                     + ", ".join(f"{t} (weight {w:.3g})" for t, w in zip(targets, weights, strict=False)) + " |")
    lines += [
        f"| constraints | {constraints.get('description') or 'none'} |",
        f"| best {what} on {split}{' (mean over seeds)' if confirmation else ''} | {_number(score)} |",
        f"| {baseline_label} on {split} | {_number(alone)} |",
        (f"| gain over {'alone' if baseline == target else 'the baseline'} | "
         f"{'n/a' if gain is None else f'{gain:+.4f}'} |"),
        f"| best {what} on test | {_number(best.get('test_score'))} |",
        f"| {baseline_label} on test | {_number(best.get('target_alone_test_score'))} |",
    ]
    if not baseline and best.get("baseline_reason"):
        lines.append(f"| why no baseline | {best['baseline_reason']} |")
    if confirmation and confirmation.get("gain_over_alone"):
        interval = confirmation["gain_over_alone"]
        lines.append(
            f"| paired gain over {'alone' if baseline == target else 'the baseline'}, 95% interval | "
            f"{_number(interval['mean'])} "
            f"[{_number(interval['ci_low'])}, {_number(interval['ci_high'])}] over seeds {confirmation['seeds']} |"
        )
    if optimum is not None:
        optimum_datasets, optimum_score = optimum
        lines += [
            (f"| exhaustive optimum{' (feasible)' if constrained else ''} | {_number(optimum_score)} "
             f"(`{SEPARATOR.join(optimum_datasets)}`) |"),
            f"| regret | {_number(optimum_score - score) if score is not None else 'n/a'} |",
        ]
    lines += [
        (f"| evaluations used | {used} of the {combinations} combinations the constraints allow"
         if constrained else
         f"| evaluations used | {used} of 2^{len(best.get('candidates', []))} = {combinations} combinations")
        + f" ({used / max(combinations, 1):.0%}): {new} new, {reused} reused |",
        f"| strategy | {best.get('strategy', 'n/a')} |",
        *([f"| prior weight | {best['prior_weight']:.2f} (the model's belief in the relatedness prior; "
           "0: shrunk away) |"] if best.get("prior_weight") is not None else []),
        f"| stopped by | {best.get('stop_reason') or 'n/a'} |",
        f"| candidates | {', '.join(best.get('candidates', [])) or '(none)'} |",
        f"| fingerprint | `{best.get('fingerprint', 'n/a')}` |",
        f"| MLflow search run | `{best.get('search_run_id') or 'n/a'}` |",
        f"| MLflow run of the best evaluation | `{best_run_id(history, best) or 'n/a'}` |",
        "",
        *_confirmation_lines(confirmation, metric, split),
        "## Evaluations, best first",
        "",
        "| datasets | score | predicted | reused | run |",
        "| --- | --- | --- | --- | --- |",
    ]
    finished = finished_rows(history)
    ranked = finished.assign(reused=_reused(finished)).sort_values("score", ascending=False, kind="stable")
    for row in ranked.itertuples():
        predicted = pd.to_numeric(pd.Series([row.predicted]), errors="coerce").iloc[0]
        lines.append(
            f"| `{row.datasets}` | {row.score:.4f} | {'' if pd.isna(predicted) else f'{predicted:.4f}'} "
            f"| {'yes' if row.reused else ''} | `{row.run_id}` |"
        )
    failed = history.loc[history.index.difference(finished.index)]
    if len(failed):
        lines += ["", "## Failed evaluations (left out of the search)", "", "| datasets | reason | run |",
                  "| --- | --- | --- |"]
        for row in failed.itertuples():
            reason = str(getattr(row, "failure_reason", "")).replace("|", "/").replace("\n", " ")[:300]
            lines.append(f"| `{row.datasets}` | {reason} | `{row.run_id}` |")
    return "\n".join(lines) + "\n"


def _confirmation_lines(confirmation: Mapping | None, metric: str, split: str) -> list[str]:
    if not confirmation:
        return []
    lines = [
        "## Confirmation against seed noise",
        "",
        f"Each row re-evaluated under seeds {confirmation['seeds']}; the pick is the best mean.",
        "",
        *([f"No baseline: {confirmation.get('baseline_reason') or 'none is feasible'}; no gain and no verdict.", ""]
          if not confirmation.get("gain_over_alone") else []),
        f"| datasets | mean {metric} on {split} | sd | n |",
        "| --- | --- | --- | --- |",
    ]
    for row in confirmation["rows"]:
        lines.append(f"| `{row['datasets']}` | {_number(row['mean'])} | {_number(row['sd'])} | {row['n']} |")
    return lines + [""]
