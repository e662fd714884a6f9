"""The analysis notebook runs headless on a finished search and draws its figures."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mtlsearch.landscape.synthetic import generate_landscape, write_table

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "search_analysis.ipynb"
PNG = b"\x89PNG\r\n\x1a\n"


def test_notebook_draws_the_search_from_the_catalog_and_mlflow(project, run_pipeline, load, monkeypatch, tmp_path):
    table = write_table(generate_landscape("pairwise", 4, seed=3, target="t"), project / "landscape.csv")
    run_pipeline("search", {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
                            "search.budget": 6, "search.patience": None, "search.stopping": "patience", "search.seed": 1})
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
    images = [base64.b64decode(o["data"]["image/png"]) for o in everything if "image/png" in o.get("data", {})]
    assert len(images) == 4 and all(image.startswith(PNG) for image in images)
    for number, image in enumerate(images):
        (tmp_path / f"figure-{number}.png").write_bytes(image)
    text = "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") + o.get("data", {}).get("text/markdown", "")
        for o in everything
    )
    assert f"best for t: {best['datasets']}" in text
    assert f"**Best combination:** `{best['datasets']}`" in text
    assert best["search_run_id"] in text
    # the runs table lists the search's evaluations by name
    for datasets in load("search_history")["datasets"]:
        assert datasets in text
