"""kedro-viz: the static site `kedro viz build` makes holds every pipeline and renders offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from headless import chromium_page, serve_directory

PIPELINES = ("ingestion", "formatting", "finetune", "scoring", "evaluate", "search", "report")
REPORT_OUTPUTS = ("search_progress_plot", "surrogate_fit_plot", "auxiliary_effect_plot", "transfer_heatmap",
                  "search_summary", "ledger_scores", "search_curves", "search_comparison_plot")


@pytest.fixture
def viz_build(project):
    """The static site of the project copy, built offline."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build"], cwd=project, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    build = project / "build"
    assert (build / "index.html").is_file()
    return build


def tasks_between(exported: dict, source: str, sink: str) -> int:
    """The most task nodes on a path from dataset ``source`` to dataset ``sink`` in an exported graph."""
    ids = {n["name"]: n["id"] for n in exported["nodes"] if n["type"] == "data"}
    kinds = {n["id"]: n["type"] for n in exported["nodes"]}
    following: dict[str, list[str]] = {}
    for edge in exported["edges"]:
        following.setdefault(edge["source"], []).append(edge["target"])
    memo: dict[str, int] = {}

    def longest(node: str) -> int:  # -1: sink not reachable
        if node == ids[sink]:
            return 0
        if node not in memo:
            memo[node] = -1
            best = max((longest(nxt) for nxt in following.get(node, [])), default=-1)
            memo[node] = best + (kinds[node] == "task") if best >= 0 else -1
        return memo[node]

    return longest(ids[source])


def close_tour(page):
    """Close the first-visit tour, which covers part of the graph in screenshots."""
    tour = page.locator(".feature-hints__close")
    if tour.count() and tour.first.is_visible():
        tour.first.click()


def test_viz_build_exports_and_renders_every_pipeline(project, viz_build, tmp_path):
    from kedro.framework.project import pipelines

    from mtlsearch.composition import use_evaluator

    # as `kedro viz build` sees the project: the configured (fine-tune) evaluator, whatever an
    # earlier session of this test process ran with
    use_evaluator("finetune")

    main = json.loads((viz_build / "api" / "main").read_text())
    assert set(PIPELINES) <= {p["id"] for p in main["pipelines"]}
    for name in PIPELINES:
        exported = json.loads((viz_build / "api" / "pipelines" / name).read_text())
        nodes = exported["nodes"]
        tasks = {n["name"] for n in nodes if n["type"] == "task"}
        expected = {n.name for n in pipelines[name].nodes}
        assert tasks == expected, f"pipeline {name}: {sorted(tasks ^ expected)}"
        for data in (n for n in nodes if n["type"] == "data"):
            assert data["layer"], f"pipeline {name}: dataset {data['name']} has no layer"
        # parameters appear as one node per group (params:search), not one per key
        parameters = [n["name"] for n in nodes if n["type"] == "parameters"]
        assert all(p.startswith("params:") and "." not in p for p in parameters), parameters
    report = json.loads((viz_build / "api" / "pipelines" / "report").read_text())
    layers = {n["name"]: n.get("layer") for n in report["nodes"] if n["type"] == "data"}
    assert {name: layers.get(name) for name in REPORT_OUTPUTS} == dict.fromkeys(REPORT_OUTPUTS, "reporting")
    search = json.loads((viz_build / "api" / "pipelines" / "search").read_text())
    assert set(REPORT_OUTPUTS) <= {n["name"] for n in search["nodes"]}, "the search pipeline ends with the report"
    # the search shows the product: ingestion and the base model feed the evaluator as datasets
    search_names = {n["name"]: n["type"] for n in search["nodes"]}
    for task in ("read_raw_datasets", "build_tokenizer", "build_base_model", "make_evaluator", "run_search"):
        assert search_names.get(task) == "task", task
    for data in ("examples", "dataset_cards", "tokenizer", "base_model", "evaluator"):
        assert search_names.get(data) == "data", data
    # evaluate shows formatting, fine-tuning and scoring as nodes between the data and the metrics
    evaluate = json.loads((viz_build / "api" / "pipelines" / "evaluate").read_text())
    assert tasks_between(evaluate, "examples", "evaluation_metrics") >= 3
    for data in ("training_mixture", "evaluation_sets", "adapter", "predictions", "evaluation_metrics"):
        assert data in {n["name"] for n in evaluate["nodes"] if n["type"] == "data"}, data

    with serve_directory(viz_build) as url, chromium_page(url, tmp_path / "chromium") as page:
        page.goto(url, wait_until="load")
        selector = page.locator(".pipeline-list").first
        selector.wait_for(timeout=60_000)
        selector.click()
        for name in PIPELINES:
            page.get_by_text(name, exact=True).first.wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "kedro-viz-pipelines.png"))
        page.get_by_text("report", exact=True).first.click()
        for name in ("plot_search_progress", "plot_transfer_heatmap", "write_search_summary", "search_progress_plot"):
            page.get_by_text(name, exact=True).first.wait_for(timeout=10_000)
        # the nodes of the previous pipeline leave the graph once the switch is complete
        expect(page.get_by_text("describe_datasets", exact=True)).to_have_count(0, timeout=10_000)
        close_tour(page)
        page.screenshot(path=str(tmp_path / "kedro-viz-report.png"))
    assert (tmp_path / "kedro-viz-report.png").stat().st_size > 0
