"""The analysis notebook runs headless on a finished search and draws its figures."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mtlsearch.landscape.synthetic import generate_landscape, write_table

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "search_analysis.ipynb"


PLOTLY = "application/vnd.plotly.v1+json"


@pytest.mark.parametrize("strategy", ["greedy", "tpe", "surrogate"])
def test_notebook_draws_the_search_of_any_strategy(strategy, project, run_pipeline, load, monkeypatch, tmp_path):
    table = write_table(generate_landscape("pairwise", 4, seed=3, target="t"), project / "landscape.csv")
    run_pipeline("search", {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
                            "search.budget": 6, "search.patience": None, "search.stopping": "patience",
                            "search.seed": 1, "search.strategy": strategy})
    best = load("best_combination")
    monkeypatch.setenv("MTLSEARCH_PROJECT", str(project))

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel starts in the notebook's folder, as in Jupyter; the project comes from the variable
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    nbformat.write(notebook, tmp_path / "search_analysis.executed.ipynb")

    everything = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in everything if o.output_type == "error"]
    # no log or warning blocks: nothing on stderr
    assert not [o for o in everything if o.output_type == "stream" and o.get("name") == "stderr"]
    figures = [json.loads(o["data"][PLOTLY]) if isinstance(o["data"][PLOTLY], str) else o["data"][PLOTLY]
               for o in everything if PLOTLY in o.get("data", {})]
    predicts = strategy == "surrogate"  # greedy and tpe propose without predicting a score
    assert len(figures) == (4 if predicts else 3)  # progress, (surrogate fit), effects, transfer
    progress = figures[0]
    # one point per evaluation, each labelled by its datasets (the hover text)
    assert sorted(progress["data"][0]["text"]) == sorted(load("search_history")["datasets"])
    text = "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") + o.get("data", {}).get("text/markdown", "")
        for o in everything
    )
    assert f"best for t: {best['datasets']}" in text
    assert f"**Best combination:** `{best['datasets']}`" in text
    assert best["search_run_id"] in text
    if not predicts:
        assert f"strategy {strategy!r} makes no predictions" in text
    # the runs table lists the search's evaluations by name
    for datasets in load("search_history")["datasets"]:
        assert datasets in text
