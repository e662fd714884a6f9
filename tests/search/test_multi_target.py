"""Several targets at once (search.targets, search.target_weights): one model serving them all,
the weighted mean of their scores maximised, through the search pipeline in real Kedro sessions."""

from __future__ import annotations

import os

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow_runs import finished_runs

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.search.loop import Objective
from mtlsearch.search.run import SearchSettings

# Every combination holds both targets a and b. The best for a alone is a+b+c, for b alone
# a+b+e, for their mean a+b+d; with a weighing 9 to b's 1 it is a+b+c.
SCORES = {
    "a+b": (0.50, 0.50),
    "a+b+c": (0.70, 0.40),
    "a+b+d": (0.58, 0.62),
    "a+b+e": (0.40, 0.70),
    "a+b+c+d": (0.60, 0.52),
    "a+b+c+e": (0.50, 0.50),
    "a+b+d+e": (0.52, 0.60),
    "a+b+c+d+e": (0.55, 0.55),
}


def write_scores(path):
    """The table format with a ``score_<member>`` column per member (mtlsearch.evaluation.table)."""
    rows = []
    for datasets, (a, b) in SCORES.items():
        members = datasets.split("+")
        rows.append({"datasets": datasets, "score_a": a, "score_b": b,
                     **{f"score_{m}": (0.3 if m in members else None) for m in ("c", "d", "e")}})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def weighted(datasets: str, weights=(1.0, 1.0)) -> float:
    a, b = SCORES[datasets]
    return (weights[0] * a + weights[1] * b) / sum(weights)


@pytest.fixture
def scores_table(project):
    return write_scores(project / "two_targets.csv")


def params(table, **extra):
    # conf/base names one target; with targets it is null
    out = {"search.evaluator": "table", "search.table_path": str(table), "search.target": None,
           "search.targets": "a+b", "search.strategy": "exhaustive", "search.budget": 20, "search.patience": None,
           "search.stopping": "patience"}
    out.update({f"search.{k}": v for k, v in extra.items()})
    return out


def test_the_search_maximises_the_weighted_mean_of_the_targets(project, run_pipeline, load, scores_table):
    run_pipeline("search", params(scores_table))
    best = load("best_combination")
    history = load("search_history")
    assert best["target"] == "a+b" and best["targets"] == ["a", "b"] and best["target_weights"] == [0.5, 0.5]
    assert best["datasets"] == "a+b+d" and best["score"] == pytest.approx(0.60)
    assert best["baseline"] == "a+b" and best["target_alone_score"] == pytest.approx(0.50)
    assert best["combinations"] == 8
    # every combination holds both targets; the score column is the objective, members kept apart
    assert sorted(history["datasets"]) == sorted(SCORES)
    for row in history.itertuples():
        assert row.score == pytest.approx(weighted(row.datasets))
        a, b = SCORES[row.datasets]
        assert f"a={a:.4f}" in row.member_scores and f"b={b:.4f}" in row.member_scores

    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    parent = client.get_run(best["search_run_id"])
    assert parent.data.tags["mtlsearch.target"] == "a+b"
    assert parent.data.tags["mtlsearch.objective"] == "weighted mean of a (0.5), b (0.5)"
    assert parent.data.metrics["best_score"] == pytest.approx(0.60)
    curve = [m.value for m in client.get_metric_history(parent.info.run_id, "evaluation_score")]
    assert sorted(curve) == pytest.approx(sorted(weighted(d) for d in SCORES))
    study = optuna.load_study(study_name=parent.data.tags["mtlsearch.optuna_study"],
                              storage=parent.data.tags["mtlsearch.optuna_storage"])
    assert len(study.trials) == 8 and study.best_value == pytest.approx(0.60)
    assert study.best_trial.params == {"c": 0, "d": 1, "e": 0}

    summary = load("search_summary")
    assert "# Search for a+b" in summary
    assert "| targets (one model for all) | a (weight 0.5), b (weight 0.5) |" in summary
    assert "| exhaustive optimum | 0.6000 (`a+b+d`) |" in summary and "| regret | 0.0000 |" in summary
    assert "| a+b alone on table | 0.5000 |" in summary  # the targets alone: the baseline

    # other weights, the same store: every evaluation is reused (each holds both targets' scores),
    # none is made again, and the pick follows the new objective
    run_pipeline("search", params(scores_table, target_weights="9+1"))
    best = load("best_combination")
    history = load("search_history")
    assert history["reused"].all() and len(history) == 8
    assert best["datasets"] == "a+b+c" and best["score"] == pytest.approx(0.67)
    assert best["target_weights"] == pytest.approx([0.9, 0.1])
    for row in history.itertuples():
        assert row.score == pytest.approx(weighted(row.datasets, (9, 1)))
    assert len(finished_runs(os.environ["MLFLOW_TRACKING_URI"])) == 8
    assert "| exhaustive optimum | 0.6700 (`a+b+c`) |" in load("search_summary")


