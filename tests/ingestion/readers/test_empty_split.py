"""A file named in a dataset's declaration that holds no record is an error, not an empty split."""

import re

import pytest

from mtlsearch.errors import DatasetFormatError
from mtlsearch.ingestion.readers.ade import read_ade
from mtlsearch.ingestion.readers.canonical import read_canonical_jsonl
from mtlsearch.ingestion.readers.ddi import read_ddi_xml
from mtlsearch.ingestion.readers.git import read_git_jsonl
from mtlsearch.ingestion.readers.healthadvice import read_healthadvice_csv
from mtlsearch.ingestion.readers.iob import read_iob
from mtlsearch.ingestion.readers.phee import read_phee_json
from mtlsearch.ingestion.readers.pubmed_rct import read_pubmed_rct
from mtlsearch.ingestion.readers.pubtator import read_pubtator
from mtlsearch.ingestion.readers.standoff import read_bionlp_standoff

# reader, dataset, its files as declared, the file left empty, what it holds one or more of
CASES = [
    (read_iob, "bc2gm", {"train": "train.tsv"}, "train.tsv", "sentence"),
    (read_pubtator, "biored", {"test": "Test.PubTator"}, "Test.PubTator", "document"),
    (read_phee_json, "phee", {"dev": "data/json/dev.json"}, "data/json/dev.json", "sentence"),
    (read_git_jsonl, "git", {"test": "renew_triplet_T_test.jsonl"}, "renew_triplet_T_test.jsonl", "triple"),
    (read_pubmed_rct, "pubmed20krct", {"dev": "dev.txt"}, "dev.txt", "sentence"),
    (read_ade, "ade", {"negative": "ADE-NEG.txt"}, "ADE-NEG.txt", "line"),
    (read_canonical_jsonl, "mine", {"all": "all.jsonl"}, "all.jsonl", "example"),
]


@pytest.mark.parametrize("content", ["", "\n", "  \r\n\r\n\t\n"], ids=["0 bytes", "newline", "white space"])
@pytest.mark.parametrize(("read", "dataset", "files", "empty", "what"), CASES, ids=[c[1] for c in CASES])
def test_empty_split_file_is_an_error(tmp_path, read, dataset, files, empty, what, content):
    path = tmp_path / empty
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    message = rf"dataset '{dataset}': .*{re.escape(path.name)}: expected at least one {what} \(the file holds none\)$"
    with pytest.raises(DatasetFormatError, match=message):
        list(read(dataset, tmp_path, files))


def test_empty_later_split_after_a_full_one(tmp_path):
    (tmp_path / "train.tsv").write_text("IL\tB-GENE\n\n")
    (tmp_path / "devel.tsv").write_text("")
    records = read_iob("bc2gm", tmp_path, {"train": "train.tsv", "dev": "devel.tsv"})
    assert next(records)["text"] == "IL"
    with pytest.raises(DatasetFormatError, match=r"devel\.tsv: expected at least one sentence"):
        next(records)


@pytest.mark.parametrize("header", ["label,pmid,sentence,design\n", "label,pmid,sentence,design\n\n,,,\n"])
def test_csv_with_only_its_header(tmp_path, header):
    (tmp_path / "annotations_structured_abstract.csv").write_text(header)
    message = r"structured_abstract\.csv: expected at least one row below the header \(the file holds none\)$"
    with pytest.raises(DatasetFormatError, match=message):
        list(read_healthadvice_csv("healthadvice", tmp_path, {"all": "annotations_structured_abstract.csv"}))


def test_standoff_split_of_empty_documents(tmp_path):
    (tmp_path / "train").mkdir()
    for ext in ("txt", "a1", "a2"):
        (tmp_path / "train" / f"PMID-1.{ext}").write_text("")
    with pytest.raises(DatasetFormatError, match=r"PMID-1\.txt: expected the text of document 'PMID-1'"):
        list(read_bionlp_standoff("genia2013", tmp_path, {"train": "train"}))


def test_empty_ddi_document_is_not_well_formed(tmp_path):
    (tmp_path / "Test").mkdir()
    (tmp_path / "Test" / "d1.xml").write_text("")
    with pytest.raises(DatasetFormatError, match=r"d1\.xml, line 1: expected well-formed XML"):
        list(read_ddi_xml("ddi", tmp_path, {"test": "Test/*.xml"}))
