"""Many processes on one MLflow store: runs left RUNNING by dead processes, runs killed while
writing, two searches at once on a store that does not exist yet."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import mlflow
import pytest

from interrupt import kill_9_when
from mlflow_runs import finished_runs
from mtlsearch import tracking


def search_command(table, **extra):
    params = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
              "search.strategy": "exhaustive", "search.budget": 16, "search.patience": "null",
              "search.stopping": "patience", "search.table_delay_s": 0.3, **extra}
    return [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params",
            ",".join(f"{k}={v}" for k, v in params.items())]


def runs_of(uri, kind):
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    return client.search_runs([experiment.experiment_id], f"tags.`mtlsearch.kind` = '{kind}'", max_results=1000)


def test_a_rerun_marks_what_a_killed_search_left_running_as_killed(project, table):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    command = search_command(table)
    kill_9_when(command, project, lambda: (finished_runs(uri)["status"] == "finished").sum() >= 3,
                "three evaluations finished")
    [killed] = runs_of(uri, "search")
    assert killed.info.status == "RUNNING"  # what kill -9 leaves behind
    rerun = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    client = mlflow.MlflowClient(uri)
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    evaluations = runs_of(uri, "evaluation")
    assert {r.info.status for r in evaluations} <= {"FINISHED", "KILLED"}
    assert not [r for r in evaluations if r.info.status == "KILLED" and r.data.tags.get("mtlsearch.status")]
    assert "marked" in rerun.stdout + rerun.stderr


def test_a_live_search_is_never_marked_killed(project):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("mtlsearch")  # not the active experiment of an earlier test's store
    with tracking.SearchRun("search t", {tracking.TARGET: "t"}) as live:
        # a run of another machine with a fresh heartbeat, and one whose heartbeat stopped
        client = mlflow.MlflowClient(uri)
        other = client.create_run(live.experiment_id, tags={tracking.HOST: "elsewhere", tracking.PID: "1",
                                                           tracking.HEARTBEAT: f"{time.time():.0f}"})
        stale = client.create_run(live.experiment_id, tags={tracking.HOST: "elsewhere", tracking.PID: "1",
                                                           tracking.HEARTBEAT: f"{time.time() - 3600:.0f}"})
        child = client.create_run(live.experiment_id, tags={tracking.PARENT_RUN: stale.info.run_id})
        assert tracking.reap_orphans(live.experiment_id) == 2
        assert client.get_run(live.run_id).info.status == "RUNNING"
        assert client.get_run(other.info.run_id).info.status == "RUNNING"
        assert client.get_run(stale.info.run_id).info.status == "KILLED"
        assert client.get_run(child.info.run_id).info.status == "KILLED"


def test_an_evaluation_killed_while_writing_shows_no_score(project):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    mlflow.set_tracking_uri(uri)

    class DiesWhileSaved:
        peft_config = {}

        def save_pretrained(self, path):
            raise KeyboardInterrupt  # the process dies while the adapter is written

    run_id = tracking.start_evaluation(("a", "t"), "fp", {"combination": "a+t"}, experiment=tracking.experiment_id())
    metrics = {"dev": {"t": {"f1": 0.634}, "a": {"f1": 0.5}}, "test": {"t": {"f1": 0.6}}}
    with pytest.raises(KeyboardInterrupt):
        tracking.finish_evaluation(run_id, metrics, "dev", adapter=DiesWhileSaved())
    run = mlflow.MlflowClient(uri).get_run(run_id)
    assert run.data.metrics == {} and "mtlsearch.status" not in run.data.tags
    tracking.finish_evaluation(run_id, metrics, "dev")
    run = mlflow.MlflowClient(uri).get_run(run_id)
    assert run.data.metrics["t.f1"] == pytest.approx(0.634) and run.data.tags["mtlsearch.status"] == "finished"


def test_two_searches_at_once_on_a_new_store_evaluate_nothing_twice(project, table):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    assert not os.path.exists(uri[len("sqlite:///"):])  # the store does not exist yet
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    # a third client polls the store from the start, as `mlflow ui` does
    poller = subprocess.Popen(
        [sys.executable, "-c",
         "import time, mlflow\n"
         f"c = mlflow.MlflowClient({uri!r})\n"
         "end = time.time() + 60\n"
         "while time.time() < end:\n"
         "    try:\n        c.search_experiments()\n    except Exception:\n        pass\n"
         "    time.sleep(0.05)\n"],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    searches = [subprocess.Popen(search_command(table), cwd=project, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [s.communicate(timeout=600)[0] for s in searches]
    poller.kill()
    for search, output in zip(searches, outputs):
        assert search.returncode == 0, output[-4000:]
    runs = finished_runs(uri)
    finished = runs[runs["status"] == "finished"]
    assert len(finished) == 16 and finished["datasets"].is_unique  # every combination once
    parents = set(finished["parent"])
    assert len(parents) <= 2
    # both searches know all 16 combinations: each got every score, from its own run or the other's
    for output in outputs:
        assert "search stopped" in output
    assert sum("waiting for it" in o for o in outputs) >= 1 or len(parents) == 1
