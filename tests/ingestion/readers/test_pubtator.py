import re

import pytest

from mtlsearch.errors import DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.pubtator import read_pubtator

TITLE = "HNF-6 and type II diabetes."
ABSTRACT = "MODY genes: HNF-6 binds HNF-6.   Mutations in hepatocyte nuclear factor 6 cause diabetes in mice."
# offsets index TITLE + " " + ABSTRACT
DOC1 = [
    f"111|t|{TITLE}",
    f"111|a|{ABSTRACT}",
    # listed first, but not the first mention of 3175 in the text
    "111\t74\t101\thepatocyte nuclear factor 6\tGeneOrGeneProduct\t 3175",
    "111\t0\t5\tHNF-6\tGeneOrGeneProduct\t3175",
    "111\t10\t26\ttype II diabetes\tDiseaseOrPhenotypicFeature\tD003924",
    "111\t28\t32\tMODY\tGeneOrGeneProduct\t3172,6927",
    "111\t40\t45\tHNF-6\tGeneOrGeneProduct\t3175",
    "111\t52\t57\tHNF-6\tGeneOrGeneProduct\t3175",
    "111\t108\t116\tdiabetes\tDiseaseOrPhenotypicFeature\tD003924",
    "111\t120\t124\tmice\tOrganismTaxon\t-",
    "111\tAssociation\t3175\tD003924\tNovel",
    "111\tBind\t3175\t3175\tNo",
    "111\tPositive_Correlation\tD003924\t6927\tNovel",
]
DOC2 = ["222|t|No relations here.", "222|a|Only text."]


def _write(path, lines, end="\r\n"):
    # every line ended, as released: a last line without its end is a file cut inside it
    path.write_bytes("".join(line + end for line in lines).encode())


def test_reads_documents_relations_and_first_mention_names(tmp_path):
    # CRLF endings, two blank lines between documents, no blank line at the end
    _write(tmp_path / "Train.PubTator", DOC1 + ["", ""] + DOC2)
    _write(tmp_path / "Test.PubTator", DOC2 + [""])
    records = list(read_pubtator("toy", tmp_path, {"train": "Train.PubTator", "test": "Test.PubTator"}))
    assert records == [
        {
            "split": "train",
            "doc_id": "111",
            "example_id": "111",
            "text": (
                "HNF-6 and type II diabetes. MODY genes: HNF-6 binds HNF-6. "
                "Mutations in hepatocyte nuclear factor 6 cause diabetes in mice."
            ),
            "items": [
                "HNF-6 | Association | type II diabetes",
                "HNF-6 | Bind | HNF-6",
                "type II diabetes | Positive_Correlation | MODY",
            ],
            "item_types": ["Association", "Bind", "Positive_Correlation"],
        },
        {
            "split": "train",
            "doc_id": "222",
            "example_id": "222",
            "text": "No relations here. Only text.",
            "items": [],
            "item_types": [],
        },
        {
            "split": "test",
            "doc_id": "222",
            "example_id": "222",
            "text": "No relations here. Only text.",
            "items": [],
            "item_types": [],
        },
    ]


def test_registered_under_its_name():
    assert get_reader("pubtator") is read_pubtator


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        # a mention line with 5 fields
        (DOC1[:3] + ["111\t10\t26\ttype II diabetes\tD003924"], 4, "a mention line (6 TAB-separated fields"),
        (DOC1[:3] + ["111\t10\tx\ttype II diabetes\tDisease\tD003924"], 4, "integer start and end offsets"),
        (DOC1[:3] + ["111\t11\t27\ttype II diabetes\tDisease\tD003924"], 4, "offsets 11-27 to span"),
        (DOC1[:3] + ["111\tBind\t3175\tNo"], 4, "or a relation line (5 fields"),
        # relation whose ID has no mention: the relation's line is named
        (DOC1[:3] + ["111\tBind\t3175\t9999\tNo"], 4, "a mention of concept '9999' in document 111"),
        (DOC1[:3] + ["112\t0\t5\tHNF-6\tGeneOrGeneProduct\t3175"], 4, "an annotation line of document 111"),
        # a document without its title, or without its abstract
        (DOC1[:3] + ["", DOC1[2]], 5, "a document's title line"),
        ([DOC1[0], DOC1[2]], 2, "the abstract line '111|a|...'"),
        (DOC2 + ["", "333|t|Title only.", ""], 4, "the abstract line '333|a|...' after this title line"),
    ],
)
def test_malformed_document_names_file_and_line(tmp_path, lines, line, expected):
    _write(tmp_path / "Bad.PubTator", lines)
    with pytest.raises(DatasetFormatError, match=rf"Bad\.PubTator, line {line}: expected .*{re.escape(expected)}"):
        list(read_pubtator("toy", tmp_path, {"dev": "Bad.PubTator"}))
