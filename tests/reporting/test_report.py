"""The report of a search: the reporting functions, and the report nodes at the end of `search`."""

from __future__ import annotations

import os
from itertools import combinations

import mlflow
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mtlsearch.reporting import report as reporting
from mtlsearch.landscape.synthetic import generate_landscape, write_table
from mtlsearch.search.loop import Evaluation

FIGURES = ("search_progress.png", "surrogate_fit.png", "auxiliary_effects.png", "transfer_heatmap.png",
           "search_comparison.png")


def history_frame(rows):
    """A search_history table as the search writes it, from (datasets, score, predicted, reused)."""
    return pd.DataFrame(
        [
            {"order": i, "iteration": 0 if reused else i, "datasets": d, "size": d.count("+") + 1, "score": s,
             "predicted": p, "reused": reused, "run_id": f"run{i}", "member_scores": ""}
            for i, (d, s, p, reused) in enumerate(rows)
        ]
    )


def test_progress_counts_only_new_evaluations_and_starts_from_reused_ones():
    history = history_frame([
        ("a+t", 0.60, None, True),
        ("t", 0.55, None, True),
        ("b+t", 0.58, 0.61, False),
        ("a+b+t", 0.70, 0.62, False),
        ("c+t", 0.65, 0.66, False),
    ])
    table = reporting.progress_table(history)
    assert list(table["evaluation"]) == [0, 0, 1, 2, 3]
    assert list(table["best_so_far"]) == [0.60, 0.60, 0.60, 0.70, 0.70]


def test_progress_figure_draws_the_optimum_and_the_best_so_far():
    history = history_frame([("t", 0.5, None, False), ("a+t", 0.6, 0.55, False), ("b+t", 0.55, 0.6, False)])
    figure = reporting.search_progress_figure(history, optimum=0.75, target="t", metric="f1")
    assert isinstance(figure, Figure)
    axes = figure.axes[0]
    flat = [line for line in axes.get_lines() if len(set(line.get_ydata())) == 1]
    assert [0.75] == [line.get_ydata()[0] for line in flat]
    best = next(line for line in axes.get_lines() if line.get_label() == "best so far")
    assert list(best.get_ydata()) == [0.5, 0.6, 0.6]


def test_exhaustive_optimum_is_the_best_row_within_the_searched_candidates(tmp_path):
    landscape = generate_landscape("pairwise", 4, seed=3, target="t")
    path = write_table(landscape, tmp_path / "landscape.csv")
    best = {"target": "t", "candidates": ["aux00", "aux02"]}
    datasets, score = reporting.exhaustive_optimum({"evaluator": "table", "table_path": str(path)}, best)
    allowed = landscape[landscape["datasets"].map(lambda d: set(d.split("+")) <= {"t", "aux00", "aux02"})]
    assert score == pytest.approx(allowed["score"].max())
    assert "+".join(datasets) == allowed.loc[allowed["score"].idxmax(), "datasets"]
    assert reporting.exhaustive_optimum({"evaluator": "finetune"}, best) is None
    from mtlsearch.evaluation.table import TableEvaluator

    fingerprint = TableEvaluator(path, "t").fingerprint
    assert reporting.exhaustive_optimum({"evaluator": "table", "table_path": str(path)},
                                        {**best, "fingerprint": fingerprint})[1] == pytest.approx(score)
    assert reporting.exhaustive_optimum({"evaluator": "table", "table_path": str(path), "table_noise": 0.01},
                                        {**best, "fingerprint": fingerprint}) is None


def test_surrogate_fit_keeps_evaluated_combinations_with_a_prediction():
    history = history_frame([("t", 0.5, None, False), ("a+t", 0.6, 0.58, False), ("b+t", 0.55, None, True)])
    predictions = pd.DataFrame({"datasets": ["a+t", "t", "a+b+t"], "predicted": [0.59, 0.51, 0.7],
                                "evaluated": [True, True, False]})
    table = reporting.surrogate_fit_table(history, predictions)
    assert list(table["datasets"]) == ["t", "a+t"]
    assert table.set_index("datasets").loc["a+t", "predicted_before"] == 0.58
    assert table.set_index("datasets").loc["t", "predicted_final"] == 0.51
    empty = reporting.surrogate_fit_table(history_frame([("t", 0.5, None, False)]), predictions.iloc[:0])
    assert empty.empty
    assert isinstance(reporting.surrogate_fit_figure(history_frame([("t", 0.5, None, False)]), None), Figure)


