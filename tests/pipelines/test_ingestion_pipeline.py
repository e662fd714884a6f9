"""The ingestion pipeline in real Kedro sessions, on raw files written by the tests."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from mtlsearch.errors import ConfigError

IOB = "IL\tB-GENE\n-\tI-GENE\n2\tI-GENE\nbinds\tO\nTNF\tB-GENE\n.\tO\n\nNothing\tO\nhere\tO\n\n"
HEALTH = "label,pmid,sentence,design\n" + "".join(
    f'{i % 3},{100 + i},"Sentence {i}, with a comma.",RCT\n' for i in range(30)
)


def write_raw(root, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / "data" / "01_raw" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_ingestion_builds_canonical_table_and_cards(project, run_pipeline, load, caplog):
    write_raw(
        project,
        {
            "bc2gm/train.tsv": IOB,
            "bc2gm/devel.tsv": IOB,
            "bc2gm/test.tsv": IOB,
            "healthadvice/annotations_structured_abstract.csv": HEALTH,
        },
    )
    with caplog.at_level(logging.WARNING, logger="mtlsearch"):
        run_pipeline("ingestion")
    examples = load("examples")
    assert set(examples["dataset"]) == {"bc2gm", "healthadvice"}
    assert {"dataset", "task", "split", "example_id", "text", "items"} <= set(examples.columns)
    first = examples[(examples["dataset"] == "bc2gm") & (examples["split"] == "train")].iloc[0]
    assert first["text"] == "IL - 2 binds TNF ."
    assert list(first["items"]) == ["IL - 2", "TNF"]
    assert first["task"] == "ner"
    health = examples[examples["dataset"] == "healthadvice"]
    assert set(health["split"]) <= {"train", "dev", "test"}
    assert all(len(items) == 1 for items in health["items"])
    # a policy split is by document: no pmid is in two splits
    assert health.groupby("doc_id")["split"].nunique().max() == 1
    # declared datasets without data are reported and left out, not a crash
    assert "biored" in caplog.text and "left out" in caplog.text
    cards = load("dataset_cards")
    assert cards["bc2gm"]["splits"]["test"] == {
        "examples": 2,
        "documents": 2,
        "items": 2,
        "examples_without_items": 1,
        "item_types": {"GENE": 2},
    }
    assert sum(s["examples"] for s in cards["healthadvice"]["splits"].values()) == 30


def test_ingestion_reads_raw_dir_from_environment(project, run_pipeline, load, tmp_path, monkeypatch):
    raw = tmp_path / "elsewhere"
    (raw / "bc5cdr").mkdir(parents=True)
    for name in ("train.tsv", "devel.tsv", "test.tsv"):
        (raw / "bc5cdr" / name).write_text("Aspirin\tB-Chemical\nhelps\tO\n\n")
    monkeypatch.setenv("MTLSEARCH_RAW_DIR", str(raw))
    run_pipeline("ingestion")
    assert set(load("examples")["dataset"]) == {"bc5cdr"}


def test_partially_present_dataset_is_an_error_naming_the_missing_file(project, run_pipeline):
    write_raw(project, {"bc2gm/train.tsv": IOB})
    with pytest.raises(ConfigError, match=r"bc2gm.*devel\.tsv"):
        run_pipeline("ingestion")


def test_malformed_raw_file_error_names_dataset_file_and_line(project, run_pipeline):
    write_raw(project, {"bc2gm/train.tsv": IOB, "bc2gm/devel.tsv": "ok\tO\nbroken line\n", "bc2gm/test.tsv": IOB})
    with pytest.raises(Exception, match=r"bc2gm.*devel\.tsv.*line 2"):
        run_pipeline("ingestion")


def test_bring_your_own_dataset_flows_through_ingestion_and_formatting(project, run_pipeline, load):
    records = [
        {"text": f"Patient {i} took drug{i} and got rash{i}.", "items": [f"drug{i} | causes | rash{i}"],
         "split": ["train", "dev", "test"][i % 3]}
        for i in range(12)
    ]
    records.append({"text": "Nothing to see.", "items": [], "split": "train"})
    write_raw(project, {"mine/all.jsonl": "\n".join(json.dumps(r) for r in records) + "\n", **{
        "healthadvice/annotations_structured_abstract.csv": HEALTH}})
    (project / "conf" / "local" / "parameters_mine.yml").write_text(
        "ingestion:\n"
        "  datasets:\n"
        "    mine:\n"
        "      task: re\n"
        "      reader: canonical_jsonl\n"
        "      path: mine\n"
        "      files: {all: all.jsonl}\n"
        "      split: {policy: official}\n"
        "formatting:\n"
        "  instructions:\n"
        "    mine: List the drug | relation | effect triples.\n"
    )
    run_pipeline("ingestion")
    examples = load("examples")
    mine = examples[examples["dataset"] == "mine"]
    assert len(mine) == 13 and set(mine["task"]) == {"re"}
    run_pipeline("formatting", params={"evaluate.datasets": "mine+healthadvice", "formatting.mixture.budget": 40})
    mixture = load("training_mixture")
    assert mixture["dataset"].value_counts().to_dict() == {"healthadvice": 20, "mine": 20}
    row = mixture[mixture["dataset"] == "mine"].iloc[0]
    assert "List the drug | relation | effect triples." in row["prompt"]
    assert row["prompt"].rstrip().endswith("### Response:")
    assert row["response"] in {f"drug{i} | causes | rash{i}" for i in range(12)} | {"none"}
    evaluation = load("evaluation_sets")
    assert set(evaluation["dataset"]) == {"mine", "healthadvice"}
    # scored on dev (what a search selects on) and on test (what it reports)
    assert set(evaluation.loc[evaluation["dataset"] == "mine", "split"]) == {"dev", "test"}

    # a dataset without a dev split cannot be selected on: the error says what to do
    (project / "data" / "01_raw" / "mine" / "all.jsonl").write_text(
        "\n".join(json.dumps({**r, "split": "train" if r["split"] == "dev" else r["split"]}) for r in records) + "\n")
    run_pipeline("ingestion")
    with pytest.raises(ConfigError, match="'mine' has no 'dev' examples.*selection_split"):
        run_pipeline("formatting", params={"evaluate.datasets": "mine+healthadvice"})


def test_registry_lists_the_pipelines(project):
    out = subprocess.run(
        [sys.executable, "-m", "kedro", "registry", "list"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    for name in ("ingestion", "formatting"):
        assert f"- {name}" in out
