"""The MLflow UI of a search: its REST API and its experiment page, served by `mlflow server`."""

from __future__ import annotations

import json
import re
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from headless import chromium_page, free_port, keep_screenshot, served
from mtlsearch.landscape.synthetic import generate_landscape, write_table

BUDGET = 6


@contextmanager
def mlflow_server(backend_store_uri: str, log_path: Path):
    """``mlflow server`` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
    port = free_port()
    executable = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    command = [executable, "server", "--backend-store-uri", backend_store_uri, "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1"]
    base = f"http://127.0.0.1:{port}"
    with served(command, f"{base}/health", log_path):
        yield base


def get(base: str, endpoint: str, **query) -> dict:
    with urllib.request.urlopen(f"{base}{endpoint}?{urllib.parse.urlencode(query)}", timeout=30) as answer:
        return json.load(answer)


def post(base: str, endpoint: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base}{endpoint}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.fixture
def searched(project, run_pipeline, load):
    """A surrogate search over a synthetic landscape, with the table evaluator."""
    table = write_table(generate_landscape("pairwise", 4, seed=3, target="t"), project / "landscape.csv")
    run_pipeline("search", {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
                            "search.budget": BUDGET, "search.patience": None, "search.stopping": "patience", "search.seed": 1})
    return load("best_combination"), load("search_history")


def test_rest_api_has_the_search_run_and_its_evaluations(project, searched, tmp_path):
    best, history = searched
    with mlflow_server(os.environ["MLFLOW_TRACKING_URI"], tmp_path / "mlflow-server.log") as base:
        experiment = get(base, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="mtlsearch")["experiment"]
        runs = post(base, "/api/2.0/mlflow/runs/search",
                    {"experiment_ids": [experiment["experiment_id"]], "max_results": 1000})["runs"]
        artifacts = get(base, "/api/2.0/mlflow/artifacts/list", run_id=best["search_run_id"], path="report")
    by_id = {r["info"]["run_id"]: r for r in runs}
    tags = {i: {t["key"]: t["value"] for t in r["data"].get("tags", [])} for i, r in by_id.items()}
    metrics = {i: {m["key"]: m["value"] for m in r["data"].get("metrics", [])} for i, r in by_id.items()}

    parent = best["search_run_id"]
    assert by_id[parent]["info"]["run_name"] == "search t (surrogate)"
    assert metrics[parent]["best_score"] == pytest.approx(best["score"])
    assert metrics[parent]["regret"] >= 0
    assert tags[parent]["mtlsearch.kind"] == "search" and tags[parent]["mtlsearch.best"] == best["datasets"]
    assert best["datasets"] in tags[parent]["mlflow.note.content"]

    children = [i for i in by_id if tags[i].get("mlflow.parentRunId") == parent]
    assert len(children) == len(history) == BUDGET
    assert {by_id[i]["info"]["run_name"] for i in children} == set(history["datasets"])
    scores = dict(zip(history["run_id"], history["score"], strict=True))
    for child in children:
        assert by_id[child]["info"]["status"] == "FINISHED"
        assert metrics[child]["t.f1"] == pytest.approx(scores[child])
        assert tags[child]["mtlsearch.status"] == "finished"
        assert tags[child]["mtlsearch.search_run"] == parent
        members = tags[child]["mtlsearch.datasets"].split("+")
        assert all(tags[child][f"member.{m}"] == "1" for m in members)
    assert tags[parent]["mtlsearch.best_run"] in children
    assert {f["path"] for f in artifacts["files"]} >= {"report/search_progress.png", "report/search_summary.md"}


def test_experiment_page_shows_the_search_and_its_evaluations(project, searched, tmp_path):
    best, history = searched
    with mlflow_server(os.environ["MLFLOW_TRACKING_URI"], tmp_path / "mlflow-server.log") as base:
        experiment = get(base, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="mtlsearch")["experiment"]
        with chromium_page(base, tmp_path / "chromium", width=1500, height=950) as page:
            page.goto(f"{base}/#/experiments/{experiment['experiment_id']}/runs", wait_until="load")
            parent = page.get_by_role("row").filter(has_text="search t (surrogate)")
            parent.first.wait_for(timeout=90_000)
            # evaluations are child runs, folded under the search's row until it is expanded
            expect(page.get_by_text(best["datasets"], exact=True)).to_have_count(0)
            parent.first.get_by_role("button").first.click()
            for datasets in history["datasets"]:
                page.get_by_text(datasets, exact=True).first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "mlflow-experiment.png"))
    assert (tmp_path / "mlflow-experiment.png").stat().st_size > 0


def test_rest_api_has_the_convergence_curve_and_the_shared_score_keys(project, searched, tmp_path):
    best, history = searched
    with mlflow_server(os.environ["MLFLOW_TRACKING_URI"], tmp_path / "mlflow-server.log") as base:
        curve = get(base, "/api/2.0/mlflow/metrics/get-history", run_id=best["search_run_id"],
                    metric_key="best_score")["metrics"]
        child = get(base, "/api/2.0/mlflow/runs/get", run_id=history["run_id"].iloc[0])["run"]
    steps = sorted({m["step"] for m in curve})
    assert steps == list(range(1, BUDGET + 1))  # one point per evaluation
    by_step = {m["step"]: m["value"] for m in curve if m["step"] < BUDGET}
    assert list(by_step.values()) == sorted(by_step.values())  # the best so far never falls
    metrics = {m["key"]: m["value"] for m in child["data"]["metrics"]}
    params = {p["key"]: p["value"] for p in child["data"]["params"]}
    assert metrics["score"] == pytest.approx(history["score"].iloc[0]) == metrics["score.t"]
    assert {params[f"member.{c}"] for c in best["candidates"]} <= {"0", "1"}


def test_run_page_draws_the_convergence_and_the_runs_table_shows_score(project, searched, tmp_path):
    best, history = searched
    with mlflow_server(os.environ["MLFLOW_TRACKING_URI"], tmp_path / "mlflow-server.log") as base:
        experiment = get(base, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="mtlsearch")["experiment"]
        with chromium_page(base, tmp_path / "chromium", width=1500, height=950) as page:
            page.goto(f"{base}/#/experiments/{experiment['experiment_id']}/runs/{best['search_run_id']}/model-metrics",
                      wait_until="load")
            page.get_by_text("best_score").first.wait_for(timeout=90_000)
            # the charts are plotly graphs: the convergence curve has a point per evaluation
            page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                                   f".some(p => (p.data || []).some(t => (t.x || []).length >= {BUDGET}))",
                                   timeout=60_000)
            page.goto(f"{base}/#/experiments/{experiment['experiment_id']}/runs", wait_until="load")
            page.get_by_role("row").filter(has_text="search t (surrogate)").first.wait_for(timeout=90_000)
            # the runs table filters on the key every evaluation run shares, whatever its target
            box = page.get_by_placeholder(re.compile("metrics"))
            box.fill(f"metrics.score >= {history['score'].max() - 1e-6:.6f}")
            box.press("Enter")
            page.get_by_text("2 matching runs").first.wait_for(timeout=60_000)
            page.get_by_role("row").filter(has_text="search t (surrogate)").first.get_by_role("button").first.click()
            page.get_by_text(best["best_observed"]["datasets"], exact=True).first.wait_for(timeout=60_000)
            # the search's row stays as the group of its child; the other evaluations are gone
            others = history.loc[history["score"] < history["score"].max() - 1e-6, "datasets"]
            for datasets in others:
                expect(page.get_by_text(datasets, exact=True)).to_have_count(0, timeout=30_000)
            page.screenshot(path=str(tmp_path / "mlflow-runs.png"))
    assert (tmp_path / "mlflow-runs.png").stat().st_size > 0


def test_searches_of_several_strategies_compare_side_by_side(project, run_pipeline, tmp_path):
    table = write_table(generate_landscape("pairwise", 5, seed=4, target="t"), project / "landscape.csv")
    common = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
              "search.budget": 10, "search.patience": None, "search.stopping": "patience", "search.reuse": False}
    for strategy in ("surrogate", "greedy", "random"):
        run_pipeline("search", {**common, "search.strategy": strategy})
    with mlflow_server(os.environ["MLFLOW_TRACKING_URI"], tmp_path / "mlflow-server.log") as base:
        experiment = get(base, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="mtlsearch")["experiment"]
        with chromium_page(base, tmp_path / "chromium", width=1500, height=950) as page:
            query = urllib.parse.quote("tags.`mtlsearch.kind` = 'search'")
            page.goto(f"{base}/#/experiments/{experiment['experiment_id']}/runs?compareRunsMode=CHART"
                      f"&searchFilter={query}", wait_until="load")
            page.get_by_text("best_score").first.wait_for(timeout=90_000)
            # one curve per search on the best_score chart, each with a point per evaluation
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(p => "
                "(p.data || []).filter(t => (t.x || []).length >= 10).length >= 3)", timeout=60_000)
            for strategy in ("surrogate", "greedy", "random"):
                page.get_by_text(f"search t ({strategy})").first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "mlflow-comparison.png"))
    keep_screenshot(tmp_path / "mlflow-comparison.png")
