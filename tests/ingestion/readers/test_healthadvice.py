import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.healthadvice import read_healthadvice_csv

# CRLF endings, quoted fields with commas and doubled quotes, an extra column, a trailing space,
# a quoted field over two lines, a blank line
STRUCTURED = (
    "label,pmid,sentence,design\r\n"
    "0,27901241,States of frailty were highly present.,Cross-Sectional\r\n"
    '2,111,"Clinicians should screen, treat, and follow up.",RCT\r\n'
    '1,111,"The ""low-dose"" regimen may be considered. ",RCT\r\n'
    "\r\n"
    '0,222,"A sentence over\r\ntwo lines.",Prospective\r\n'
    "1,333,Last row without an end of line,RCT"
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "annotations_structured_abstract.csv").write_bytes(STRUCTURED.encode())
    # a byte-order mark and the column order of the other files
    (tmp_path / "annotations_discussion.csv").write_bytes(
        "\ufeffpmid,label,sentence,rel_loc\n9,2,We recommend it.,1.0\n".encode()
    )
    return tmp_path


def _rec(doc, eid, text, label):
    return {"split": None, "doc_id": doc, "example_id": eid, "text": text, "items": [label], "item_types": [label]}


def test_reads_rows(folder):
    files = {"structured": "annotations_structured_abstract.csv", "discussion": "annotations_discussion.csv"}
    assert list(read_healthadvice_csv("ha", folder, files)) == [
        _rec("27901241", "annotations_structured_abstract-2", "States of frailty were highly present.", "no advice"),
        _rec("111", "annotations_structured_abstract-3", "Clinicians should screen, treat, and follow up.", "strong advice"),
        _rec("111", "annotations_structured_abstract-4", 'The "low-dose" regimen may be considered.', "weak advice"),
        _rec("222", "annotations_structured_abstract-6", "A sentence over\r\ntwo lines.", "no advice"),
        _rec("333", "annotations_structured_abstract-8", "Last row without an end of line", "weak advice"),
        _rec("9", "annotations_discussion-2", "We recommend it.", "strong advice"),
    ]


def test_registered_and_options(folder):
    assert get_reader("healthadvice_csv") is read_healthadvice_csv
    with pytest.raises(ConfigError, match="unknown options"):
        list(read_healthadvice_csv("ha", folder, {"a": "annotations_discussion.csv"}, design=True))


def test_missing_column_names_line_1(folder):
    (folder / "bad.csv").write_text("label,PMID,sentence\n0,1,A sentence.\n")
    with pytest.raises(DatasetFormatError, match=re.escape("bad.csv, line 1: expected a header row with the columns")):
        list(read_healthadvice_csv("ha", folder, {"all": "bad.csv"}))
    (folder / "empty.csv").write_text("")
    with pytest.raises(DatasetFormatError, match=re.escape("empty.csv, line 1: expected a header row")):
        list(read_healthadvice_csv("ha", folder, {"all": "empty.csv"}))


@pytest.mark.parametrize(
    "row, expected",
    [
        ("3,5,A sentence.", "expected a label 0, 1 or 2, found '3'"),
        ("weak,5,A sentence.", "expected a label 0, 1 or 2"),
        ('1,5,"  "', "expected a non-empty sentence"),
        ("1,5", "expected 3 comma-separated fields as in the header"),
        ("1,,A sentence.", "expected a non-empty pmid"),
    ],
)
def test_bad_row_names_its_line(folder, row, expected):
    (folder / "bad.csv").write_text('label,pmid,sentence\n0,1,"Two\nlines."\n' + row + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape(f"bad.csv, line 4: {expected}")):
        list(read_healthadvice_csv("ha", folder, {"all": "bad.csv"}))