def test_the_confirmation_is_paired_over_seeds_on_the_objective(project, run_pipeline, load, scores_table):
    noise = 0.01
    run_pipeline("search", params(scores_table, table_noise=noise, confirm={"top_k": 2, "seeds": 2},
                                  target_weights=[3, 1]))
    best = load("best_combination")
    confirmation = best["confirmation"]
    assert confirmation["seeds"] == [0, 1, 2]
    objective = Objective(("a", "b"), (3, 1))

    def observed(datasets: str, seed: int) -> float:
        # the table's noisy look-up under that seed: what each evaluation of the search saw
        return objective(TableEvaluator(scores_table, "a", noise, 0.0, seed).evaluate(datasets.split("+")))

    rows = {r["datasets"]: r for r in confirmation["rows"]}
    assert "a+b" in rows and len(rows) == 3 and confirmation["baseline"] == "a+b"
    for datasets, row in rows.items():
        values = [observed(datasets, s) for s in (0, 1, 2)]
        assert row["n"] == 3
        assert row["mean"] == pytest.approx(np.mean(values))
        assert row["sd"] == pytest.approx(np.std(values, ddof=1))
    pick = max(rows, key=lambda d: rows[d]["mean"])
    assert best["datasets"] == pick and best["score"] == pytest.approx(rows[pick]["mean"])
    gains = [observed(pick, s) - observed("a+b", s) for s in (0, 1, 2)]
    assert confirmation["gain_over_alone"]["mean"] == pytest.approx(np.mean(gains))
    assert confirmation["gain_over_alone"]["ci_low"] < np.mean(gains) < confirmation["gain_over_alone"]["ci_high"]
    assert confirmation["verdict"] in ("helps", "no detectable gain", "hurts")
    # the confirmation's evaluations hold both targets too
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(runs) == 8 + 3 * 2
    assert all({"a", "b"} <= set(d.split("+")) for d in runs["datasets"])


def test_targets_parameters_are_checked():
    settings = SearchSettings.from_params({"targets": "a+b", "target_weights": "2+1"})
    assert settings.target == "a+b" and settings.targets == ["a", "b"] and settings.target_weights == [2.0, 1.0]
    assert settings.objective({"a": 0.6, "b": 0.3, "c": 0.0}) == pytest.approx(0.5)
    assert SearchSettings.from_params({"target": "b+a", "targets": "a+b"}).target == "a+b"
    # the one-target form is what it was
    one = SearchSettings.from_params({"target": "t"})
    assert one.targets == ["t"] and one.objective.name == "t" and one.objective({"t": 0.25, "a": 1.0}) == 0.25
    for bad, message in [
        ({"target": "t", "targets": "a+b"}, "search.target: 't' disagrees with search.targets 'a+b'"),
        ({"targets": "a+b", "target_weights": "1"}, "search.target_weights: expected 2 positive number"),
        ({"targets": "a+b", "target_weights": "1+0"}, "search.target_weights: expected a positive number"),
        ({"targets": "a+b", "target_weights": "1+x"}, "search.target_weights: expected positive numbers"),
        ({"targets": "a+a"}, "search.targets: expected distinct dataset ids"),
        ({"targets": "a+b", "candidates": "b+c"}, "search.candidates: expected auxiliary ids other than the target 'b'"),
        ({"targets": "a+b", "required": "a"}, "search.required: expected auxiliary ids other than the target 'a'"),
        ({"target": "a+b"}, "search.target: expected one dataset id; name several targets with search.targets"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("+", r"\+")):
            SearchSettings.from_params(bad)


def test_a_target_the_table_lacks_is_an_error_before_any_run(project, run_pipeline, scores_table):
    with pytest.raises(ConfigError, match=r"search.targets 'z' is not among the evaluator's datasets"):
        run_pipeline("search", params(scores_table, targets="a+z"))
    assert finished_runs(os.environ["MLFLOW_TRACKING_URI"]).empty