def test_auxiliary_effects_compare_means_with_and_without():
    history = history_frame([("t", 0.50, None, False), ("a+t", 0.60, None, False), ("b+t", 0.40, None, False),
                             ("a+b+t", 0.56, None, False)])
    effects = reporting.auxiliary_effects(history, "t", ["a", "b", "c"]).set_index("auxiliary")
    assert effects.loc["a", "with_mean"] == pytest.approx(0.58)
    assert effects.loc["a", "without_mean"] == pytest.approx(0.45)
    assert effects.loc["a", "effect"] == pytest.approx(0.13)
    assert effects.loc["b", "effect"] == pytest.approx(0.48 - 0.55)
    assert effects.loc["a", "with_std"] == pytest.approx(0.02)
    assert effects.loc["c", "with_n"] == 0 and np.isnan(effects.loc["c", "effect"])
    figure = reporting.auxiliary_effect_figure(history, "t", ["a", "b", "c"])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["a\n(2/2)", "b\n(2/2)", "c\n(0/4)"]


def test_transfer_matrix_from_ledger_evaluations():
    ids = ("a", "b", "c")
    truth = {"a": 0.5, "b": 0.6, "c": 0.7}
    # b helps a by 0.1, c hurts a by 0.05; a helps b by 0.02; c is never scored alone
    effect = {("a", "b"): 0.1, ("a", "c"): -0.05, ("b", "a"): 0.02}
    evaluations = []
    for size in range(1, 4):
        for members in combinations(ids, size):
            if members == ("c",):
                continue
            scores = {m: truth[m] + sum(effect.get((m, o), 0.0) for o in members) for m in members}
            evaluations.append(Evaluation(datasets=members, scores=scores, run_id="+".join(members)))
    scores = reporting.ledger_scores(evaluations)
    assert len(scores) == sum(len(e.scores) for e in evaluations)
    matrix = reporting.transfer_matrix(scores)
    # a with b: (a+b, a+b+c) = (0.6, 0.55) -> mean 0.575 - alone 0.5
    assert matrix.loc["a", "b"] == pytest.approx(0.075)
    assert matrix.loc["a", "c"] == pytest.approx((0.45 + 0.55) / 2 - 0.5)
    assert matrix.loc["b", "a"] == pytest.approx(0.02)
    assert np.isnan(matrix.loc["a", "a"])
    # c alone was never evaluated: its baseline is its mean without the auxiliary
    assert matrix.loc["c", "a"] == pytest.approx(0.0)
    figure = reporting.transfer_heatmap_figure(matrix, "f1")
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["a", "b", "c"]


def test_summary_names_the_best_the_cost_and_the_runs():
    history = history_frame([("t", 0.5, None, False), ("a+t", 0.6, 0.58, False)])
    best = {"target": "t", "datasets": "a+t", "score": 0.6, "target_alone_score": 0.5, "metric": "f1",
            "strategy": "greedy", "evaluations_new": 2, "evaluations_reused": 0, "candidates": ["a", "b"],
            "combinations": 4, "stop_reason": "budget", "fingerprint": "abc", "search_run_id": "parent"}
    text = reporting.search_summary(best, history, (("a", "b", "t"), 0.65))
    assert "**Best combination:** `a+t`" in text
    assert "| gain over alone | +0.1000 |" in text
    assert "2 of 2^2 = 4 combinations (50%)" in text
    assert "| regret | 0.0500 |" in text
    assert "`parent`" in text and "| MLflow run of the best evaluation | `run1` |" in text


def latest(project, name):
    """The file of the latest version of a versioned dataset under data/08_reporting."""
    versions = sorted((project / "data" / "08_reporting" / name).iterdir())
    return versions[-1] / name


