"""Failed evaluations in real Kedro sessions on a real MLflow store: data points, not crashes."""

from __future__ import annotations

import os

import mlflow
import pandas as pd
import pytest

from mlflow_runs import finished_runs
from mtlsearch.landscape.synthetic import generate_landscape, write_table


@pytest.fixture
def holed_table(project):
    """A table of t with aux00..aux03 that lacks the 4 combinations holding aux00 and aux01."""
    path = project / "holed.csv"
    write_table(generate_landscape("pairwise", 4, seed=3, target="t"), path)
    frame = pd.read_csv(path)
    both = frame["datasets"].str.split("+").map(lambda m: {"aux00", "aux01"} <= set(m))
    frame[~both].to_csv(path, index=False)
    return path


def params(table, **extra):
    return {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
            "search.strategy": "exhaustive", "search.budget": 16, "search.patience": None,
            "search.stopping": "patience", **{f"search.{k}": v for k, v in extra.items()}}


def failed_runs(uri):
    runs = finished_runs(uri)
    return runs[runs["status"] == "failed"]


def test_a_missing_combination_is_a_failed_run_and_a_history_row(project, run_pipeline, load, holed_table):
    run_pipeline("search", params(holed_table, max_failures=16))
    history = load("search_history")
    failed = history[history["status"] == "failed"]
    assert len(failed) == 4 and len(history) == 16
    assert all({"aux00", "aux01"} <= set(d.split("+")) for d in failed["datasets"])
    assert failed["score"].isna().all()
    assert failed["failure_reason"].str.contains("no row for the combination").all()
    best = load("best_combination")
    assert best["evaluations_new"] == 12 and best["evaluations_failed"] == 4
    uri = os.environ["MLFLOW_TRACKING_URI"]
    runs = failed_runs(uri)
    assert sorted(runs["datasets"]) == sorted(failed["datasets"])
    client = mlflow.MlflowClient(uri)
    for run_id in runs["run_id"]:
        run = client.get_run(run_id)
        assert run.info.status == "FAILED"
        assert "no row for the combination" in run.data.tags["failure_reason"]
        assert run.data.tags["mlflow.parentRunId"] == best["search_run_id"]
    assert "Failed evaluations" in load("search_summary")


def test_a_rerun_does_not_retry_failures_unless_asked(project, run_pipeline, load, holed_table):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    run_pipeline("search", params(holed_table, max_failures=16))
    run_pipeline("search", params(holed_table, max_failures=16))
    history = load("search_history")
    assert history["reused"].all() and len(history) == 16
    assert len(failed_runs(uri)) == 4  # no new failed run: nothing was retried
    run_pipeline("search", params(holed_table, max_failures=16, retry_failed=True))
    assert len(failed_runs(uri)) == 8
    assert (finished_runs(uri)["status"] == "finished").sum() == 12


def test_too_many_failures_in_a_row_fail_the_search_with_the_list(project, run_pipeline, holed_table):
    # with max_failures 0 the first failure (exhaustive order: aux00+aux01+t) ends the search
    with pytest.raises(Exception, match=r"1 evaluations in a row failed \(search\.max_failures is 0\): aux00\+aux01\+t"):
        run_pipeline("search", params(holed_table, max_failures=0, strategy="exhaustive"))
