import json

import pytest

from mtlsearch.errors import DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.git import clean_sentence, read_git_jsonl


def _line(subject, predicate, obj, sentence):
    return json.dumps({"PREDICATE": predicate, "SUBJECT_TEXT": subject, "OBJECT_TEXT": obj, "SENTENCE": sentence})


def _write(path, lines):
    # as released: CRLF, and no line end after the last record
    path.write_bytes("\r\n".join(lines).encode())


TONIN = _line(
    "tonin",
    "ADMINISTERED_TO",
    "rats",
    "when 500 microliter of  tonin  was administered to  rats , the  tonin -alpha 1 complex formed.",
)
# one sentence released twice, once per triple, each time padded around that triple's entities
SULFA_1 = _line(
    "plasma proteins", "INTERACTS_WITH", "drugs", "the binding of sulfonamide  drugs  by  plasma proteins ."
)
SULFA_2 = _line(
    "plasma proteins", "INTERACTS_WITH", "sulfonamide", "the binding of  sulfonamide  drugs by  plasma proteins ."
)
MARKED = _line(
    "kds",
    "TREATS",
    "epilepsy",
    "ketogenic diets ([  kds  ]) are effective in treating {  epilepsy  }, as in [title].",
)
# json.dumps writes the non-ASCII character as a \uXXXX escape, as in the release
TITLE = _line("\u03b2-endorphin", "STIMULATES", "pain", "[effect of  \u03b2-endorphin  on  pain ].")


def test_groups_records_by_cleaned_sentence(tmp_path):
    _write(tmp_path / "train.jsonl", [TONIN, SULFA_1, MARKED, SULFA_2, TITLE])
    # the released test file lists every record twice
    _write(tmp_path / "test.jsonl", [MARKED, MARKED, TONIN, TONIN])
    records = list(read_git_jsonl("toy", tmp_path, {"train": "train.jsonl", "test": "test.jsonl"}))

    def record(split, k, text, items):
        return {
            "split": split,
            "doc_id": f"{split}-{k}",
            "example_id": f"{split}-{k}",
            "text": text,
            "items": items,
            "item_types": [item.split(" | ")[1] for item in items],
        }

    tonin = "when 500 microliter of tonin was administered to rats, the tonin-alpha 1 complex formed."
    marked = "ketogenic diets (kds) are effective in treating epilepsy, as in [title]."
    assert records == [
        record("train", 0, tonin, ["tonin | ADMINISTERED_TO | rats"]),
        record(
            "train",
            1,
            "the binding of sulfonamide drugs by plasma proteins.",
            ["plasma proteins | INTERACTS_WITH | drugs", "plasma proteins | INTERACTS_WITH | sulfonamide"],
        ),
        record("train", 2, marked, ["kds | TREATS | epilepsy"]),
        record("train", 3, "[effect of \u03b2-endorphin on pain].", ["\u03b2-endorphin | STIMULATES | pain"]),
        record("test", 0, marked, ["kds | TREATS | epilepsy"]),
        record("test", 1, tonin, ["tonin | ADMINISTERED_TO | rats"]),
    ]


@pytest.mark.parametrize(
    ("sentence", "mentions", "clean"),
    [
        ("smooth- muscle transposition  (tunnel graft) in  infants .", ["muscle transposition", "infants"],
         "smooth-muscle transposition (tunnel graft) in infants."),
        # an occurrence touching a word is left alone: it may be a padded word part or two words
        ("whv polymerase poly peptide .", ["peptide", "poly peptide"], "whv polymerase poly peptide ."),
        # an unpadded occurrence keeps its spaces
        ("after  open reduction  and after open reduction , then", ["open reduction"],
         "after open reduction and after open reduction , then"),
        (" chloramphenicol , streptomycin", ["chloramphenicol"], "chloramphenicol, streptomycin"),
        ("results: [  mit  ] improved {  depression  }; and a[  m  ] and { dynamic balance }.",
         ["mit", "depression"], "results: mit improved depression; and am and dynamic balance."),
    ],
)
def test_clean_sentence(sentence, mentions, clean):
    assert clean_sentence(sentence, mentions) == clean


def test_registered_under_its_name():
    assert get_reader("git_jsonl") is read_git_jsonl


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"PREDICATE": "TREATS", "SUBJECT_TEXT": "a"', "one JSON object per line"),
        ('["TREATS", "a", "b", "a treats b"]', "a JSON object"),
        (json.dumps({"PREDICATE": "TREATS", "SUBJECT_TEXT": "a", "SENTENCE": "a treats b"}), "non-empty string values"),
        (json.dumps({"PREDICATE": "TREATS", "SUBJECT_TEXT": "a", "OBJECT_TEXT": " ", "SENTENCE": "a b"}),
         "non-empty string values"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad_line, expected):
    _write(tmp_path / "bad.jsonl", [TONIN, SULFA_1, bad_line, TONIN])
    with pytest.raises(DatasetFormatError, match=rf"bad\.jsonl, line 3: expected {expected}"):
        list(read_git_jsonl("toy", tmp_path, {"dev": "bad.jsonl"}))


def test_missing_key_is_named(tmp_path):
    _write(tmp_path / "bad.jsonl", [json.dumps({"PREDICATE": "TREATS", "SUBJECT_TEXT": "a", "SENTENCE": "a b"})])
    with pytest.raises(DatasetFormatError, match=r"line 1: .*found \"missing \['OBJECT_TEXT'\]\""):
        list(read_git_jsonl("toy", tmp_path, {"dev": "bad.jsonl"}))
