"""The search pipeline in real Kedro sessions with the table evaluator and a real MLflow store."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from interrupt import kill_9_when
from mlflow_runs import finished_runs
from mtlsearch.errors import ConfigError
from mtlsearch.strategies import STRATEGIES


def table_params(table, **extra):
    params = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t", "search.seed": 1}
    params.update({f"search.{k}": v for k, v in extra.items()})
    return params


# gradts and pvi need a signal table: tests/pipelines/test_relatedness_pipeline.py runs them
@pytest.mark.parametrize("strategy", sorted(set(STRATEGIES) - {"gradts", "pvi"}))
def test_every_strategy_runs_through_the_pipeline(strategy, project, run_pipeline, load, table):
    run_pipeline("search", table_params(table, strategy=strategy, budget=6, patience=None, stopping="patience"))
    history = load("search_history")
    best = load("best_combination")
    assert 1 <= len(history) <= 6
    assert history["datasets"].is_unique
    assert not history["reused"].any()
    assert list(history["order"]) == list(range(len(history)))
    landscape = pd.read_csv(table)
    truth = dict(zip(landscape["datasets"], landscape["score"]))
    for datasets, score in zip(history["datasets"], history["score"]):
        assert "t" in datasets.split("+")
        assert score == pytest.approx(truth["+".join(sorted(datasets.split("+")))])
    assert best["target"] == "t"
    assert best["score"] == pytest.approx(history["score"].max())
    assert best["datasets"] == history.loc[history["score"].idxmax(), "datasets"]
    assert best["combinations"] == 16
    predictions = load("surrogate_predictions")
    assert set(predictions.columns) >= {"datasets", "predicted"}


def test_evaluations_are_child_runs_of_the_search_run(project, run_pipeline, load, table):
    run_pipeline("search", table_params(table, budget=5))
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    best = load("best_combination")
    assert len(runs) == 5 and set(runs["status"]) == {"finished"}
    assert set(runs["parent"]) == {best["search_run_id"]}
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    parent = client.get_run(best["search_run_id"])
    assert parent.data.metrics["best_score"] == pytest.approx(best["score"])
    assert parent.data.tags["mtlsearch.target"] == "t"


def test_rerun_reuses_finished_evaluations_and_does_not_count_them(project, run_pipeline, load, table):
    run_pipeline("search", table_params(table, budget=4, patience=None, stopping="patience"))
    first = load("search_history")
    run_pipeline("search", table_params(table, budget=3, patience=None, stopping="patience"))
    second = load("search_history")
    assert second["reused"].sum() == 4 and (~second["reused"]).sum() == 3
    assert set(first["datasets"]) == set(second.loc[second["reused"], "datasets"])
    assert second["datasets"].is_unique
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(runs) == 7 and runs["datasets"].is_unique


def test_kill_9_mid_search_then_rerun_loses_and_repeats_nothing(project, table):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    params = "search.evaluator=table,search.table_path={},search.target=t,search.budget=12,search.patience=null,search.stopping=patience,search.table_delay_s=0.5".format(table)
    command = [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params]
    uri = os.environ["MLFLOW_TRACKING_URI"]
    finished_runs(uri)  # create the store first: two processes migrating one new sqlite file race
    kill_9_when(command, project, lambda: (finished_runs(uri)["status"] == "finished").sum() >= 3,
                "three evaluations finished")
    before = finished_runs(uri)
    done_before = set(before.loc[before["status"] == "finished", "datasets"])
    assert 3 <= len(done_before) < 12

    rerun = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = finished_runs(uri)
    finished = after[after["status"] == "finished"]
    # every evaluation finished before the kill is still there and none was made twice
    assert done_before <= set(finished["datasets"])
    assert finished["datasets"].is_unique
    assert f"reusing {len(done_before)} finished evaluation(s)" in rerun.stdout + rerun.stderr
    assert len(finished) == len(done_before) + 12


def multi_target_table(path, ids=("a", "b", "c", "d")):
    """Every non-empty combination of ``ids`` with a score for each member (score_<id>)."""
    from itertools import combinations

    rows = []
    for size in range(1, len(ids) + 1):
        for members in combinations(ids, size):
            row = {"datasets": "+".join(members)}
            for m in ids:
                row[f"score_{m}"] = round(0.5 + 0.03 * ids.index(m) + 0.01 * size - 0.002 * len(row), 6) if m in members else None
            rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return pd.DataFrame(rows)


def test_cross_target_reuse(project, run_pipeline, load):
    table = multi_target_table(project / "multi.csv")
    common = {"search.evaluator": "table", "search.table_path": str(project / "multi.csv"),
              "search.strategy": "exhaustive", "search.budget": 20, "search.patience": None, "search.stopping": "patience"}
    run_pipeline("search", {**common, "search.target": "a"})
    first = load("search_history")
    assert len(first) == 8 and not first["reused"].any()
    run_pipeline("search", {**common, "search.target": "b"})
    second = load("search_history")
    with_a = second["datasets"].str.split("+").map(lambda m: "a" in m)
    # the 4 combinations with a and b were evaluated for a: reused, not counted against the budget
    assert list(second.loc[second["reused"], "datasets"].sort_values()) == sorted(
        d for d in first["datasets"] if "b" in d.split("+")
    )
    assert second.loc[with_a, "reused"].all() and not second.loc[~with_a, "reused"].any()
    assert len(second) == 8
    truth = dict(zip(table["datasets"], table["score_b"]))
    for datasets, score in zip(second["datasets"], second["score"]):
        assert score == pytest.approx(truth[datasets])
    assert load("best_combination")["evaluations_reused"] == 4
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(runs) == 12 and runs["datasets"].is_unique


def test_unknown_target_is_a_clear_error(project, run_pipeline, table):
    # a table that does not hold the target: the error names the parameter, not a line
    with pytest.raises(ValueError, match=r"landscape\.csv: search\.target 'zz' is not in the table; it holds \['aux00', "):
        run_pipeline("search", {**table_params(table), "search.target": "zz"})
    # a dataset the finetune evaluator does not know
    with pytest.raises(ConfigError, match="search.candidates"):
        from mtlsearch.search.run import SearchSettings, search

        class Known:
            ids = ("a", "b")
            fingerprint = "x"

        search(SearchSettings(target="a", candidates=["zz"]), Known(), ledger=None)
