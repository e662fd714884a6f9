"""`kedro run` as a user meets it: start-up notices, a mistyped pipeline, a failed search's run."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow



def kedro_run(project, *args):
    return subprocess.run([sys.executable, "-m", "kedro", "run", *args], cwd=project, capture_output=True,
                          text=True, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"})


def test_a_mistyped_pipeline_is_one_line_listing_the_pipelines(project):
    done = kedro_run(project, "--pipeline", "serach")
    assert done.returncode != 0
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert last == ("Error: --pipeline: no pipeline named 'serach'; expected one of evaluate, finetune, "
                    "formatting, ingestion, landscape, relatedness, report, scoring, search")
    assert "Traceback" not in done.stdout + done.stderr


def test_start_up_shows_no_library_notices_and_a_failed_search_says_why(project):
    table = project / "landscape.csv"
    # aux00+t has no row: with max_failures 0 its failure ends the search
    table.write_text("datasets,score\nt,0.5\naux00+aux01+t,0.6\n")
    done = kedro_run(project, "--pipeline", "search", "--params",
                     f"search.evaluator=table,search.table_path={table},search.target=t,search.budget=8,"
                     "search.strategy=exhaustive,search.max_failures=0,search.candidates=aux00")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    for notice in ("register_new_resolver() is deprecated",):
        assert notice not in output
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("mtlsearch")
    [search] = client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'search'")
    assert search.info.status == "FAILED"
    assert search.info.run_name == "search t (exhaustive)"
    assert "TooManyFailures" in search.data.tags["failure_reason"]
    assert "aux00+t" in search.data.tags["failure_reason"]
    assert not search.data.tags["runner"].startswith("<")


def test_the_projects_own_error_in_a_node_is_its_one_line(project, table):
    done = kedro_run(project, "--pipeline", "search", "--params",
                     f"search.evaluator=table,search.table_path={table},search.target=zz")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert output.strip().splitlines()[-1] == (
        f"Error: {table}: search.target 'zz' is not in the table; it holds ['aux00', 'aux01', 'aux02', 'aux03', 't']")
    assert "Traceback" not in output and "╭" not in output


def test_ids_joined_by_commas_get_the_hint_to_use_plus(project):
    done = kedro_run(project, "--pipeline", "evaluate", "--params", "evaluate.datasets=bc5cdr,healthadvice")
    assert done.returncode == 2  # a usage error, before the project does anything
    assert ("Error: --params: 'healthadvice' has no '=': Kedro splits --params on commas; join dataset ids "
            "with '+', e.g. evaluate.datasets=bc5cdr+healthadvice") in done.stdout + done.stderr
