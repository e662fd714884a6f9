import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.ade import read_ade

# the first sentence has two drug-AE pairs (two lines, one example); the second sentence occurs
# under two PMIDs (two examples)
REL = (
    "10030778|Intravenous azithromycin-induced ototoxicity.|ototoxicity|43|54|azithromycin|22|34\n"
    "10030778|Intravenous azithromycin-induced ototoxicity.|ototoxic|43|51|azithromycin|22|34\n"
    "10030778|Lithium caused tremor.|tremor|60|66|Lithium|45|52\n"
    "555|Lithium caused tremor.|tremor|10|16|Lithium|0|7\n"
)
NEG = (
    "8402502 NEG BACKGROUND: External beam radiation therapy often is avoided.\n"
    "8402502 NEG Results are shown.\r\n"
    "\n"
    "555 NEG Results are shown.\n"
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "DRUG-AE.rel").write_text(REL)
    (tmp_path / "ADE-NEG.txt").write_bytes(NEG.encode())
    return tmp_path


FILES = {"positive": "DRUG-AE.rel", "negative": "ADE-NEG.txt"}


def _rec(doc, eid, text, label):
    return {"split": None, "doc_id": doc, "example_id": eid, "text": text, "items": [label], "item_types": [label]}


def test_one_example_per_sentence(folder):
    assert list(read_ade("ade", folder, FILES)) == [
        _rec("10030778", "pos-10030778-1", "Intravenous azithromycin-induced ototoxicity.", "ADE"),
        _rec("10030778", "pos-10030778-2", "Lithium caused tremor.", "ADE"),
        _rec("555", "pos-555-1", "Lithium caused tremor.", "ADE"),
        _rec("8402502", "neg-1", "BACKGROUND: External beam radiation therapy often is avoided.", "not ADE"),
        _rec("8402502", "neg-2", "Results are shown.", "not ADE"),
        _rec("555", "neg-4", "Results are shown.", "not ADE"),
    ]


def test_one_part_only_and_config_errors(folder):
    assert get_reader("ade") is read_ade
    assert [r["example_id"] for r in read_ade("ade", folder, {"negative": "ADE-NEG.txt"})] == ["neg-1", "neg-2", "neg-4"]
    with pytest.raises(ConfigError, match="'positive' and/or 'negative'"):
        list(read_ade("ade", folder, {"dose": "DRUG-DOSE.rel"}))
    with pytest.raises(DatasetFormatError, match="expected the 'negative' file"):
        list(read_ade("ade", folder, {"negative": "missing.txt"}))


@pytest.mark.parametrize(
    "line, expected",
    [
        ("1|A sentence.|rash|3|7|drug|0", "expected 8 '|'-separated fields"),
        ("1|A sentence | with a bar.|rash|3|7|drug|0|4", "expected 8 '|'-separated fields"),
        ("1|A sentence.|rash|3|x|drug|0|4", "expected integer offsets"),
        ("1| |rash|3|7|drug|0|4", "expected a non-empty PMID and sentence"),
    ],
)
def test_malformed_rel_line(folder, line, expected):
    (folder / "DRUG-AE.rel").write_text(REL + line + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape(f"DRUG-AE.rel, line 5: {expected}")):
        list(read_ade("ade", folder, FILES))


@pytest.mark.parametrize("line", ["8402502 POS A sentence.", "8402502 NEG", "8402502|NEG|A sentence."])
def test_malformed_neg_line(folder, line):
    (folder / "ADE-NEG.txt").write_text(NEG + line + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape("ADE-NEG.txt, line 5: expected 'PMID NEG sentence'")):
        list(read_ade("ade", folder, FILES))
