import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.iob import read_iob

TRAIN = (
    "Selegiline\tB-Chemical\n"
    "-\tO\n"
    "induced\tO\n"
    "Parkinson\tB-Disease\n"
    "'\tI-Disease\n"
    "s\tI-Disease\n"
    "disease\tI-Disease\n"
    "\n"
    "No\tO\n"
    "mentions\tO\n"
    ".\tO\n"
    "\n"
    "\n"
    "lithium\tB-Chemical\n"
    "and\tO\n"
    "lithium\tB-Chemical\n"
    "toxicity\tB-Disease\n"
    "\n"
)
# no blank line at the end; stray I- tags start mentions (after O, and after another type)
TEST = "the\tO\nS\tI-GENE\n-\tI-GENE\n100\tI-GENE\nnaloxone\tB-Chemical\nshock\tI-Disease"
# 'toy' is not in TAGS: its tag set comes from the option
TOY_TAGS = ["O", "B-GENE", "I-GENE", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"]


def _record(split, index, text, items, types):
    example_id = f"{split}-{index}"
    return {
        "split": split,
        "doc_id": example_id,
        "example_id": example_id,
        "text": text,
        "items": items,
        "item_types": types,
    }


def test_reads_sentences_mentions_and_splits(tmp_path):
    (tmp_path / "train.tsv").write_text(TRAIN)
    (tmp_path / "test.tsv").write_text(TEST)
    records = list(read_iob("toy", tmp_path, {"train": "train.tsv", "test": "test.tsv"}, tags=TOY_TAGS))
    assert records == [
        _record(
            "train",
            0,
            "Selegiline - induced Parkinson ' s disease",
            ["Selegiline", "Parkinson ' s disease"],
            ["Chemical", "Disease"],
        ),
        _record("train", 1, "No mentions .", [], []),
        _record(
            "train",
            2,
            "lithium and lithium toxicity",
            ["lithium", "lithium", "toxicity"],
            ["Chemical", "Chemical", "Disease"],
        ),
        _record(
            "test",
            0,
            "the S - 100 naloxone shock",
            ["S - 100", "naloxone", "shock"],
            ["GENE", "Chemical", "Disease"],
        ),
    ]


def test_registered_under_its_name():
    assert get_reader("iob") is read_iob


@pytest.mark.parametrize(
    ("content", "line", "expected"),
    [
        ("a\tO\nb\tO\textra\n", 2, "2 TAB-separated columns"),
        ("a\tO\n\nb O\n", 3, "2 TAB-separated columns"),
        ("a\tO\nb\tB_GENE\n", 2, "a tag of toy: O, B-GENE, I-GENE, B-Chemical"),
        ("a\tO\n\n\tO\n", 3, "2 TAB-separated columns"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, content, line, expected):
    (tmp_path / "bad.tsv").write_text(content)
    with pytest.raises(DatasetFormatError, match=rf"'toy': .*bad\.tsv, line {line}: expected {re.escape(expected)}"):
        list(read_iob("toy", tmp_path, {"train": "bad.tsv"}, tags=TOY_TAGS))


def test_rejects_unknown_split_and_options(tmp_path):
    (tmp_path / "train.tsv").write_text(TRAIN)
    with pytest.raises(ConfigError, match="split 'validation'"):
        list(read_iob("toy", tmp_path, {"validation": "train.tsv"}, tags=TOY_TAGS))
    with pytest.raises(ConfigError, match="takes only the option 'tags'"):
        list(read_iob("toy", tmp_path, {"train": "train.tsv"}, tags=TOY_TAGS, scheme="iobes"))


def test_missing_file_is_named(tmp_path):
    # a corpus whose files were not placed under the raw root (bc4chemd here)
    with pytest.raises(DatasetFormatError, match=r"'bc4chemd': .*train\.tsv: expected at least one file"):
        list(read_iob("bc4chemd", tmp_path, {"train": "train.tsv"}))
