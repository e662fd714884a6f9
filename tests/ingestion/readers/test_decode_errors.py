"""A byte that is not UTF-8 is reported on its own line, however far into the file it is.

Text is decoded in chunks of several KiB, so a line count kept while reading stops at the start
of the chunk that fails (the report: line 3000 of bc5cdr/train.tsv named as line 2813). Each
case writes valid lines, puts b"\\xff" on line N and checks that the message says ``line N``.
"""

import json
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

BAD = b"\xff"


def _iob(k):
    return "" if k % 12 == 0 else f"token{k}\tO"


def _health(k):
    return "label,pmid,sentence,design" if k == 1 else f'{k % 3},{k},"Sentence {k}, with a comma.",RCT'


def _phee(k):
    event = {"event_type": "Adverse_event", "Trigger": {"text": [["caused"]]}}
    return json.dumps({"id": f"9_{k}", "context": f"Drug {k} caused rash.", "annotations": [{"events": [event]}]})


def _pubtator(k):
    doc, part = divmod(k - 1, 4)
    return [f"{doc}|t|Title {doc}.", f"{doc}|a|Abstract {doc}.", f"{doc}\t0\t5\tTitle\tGene\t1", ""][part]


def _git(k):
    return json.dumps({"PREDICATE": "TREATS", "SUBJECT_TEXT": "a", "OBJECT_TEXT": "b", "SENTENCE": f"a treats b {k}."})


def _rct(k):
    return f"###{k}" if k % 5 == 1 else ("" if k % 5 == 0 else f"METHODS\tSentence {k} .")


def _rel(k):
    return f"{k}|Lithium caused tremor {k}.|tremor|10|16|Lithium|0|7"


def _canonical(k):
    return json.dumps({"text": f"Example {k}.", "items": []})


# reader, dataset, files, the file to spoil, its k-th line
LINES = {
    "bc5cdr": (read_iob, {"train": "train.tsv"}, "train.tsv", _iob),
    "healthadvice": (read_healthadvice_csv, {"all": "a.csv"}, "a.csv", _health),
    "phee": (read_phee_json, {"train": "train.json"}, "train.json", _phee),
    "biored": (read_pubtator, {"train": "Train.PubTator"}, "Train.PubTator", _pubtator),
    "git": (read_git_jsonl, {"train": "t.jsonl"}, "t.jsonl", _git),
    "pubmed20krct": (read_pubmed_rct, {"train": "train.txt"}, "train.txt", _rct),
    "ade": (read_ade, {"positive": "DRUG-AE.rel"}, "DRUG-AE.rel", _rel),
    "mine": (read_canonical_jsonl, {"all": "all.jsonl"}, "all.jsonl", _canonical),
}


def _write(path, line_of, bad_line, total, end=b"\n"):
    lines = [line_of(k).encode() for k in range(1, total + 1)]
    lines[bad_line - 1] += BAD
    path.write_bytes(end.join(lines) + end)


def _raises(file, line):
    return pytest.raises(
        DatasetFormatError, match=rf"{re.escape(file)}, line {line}: expected utf-8 text, found b'\\xff'$"
    )


@pytest.mark.parametrize(
    ("dataset", "line"),
    # the three lines of the report, then line 3000 of every line-based format
    [("bc5cdr", 3000), ("healthadvice", 1501), ("phee", 701), *((d, 3000) for d in LINES if d != "bc5cdr")],
)
def test_bad_byte_is_reported_on_its_line(tmp_path, dataset, line):
    read, files, name, line_of = LINES[dataset]
    _write(tmp_path / name, line_of, line, line + 50)
    with _raises(name, line):
        list(read(dataset, tmp_path, files))


@pytest.mark.parametrize("line", [1, 2, 3000])
def test_crlf_lines_are_counted_once(tmp_path, line):
    _write(tmp_path / "train.tsv", _iob, line, 3100, end=b"\r\n")
    with _raises("train.tsv", line):
        list(read_iob("bc5cdr", tmp_path, {"train": "train.tsv"}))


def test_bad_byte_in_the_first_chunk(tmp_path):
    _write(tmp_path / "train.tsv", _iob, 4, 10)
    with _raises("train.tsv", 4):
        list(read_iob("bc5cdr", tmp_path, {"train": "train.tsv"}))


STANDOFF = {"PMID-1.txt": lambda k: f"Sentence {k}.", "PMID-1.a2": lambda k: "*\tEquiv T1 T2"}


@pytest.mark.parametrize(("file", "line"), [("PMID-1.txt", 3000), ("PMID-1.a2", 2999)])
def test_standoff_files(tmp_path, file, line):
    directory = tmp_path / "train"
    directory.mkdir()
    for name, line_of in STANDOFF.items():
        (directory / name).write_text("".join(line_of(k) + "\n" for k in range(1, 3101)))
    _write(directory / file, STANDOFF[file], line, 3100)
    with _raises(file, line):
        list(read_bionlp_standoff("genia2011", tmp_path, {"train": "train"}))


def test_ddi_xml_still_names_the_line(tmp_path):
    sentences = [f'    <sentence id="d1.s{k}" text="Sentence {k}."/>' for k in range(3000)]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<document id="d1">', *sentences, "</document>"]
    body = "\n".join(lines).encode().replace(b"Sentence 2997.", b"Sentence \xff.")
    (tmp_path / "Train").mkdir()
    (tmp_path / "Train" / "d1.xml").write_bytes(body)
    # sentence k is on line k + 3
    with pytest.raises(DatasetFormatError, match=r"d1\.xml, line 3000: expected well-formed XML"):
        list(read_ddi_xml("ddi", tmp_path, {"train": "Train/*.xml"}))
