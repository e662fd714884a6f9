import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.standoff import article_id, read_bionlp_standoff, sentence_spans

ABSTRACT = (
    "Regulation of IL-2 in T cells\n"
    "IL-2 expression was induced by TNF. Binding of p50 was seen e.g. in vivo! "
    "2 genes were (not) expressed. [Ref] Phosphorylation? yes.\n"
    "\n"
    "Last line.\n"
)


def _t(tid, kind, text, surface, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return f"{tid}\t{kind} {start} {start + len(surface)}\t{surface}"


def _write(directory, name, text, a2_lines, newline="\n"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.txt").write_bytes(text.encode())
    (directory / f"{name}.a1").write_text("")
    (directory / f"{name}.a2").write_bytes(newline.join(a2_lines).encode() + newline.encode())


@pytest.fixture
def corpus(tmp_path):
    train = tmp_path / "data" / "train"
    # out of offset order, with non-trigger T lines and the other line kinds around them
    _write(
        train,
        "PMID-123",
        ABSTRACT,
        [
            _t("T5", "Gene_expression", ABSTRACT, "expression"),
            "*\tEquiv T1 T2",
            _t("T4", "Regulation", ABSTRACT, "Regulation"),
            _t("T6", "Positive_regulation", ABSTRACT, "induced"),
            _t("T7", "Entity", ABSTRACT, "T cells"),
            _t("T8", "Binding", ABSTRACT, "Binding"),
            _t("T9", "Gene_expression", ABSTRACT, "expressed"),
            _t("T10", "Phosphorylation", ABSTRACT, "Phosphorylation"),
            _t("T11", "Anaphora", ABSTRACT, "p50"),
            "E1\tGene_expression:T5 Theme:T1",
            "E2\tPositive_regulation:T6 Theme:E1 Cause:T3",
            "M1\tNegation E1",
            "R1\tCoreference Subject:T11 Object:T2",
        ],
    )
    section = "Results\r\nWe saw no change. Then   NF-kB   activation rose.\r\n"
    _write(train, "PMC-555-02-Results", section, [_t("T3", "Positive_regulation", section, "activation")], "\r\n")
    _write(train, "PMC-555-00-TIAB", "Title only", [])
    devel = tmp_path / "data" / "devel"
    _write(devel, "other-doc", "A sentence. Another one.", [_t("T2", "Binding", "A sentence. Another one.", "one")])
    return tmp_path / "data"


def test_sentence_spans_keep_offsets():
    spans = sentence_spans(ABSTRACT)
    assert [ABSTRACT[s:e] for s, e in spans] == [
        "Regulation of IL-2 in T cells",
        "IL-2 expression was induced by TNF.",
        "Binding of p50 was seen e.g. in vivo!",
        "2 genes were (not) expressed.",
        "[Ref] Phosphorylation? yes.",
        "Last line.",
    ]
    assert sentence_spans("  A b.  (C) d. \r\nE") == [(2, 6), (8, 14), (17, 18)]
    assert sentence_spans(" \n \n") == []


def test_article_ids():
    assert article_id("PMC-1310901-00-TIAB") == "PMC-1310901"
    assert article_id("PMC-1310901-02-Results-01") == "PMC-1310901"
    assert article_id("PMID-9878621") == "PMID-9878621"
    assert article_id("doc7") == "doc7"


def test_reads_sentences_with_their_triggers(corpus):
    records = list(read_bionlp_standoff("ge", corpus, {"train": "train", "test": "devel"}))

    def rec(split, doc, eid, text, pairs):
        return {
            "split": split,
            "doc_id": doc,
            "example_id": eid,
            "text": text,
            "items": [f"{t} | {k}" for t, k in pairs],
            "item_types": [k for _, k in pairs],
        }

    assert records == [
        rec("train", "PMC-555", "PMC-555-00-TIAB-s1", "Title only", []),
        rec("train", "PMC-555", "PMC-555-02-Results-s1", "Results", []),
        rec("train", "PMC-555", "PMC-555-02-Results-s2", "We saw no change.", []),
        rec(
            "train",
            "PMC-555",
            "PMC-555-02-Results-s3",
            "Then   NF-kB   activation rose.",
            [("activation", "Positive_regulation")],
        ),
        rec("train", "PMID-123", "PMID-123-s1", "Regulation of IL-2 in T cells", [("Regulation", "Regulation")]),
        rec(
            "train",
            "PMID-123",
            "PMID-123-s2",
            "IL-2 expression was induced by TNF.",
            [("expression", "Gene_expression"), ("induced", "Positive_regulation")],
        ),
        rec("train", "PMID-123", "PMID-123-s3", "Binding of p50 was seen e.g. in vivo!", [("Binding", "Binding")]),
        rec("train", "PMID-123", "PMID-123-s4", "2 genes were (not) expressed.", [("expressed", "Gene_expression")]),
        rec(
            "train",
            "PMID-123",
            "PMID-123-s5",
            "[Ref] Phosphorylation? yes.",
            [("Phosphorylation", "Phosphorylation")],
        ),
        rec("train", "PMID-123", "PMID-123-s6", "Last line.", []),
        rec("test", "other-doc", "other-doc-s1", "A sentence.", []),
        rec("test", "other-doc", "other-doc-s2", "Another one.", [("one", "Binding")]),
    ]


def test_registered_and_options(corpus):
    assert get_reader("bionlp_standoff") is read_bionlp_standoff
    records = read_bionlp_standoff("ge", corpus, {"train": "train"}, non_event_types=["Entity", "Binding"])
    items = [item for r in records for item in r["items"]]
    assert "T cells | Entity" not in items and "Binding | Binding" not in items
    assert "p50 | Anaphora" in items
    with pytest.raises(ConfigError, match="unknown options"):
        list(read_bionlp_standoff("ge", corpus, {"train": "train"}, sentences=True))
    with pytest.raises(ConfigError, match="'devel' is not a split"):
        list(read_bionlp_standoff("ge", corpus, {"devel": "devel"}))


def test_missing_a2_names_the_expected_file(corpus):
    (corpus / "devel" / "other-doc.a2").unlink()
    with pytest.raises(DatasetFormatError, match=re.escape("other-doc.a2") + ".*expected the .a2 annotation file"):
        list(read_bionlp_standoff("ge", corpus, {"test": "devel"}))


@pytest.mark.parametrize(
    "line, expected",
    [
        ("T9\tBinding 2 x\tsentence", "integer start and end offsets"),
        ("T9\tBinding 0 8\tsentence", "the text of span 0-8 in the .txt"),
        ("T9\tBinding 2 99\tsentence", "offsets within the text"),
        ("T9 Binding 2 10 sentence", "an annotation line"),
        ("T9\tBinding 2 10", "'T<n> TAB <type> <start> <end> TAB <text>'"),
    ],
)
def test_bad_a2_line_names_file_and_line(corpus, line, expected):
    a2 = corpus / "devel" / "other-doc.a2"
    a2.write_text(a2.read_text() + "E1\tBinding:T2\n" + line + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape(f"other-doc.a2, line 3: expected {expected}")):
        list(read_bionlp_standoff("ge", corpus, {"test": "devel"}))


def test_empty_directory(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(DatasetFormatError, match="at least one <name>.txt document"):
        list(read_bionlp_standoff("ge", tmp_path, {"train": "train"}))
    with pytest.raises(DatasetFormatError, match="a directory of"):
        list(read_bionlp_standoff("ge", tmp_path, {"train": "nowhere"}))
