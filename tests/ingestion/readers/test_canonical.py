import json
import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.canonical import read_canonical_jsonl


def _lines(*objects):
    return "".join(json.dumps(o) + "\n" for o in objects)


@pytest.fixture
def folder(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.jsonl").write_bytes(
        (
            json.dumps(
                {
                    "text": "  Aspirin reduced fever.\n",
                    "items": [" Aspirin ", "fever  in\tpatients"],
                    "item_types": ["Chemical", "Disease"],
                    "split": "train",
                    "id": "ex-1",
                    "doc_id": "PMID-1",
                    "note": "ignored",
                }
            )
            + "\r\n\r\n"
            + json.dumps({"text": "No drug was given.", "items": [], "split": None})
            + "\r\n"
        ).encode()
    )
    (parts / "b.jsonl").write_text(
        _lines(
            {"text": "Label me.", "items": ["positive"], "id": 7, "doc_id": 3, "split": "test"},
            {"text": "Two items.", "items": ["x", "y"], "split": "dev", "item_types": None},
        )
    )
    (tmp_path / "extra.jsonl").write_text(_lines({"text": "Extra.", "items": ["z"]}))
    return tmp_path


def test_reads_with_defaults(folder):
    records = list(read_canonical_jsonl("mine", folder, {"main": "parts/*.jsonl", "more": "extra.jsonl"}))
    assert records == [
        {
            "split": "train",
            "doc_id": "PMID-1",
            "example_id": "ex-1",
            "text": "Aspirin reduced fever.",
            "items": ["Aspirin", "fever in patients"],
            "item_types": ["Chemical", "Disease"],
        },
        {"split": None, "doc_id": "a-3", "example_id": "a-3", "text": "No drug was given.", "items": [], "item_types": []},
        {"split": "test", "doc_id": "3", "example_id": "7", "text": "Label me.", "items": ["positive"], "item_types": ["item"]},
        {
            "split": "dev",
            "doc_id": "b-2",
            "example_id": "b-2",
            "text": "Two items.",
            "items": ["x", "y"],
            "item_types": ["item", "item"],
        },
        {"split": None, "doc_id": "extra-1", "example_id": "extra-1", "text": "Extra.", "items": ["z"], "item_types": ["item"]},
    ]


def test_registered_and_config_errors(folder):
    assert get_reader("canonical_jsonl") is read_canonical_jsonl
    with pytest.raises(ConfigError, match="unknown options"):
        list(read_canonical_jsonl("mine", folder, {"a": "extra.jsonl"}, lowercase=True))
    with pytest.raises(DatasetFormatError, match="at least one file matching"):
        list(read_canonical_jsonl("mine", folder, {"a": "nothing/*.jsonl"}))


@pytest.mark.parametrize(
    "bad, expected",
    [
        ('{"text": "x", "items": [}', "expected a JSON object"),
        ('["x", ["y"]]', "expected a JSON object"),
        ('{"items": ["y"]}', "expected 'text' to be a non-empty string"),
        ('{"text": "  ", "items": ["y"]}', "expected 'text' to be a non-empty string"),
        ('{"text": "x"}', "expected an 'items' list"),
        ('{"text": "x", "items": "y"}', "expected 'items' to be a list of strings"),
        ('{"text": "x", "items": ["y", 2]}', "expected 'items' to be a list of strings"),
        ('{"text": "x", "items": ["y", " "]}', "expected every entry of 'items' to be non-empty"),
        ('{"text": "x", "items": ["y"], "split": "validation"}', "expected 'split' to be one of train, dev, test"),
        ('{"text": "x", "items": ["y"], "item_types": ["A", "B"]}', "expected 'item_types' of the same length"),
        ('{"text": "x", "items": ["y"], "id": ""}', "expected 'id' to be a non-empty string or an integer"),
        ('{"text": "x", "items": ["y"], "doc_id": true}', "expected 'doc_id' to be a non-empty string or an integer"),
        ('{"text": "x", "items": ["y"], "id": "first"}', "expected a unique id (already used at"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad, expected):
    (tmp_path / "bad.jsonl").write_text(_lines({"text": "ok", "items": [], "id": "first"}) + "\n" + bad + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape(f"bad.jsonl, line 3: {expected}")):
        list(read_canonical_jsonl("mine", tmp_path, {"all": "bad.jsonl"}))


def test_duplicate_id_across_files(folder):
    (folder / "again.jsonl").write_text(_lines({"text": "Again.", "items": [], "id": "ex-1"}))
    with pytest.raises(DatasetFormatError, match=re.escape("again.jsonl, line 1: expected a unique id (already used at")):
        list(read_canonical_jsonl("mine", folder, {"a": "parts/*.jsonl", "b": "again.jsonl"}))


def test_explicit_id_colliding_with_a_default_id(tmp_path):
    (tmp_path / "own.jsonl").write_text(_lines({"text": "a", "items": []}, {"text": "b", "items": [], "id": "own-1"}))
    with pytest.raises(DatasetFormatError, match=re.escape("own.jsonl, line 2: expected a unique id")):
        list(read_canonical_jsonl("mine", tmp_path, {"all": "own.jsonl"}))
