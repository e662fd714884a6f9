"""Evaluations as Ray tasks on a local Ray cluster: the same ledger semantics as in process,
and a worker killed mid-evaluation loses and repeats nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest


from mlflow_runs import finished_runs


def all_runs(uri):
    import mlflow

    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    return client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'evaluation'", max_results=1000)


def params(table, **extra):
    values = {
        "search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
        "search.strategy": "exhaustive", "search.budget": 8, "search.patience": None, "search.stopping": "patience",
        "search.ray": {"local_num_cpus": 2, "num_cpus": 1, "max_retries": 2},
    }
    values.update({f"search.{k}": v for k, v in extra.items()})
    return values


def test_ray_search_has_the_same_ledger_semantics_as_local(project, run_pipeline, load, table):
    run_pipeline("search", params(table, executor="ray", batch_size=4, table_delay_s=0.2))
    ray_history = load("search_history")
    best = load("best_combination")
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(ray_history) == 8 and ray_history["datasets"].is_unique
    assert len(runs) == 8 and runs["datasets"].is_unique
    # evaluations made on workers still nest under the search's run
    assert set(runs["parent"]) == {best["search_run_id"]}
    # the same search in process evaluates the same combinations (exhaustive order, same budget)
    os.environ["MLFLOW_TRACKING_URI"] = os.environ["MLFLOW_TRACKING_URI"].replace("mlflow.db", "local.db")
    run_pipeline("search", params(table, executor="local", batch_size=4))
    local_history = load("search_history")
    assert set(local_history["datasets"]) == set(ray_history["datasets"])
    assert dict(zip(local_history["datasets"], local_history["score"])) == pytest.approx(
        dict(zip(ray_history["datasets"], ray_history["score"]))
    )
    # a rerun on Ray reuses everything and evaluates only new combinations
    os.environ["MLFLOW_TRACKING_URI"] = os.environ["MLFLOW_TRACKING_URI"].replace("local.db", "mlflow.db")
    run_pipeline("search", params(table, executor="ray", batch_size=4, budget=4))
    again = load("search_history")
    assert again["reused"].sum() == 8 and (~again["reused"]).sum() == 4
    assert again["datasets"].is_unique


def test_worker_killed_mid_evaluation_loses_and_repeats_nothing(project, run_pipeline, load, table):
    killed = []

    def kill_one_worker():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not killed:
            for proc in psutil.process_iter(["pid", "cmdline"]):
                cmdline = " ".join(proc.info["cmdline"] or [])
                if cmdline.startswith("ray::_call"):  # a worker executing an evaluation
                    time.sleep(0.5)  # well inside its look-up delay
                    os.kill(proc.info["pid"], signal.SIGKILL)
                    killed.append(proc.info["pid"])
                    return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    run_pipeline("search", params(table, executor="ray", batch_size=2, table_delay_s=2.0, budget=4))
    killer.join(timeout=5)
    assert killed, "no worker was seen executing an evaluation"
    history = load("search_history")
    assert len(history) == 4 and history["datasets"].is_unique
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    finished = runs[runs["status"] == "finished"]
    assert len(finished) == 4 and finished["datasets"].is_unique
    assert set(finished["datasets"]) == set(history["datasets"])


def test_tiny_real_finetune_on_ray(tiny_project, run_pipeline, load):
    run_pipeline(
        "search",
        {
            "search.target": "healthadvice", "search.strategy": "exhaustive", "search.budget": 2,
            "search.batch_size": 2, "search.executor": "ray",
            "search.ray": {"local_num_cpus": 2, "num_cpus": 1, "max_retries": 1},
        },
    )
    history = load("search_history")
    assert set(history["datasets"]) == {"healthadvice", "bc2gm+healthadvice"}
    runs = all_runs(os.environ["MLFLOW_TRACKING_URI"])
    # the two combinations, then both again under each of the two confirmation seeds, on Ray too
    assert len(runs) == 2 + 2 * 2
    assert {r.data.tags["mtlsearch.status"] for r in runs} == {"finished"}
    confirmation = load("best_combination")["confirmation"]
    assert confirmation["seeds"] == [0, 1, 2] and {r["n"] for r in confirmation["rows"]} == {3}
    assert all("healthadvice.f1" in r.data.metrics for r in runs)
