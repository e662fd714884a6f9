import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.pubmed_rct import read_pubmed_rct

# CRLF endings, several blank lines between abstracts, none at the end of the file
TRAIN = (
    "###24293578\r\n"
    "OBJECTIVE\tTo investigate the efficacy of 6 weeks of daily low-dose oral prednisolone .\r\n"
    "METHODS\tA total of 125 patients were randomized 1:1 .\r\n"
    "RESULTS\tPain scores improved ( p < 0.001 ) .\r\n"
    "\r\n"
    "\r\n"
    "###24854809\r\n"
    "BACKGROUND\tEmotional eating is associated with overeating .\r\n"
    "CONCLUSIONS\tThe intervention   reduced it .\r\n"
)
TEST = "###1\nMETHODS\tOne sentence .\n\n"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "train.txt").write_bytes(TRAIN.encode())
    (tmp_path / "test.txt").write_text(TEST)
    return tmp_path


def _rec(split, pmid, k, text, label):
    return {
        "split": split,
        "doc_id": pmid,
        "example_id": f"{pmid}-{k}",
        "text": text,
        "items": [label],
        "item_types": [label],
    }


def test_reads_labelled_sentences(folder):
    assert list(read_pubmed_rct("rct", folder, {"train": "train.txt", "test": "test.txt"})) == [
        _rec("train", "24293578", 1, "To investigate the efficacy of 6 weeks of daily low-dose oral prednisolone .", "objective"),
        _rec("train", "24293578", 2, "A total of 125 patients were randomized 1:1 .", "methods"),
        _rec("train", "24293578", 3, "Pain scores improved ( p < 0.001 ) .", "results"),
        _rec("train", "24854809", 1, "Emotional eating is associated with overeating .", "background"),
        _rec("train", "24854809", 2, "The intervention   reduced it .", "conclusions"),
        _rec("test", "1", 1, "One sentence .", "methods"),
    ]


def test_registered_and_config_errors(folder):
    assert get_reader("pubmed_rct") is read_pubmed_rct
    with pytest.raises(ConfigError, match="'all' is not a split"):
        list(read_pubmed_rct("rct", folder, {"all": "train.txt"}))


@pytest.mark.parametrize(
    "content, line, expected",
    [
        ("METHODS\tNo abstract started .\n", 1, "expected '###<PMID>' before the abstract's sentences"),
        ("###5\nMETHODS\tFine .\n\nRESULTS\tAfter the blank line .\n", 4, "expected '###<PMID>' before"),
        ("###5\nMETHODS No tab here .\n", 2, "expected '<LABEL> TAB <sentence>'"),
        ("###5\nDISCUSSION\tUnknown label .\n", 2, "expected a label in BACKGROUND, OBJECTIVE"),
        ("###5\nMETHODS\t \n", 2, "expected a non-empty sentence"),
        ("###\nMETHODS\tNo PMID .\n", 1, "expected '###<PMID>'"),
        ("###5\nMETHODS\tA .\n\n###1\nMETHODS\tB .\n", 4, "expected a PMID not already used"),
    ],
)
def test_malformed_names_file_and_line(folder, content, line, expected):
    (folder / "dev.txt").write_text(content)
    with pytest.raises(DatasetFormatError, match=re.escape(f"dev.txt, line {line}: {expected}")):
        list(read_pubmed_rct("rct", folder, {"test": "test.txt", "dev": "dev.txt"}))
