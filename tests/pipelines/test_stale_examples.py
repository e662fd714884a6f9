"""A run that reads ``examples`` without ingesting refuses an ``examples`` older than the raw data
or the ingestion parameters, or left by a failed ingestion; in real Kedro sessions on raw files
written by the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback

import pytest
from conftest import HEALTH_CSV, IOB_SENTENCES
from kedro.framework.session import KedroSession

from mtlsearch.errors import ConfigError
from mtlsearch.hooks import StaleExamplesError

RERUN = "; run `kedro run --pipeline ingestion` first"
FORMAT = {"evaluate.datasets": "healthadvice+bc2gm", "formatting.mixture.budget": 20}


def write_raw(root, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / "data" / "01_raw" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def ingested(project, run_pipeline):
    """The project with two small raw datasets, ingested."""
    write_raw(project, {
        "bc2gm/train.tsv": IOB_SENTENCES, "bc2gm/devel.tsv": IOB_SENTENCES, "bc2gm/test.tsv": IOB_SENTENCES,
        "healthadvice/annotations_structured_abstract.csv": HEALTH_CSV,
    })
    run_pipeline("ingestion")
    return project


def refused(run_pipeline, pipeline: str, params: dict | None = None) -> str:
    """The one-line message the run stops with, before its runner started any node."""
    with pytest.raises(StaleExamplesError) as error:
        run_pipeline(pipeline, params)
    message = str(error.value)
    assert "\n" not in message
    frames = [frame.name for frame in traceback.extract_tb(error.tb)]
    assert "before_pipeline_run" in frames and "_run" not in frames
    return message


def test_a_changed_raw_file_stops_formatting_and_finetune_until_ingestion_runs(ingested, run_pipeline, load):
    run_pipeline("formatting", FORMAT)
    mixture = ingested / "data" / "05_model_input" / "training_mixture.parquet"
    written = mixture.stat().st_mtime_ns

    (ingested / "data" / "01_raw" / "bc2gm" / "devel.tsv").write_text(IOB_SENTENCES + "Extra\tO\n\n")
    message = "examples is out of date: raw file bc2gm/devel.tsv changed since it was written" + RERUN
    assert refused(run_pipeline, "formatting", FORMAT) == message
    assert mixture.stat().st_mtime_ns == written
    # the base artifacts are built from examples too: not one of them is started
    assert refused(run_pipeline, "finetune", FORMAT) == message
    assert not (ingested / "data" / "06_models" / "tokenizer").exists()

    run_pipeline("ingestion")
    run_pipeline("formatting", FORMAT)
    assert mixture.stat().st_mtime_ns != written
    assert set(load("training_mixture")["dataset"]) == {"healthadvice", "bc2gm"}


def test_a_failed_ingestion_leaves_formatting_refusing(ingested, run_pipeline):
    raw = ingested / "data" / "01_raw" / "bc2gm" / "test.tsv"
    stat = raw.stat()
    raw.unlink()
    assert refused(run_pipeline, "formatting", FORMAT) == (
        "examples is out of date: raw file bc2gm/test.tsv was removed since it was written" + RERUN
    )
    with pytest.raises(ConfigError, match=r"bc2gm.*test\.tsv"):
        run_pipeline("ingestion")
    failed = "examples is out of date: the last ingestion failed or did not finish" + RERUN
    assert refused(run_pipeline, "formatting", FORMAT) == failed
    # the raw folder as examples was read from it again: the failed ingestion still counts, since
    # it may have failed on what the older examples holds
    raw.write_text(IOB_SENTENCES)
    os.utime(raw, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert refused(run_pipeline, "formatting", FORMAT) == failed

    run_pipeline("ingestion")
    run_pipeline("formatting", FORMAT)


def test_changed_parameters_and_new_raw_files_stop_formatting(ingested, run_pipeline):
    assert refused(run_pipeline, "formatting", {**FORMAT, "ingestion.split_seed": 7}) == (
        "examples is out of date: the ingestion parameters changed since it was written" + RERUN
    )
    # a declared dataset whose data arrived after ingestion left it out
    write_raw(ingested, {f"bc5cdr/{name}": "Aspirin\tB-Chemical\nhelps\tO\n\n"
                         for name in ("train.tsv", "devel.tsv", "test.tsv")})
    assert refused(run_pipeline, "formatting", FORMAT) == (
        "examples is out of date: raw file bc5cdr/devel.tsv was added (and 2 more) since it was written" + RERUN
    )


def test_examples_without_a_record_or_without_its_raw_folder_are_refused(project, run_pipeline, tmp_path,
                                                                         monkeypatch):
    assert refused(run_pipeline, "formatting", FORMAT) == "examples does not exist" + RERUN
    raw = tmp_path / "elsewhere"
    for name in ("train.tsv", "devel.tsv", "test.tsv"):
        (raw / "bc2gm").mkdir(parents=True, exist_ok=True)
        (raw / "bc2gm" / name).write_text(IOB_SENTENCES)
    (raw / "healthadvice").mkdir()
    (raw / "healthadvice" / "annotations_structured_abstract.csv").write_text(HEALTH_CSV)
    monkeypatch.setenv("MTLSEARCH_RAW_DIR", str(raw))
    run_pipeline("ingestion")
    record = project / "data" / "03_primary" / "examples_inputs.json"
    written = json.loads(record.read_text())
    assert written["complete"] and written["examples"] == {"bc2gm": 72, "healthadvice": 40}
    assert list(written["files"]["bc2gm"]) == ["bc2gm/devel.tsv", "bc2gm/test.tsv", "bc2gm/train.tsv"]
    assert written["files"]["biored"] == {}

    monkeypatch.setenv("MTLSEARCH_RAW_DIR", str(tmp_path / "gone"))
    assert refused(run_pipeline, "formatting", FORMAT) == (
        f"examples is out of date: the raw-data folder {raw} is gone" + RERUN
    )
    monkeypatch.setenv("MTLSEARCH_RAW_DIR", str(raw))
    run_pipeline("formatting", FORMAT)
    # an examples written before records were kept
    record.unlink()
    assert refused(run_pipeline, "formatting", FORMAT) == (
        "examples is out of date: there is no record of the raw data it was read from" + RERUN
    )


def test_a_run_of_missing_outputs_that_skips_ingestion_is_checked(ingested, run_pipeline):
    # __default__ is ingestion + formatting; the runner skips ingestion, whose outputs exist
    run_pipeline("formatting", FORMAT)
    (ingested / "data" / "05_model_input" / "training_mixture.parquet").unlink()
    (ingested / "data" / "01_raw" / "healthadvice" / "annotations_structured_abstract.csv").write_text(
        HEALTH_CSV + '1,999,"One more sentence.",RCT\n')
    with KedroSession.create(project_path=ingested, runtime_params={"evaluate": {"datasets": "healthadvice+bc2gm"}}) \
            as session, pytest.raises(StaleExamplesError) as error:
        session.run(only_missing_outputs=True)
    assert str(error.value) == (
        "examples is out of date: raw file healthadvice/annotations_structured_abstract.csv changed since it "
        "was written" + RERUN
    )


def test_command_line_prints_the_one_line(ingested):
    (ingested / "data" / "01_raw" / "bc2gm" / "train.tsv").write_text(IOB_SENTENCES * 2)
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipeline", "formatting", "--params",
         "evaluate.datasets=healthadvice+bc2gm"],
        cwd=ingested, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: examples is out of date: raw file bc2gm/train.tsv changed since it was written" + RERUN
    )
    assert "Traceback" not in done.stderr