def test_search_ends_with_its_report(project, run_pipeline, load, table):
    params = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
              "search.strategy": "exhaustive", "search.budget": 16, "search.patience": None, "search.stopping": "patience"}
    run_pipeline("search", params)
    best = load("best_combination")
    history = load("search_history")
    landscape = pd.read_csv(table)
    for name in FIGURES:
        assert latest(project, name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    summary = load("search_summary")
    assert f"**Best combination:** `{best['datasets']}`" in summary
    assert f"| exhaustive optimum | {landscape['score'].max():.4f}" in summary
    assert "16 of 2^4 = 16 combinations (100%)" in summary
    ledger = load("ledger_scores")
    assert len(ledger) == 16 and set(ledger["member"]) == {"t"}

    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    parent = client.get_run(best["search_run_id"])
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "report")}
    assert artifacts == {f"report/{n}" for n in (*FIGURES, "search_summary.md")}
    assert parent.data.metrics["regret"] == pytest.approx(0.0)
    assert parent.data.metrics["gain_over_alone"] == pytest.approx(best["score"] - best["target_alone_score"])
    assert parent.data.tags["mlflow.note.content"] == summary
    best_row = history.loc[history["datasets"] == best["datasets"]].iloc[0]
    assert parent.data.tags["mtlsearch.best_run"] == best_row["run_id"]
    assert parent.info.run_name == "search t (exhaustive)"

    # the report alone, with the default parameters, redraws from the search's outputs and the
    # settings it ran with: the same summary (optimum and regret included), as a new version,
    # and the search run keeps what it had
    first = latest(project, "search_summary.md").parent.name
    run_pipeline("report")
    assert latest(project, "search_summary.md").parent.name > first
    assert load("search_summary") == summary
    parent = client.get_run(best["search_run_id"])
    assert parent.data.tags["mlflow.note.content"] == summary
    assert parent.data.metrics["regret"] == pytest.approx(0.0)
    # parameters that name another table do not change what the search used
    other = write_table(generate_landscape("additive", 4, seed=5, target="t"), project / "other.csv")
    run_pipeline("report", {**params, "search.table_path": str(other)})
    assert load("search_summary") == summary


def test_the_comparison_draws_every_search_of_the_target(project, run_pipeline, load, table):
    common = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
              "search.budget": 6, "search.patience": None, "search.stopping": "patience", "search.reuse": False}
    run_pipeline("search", {**common, "search.strategy": "greedy"})
    run_pipeline("search", {**common, "search.strategy": "random"})
    curves = load("search_curves")
    best = load("best_combination")
    assert curves["run_id"].nunique() == 2 and set(curves["strategy"]) == {"greedy", "random"}
    for _, curve in curves.groupby("run_id"):
        assert list(curve["step"]) == list(range(1, len(curve) + 1))
        assert curve["best_score"].is_monotonic_increasing
    mine = curves[curves["run_id"] == best["search_run_id"]]
    assert mine["best_score"].iloc[-1] == pytest.approx(load("search_history")["score"].max())
    assert latest(project, "search_comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def multi_target_table(path, ids=("a", "b", "c")):
    """Every non-empty combination with each member's score: b helps a, a hurts c."""
    rows = []
    for size in range(1, len(ids) + 1):
        for members in combinations(ids, size):
            row = {"datasets": "+".join(members)}
            for m in ids:
                bonus = 0.05 if (m == "a" and "b" in members) else -0.03 if (m == "c" and "a" in members) else 0.0
                row[f"score_{m}"] = 0.5 + 0.1 * ids.index(m) + bonus if m in members else None
            rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)


def test_transfer_heatmap_reads_every_target_from_the_ledger(project, run_pipeline, load):
    multi_target_table(project / "multi.csv")
    common = {"search.evaluator": "table", "search.table_path": str(project / "multi.csv"),
              "search.strategy": "exhaustive", "search.budget": 10, "search.patience": None, "search.stopping": "patience"}
    run_pipeline("search", {**common, "search.target": "a"})
    run_pipeline("search", {**common, "search.target": "c"})
    ledger = load("ledger_scores")
    # the second search read the first one's evaluations too: every combination with a or c
    assert set(ledger["datasets"]) == {"a", "a+b", "a+c", "a+b+c", "c", "b+c"}
    matrix = reporting.transfer_matrix(ledger)
    assert matrix.loc["a", "b"] == pytest.approx(0.05)
    assert matrix.loc["c", "a"] == pytest.approx(-0.03)
    assert matrix.loc["c", "b"] == pytest.approx(-0.015)
    assert latest(project, "transfer_heatmap.png").stat().st_size > 0
