"""Files cut short (a copy or download that stopped early) are errors, never fewer or bogus examples.

Each case writes a file in the dataset's native format, cuts it where the bug report says, and
checks that the error names the file, the line and what was expected there.
"""

import json
import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.ade import read_ade
from mtlsearch.ingestion.readers.canonical import read_canonical_jsonl
from mtlsearch.ingestion.readers.ddi import read_ddi_xml
from mtlsearch.ingestion.readers.git import read_git_jsonl
from mtlsearch.ingestion.readers.healthadvice import read_healthadvice_csv
from mtlsearch.ingestion.readers.iob import TAGS, read_iob
from mtlsearch.ingestion.readers.phee import read_phee_json
from mtlsearch.ingestion.readers.pubmed_rct import read_pubmed_rct
from mtlsearch.ingestion.readers.pubtator import read_pubtator
from mtlsearch.ingestion.readers.standoff import read_bionlp_standoff

LINE_END = "a line end after the last line (the file ends inside it)"


def _cut(text: str, marker: str, keep: int) -> str:
    """``text`` up to ``keep`` characters into the first ``marker``: where the copy stopped."""
    return text[: text.index(marker) + keep]


def _raises(file: str, line: int, expected: str, found: str | None = None):
    pattern = rf"{re.escape(file)}, line {line}: expected .*{re.escape(expected)}"
    if found is not None:
        pattern += rf".*, found {re.escape(repr(found))}$"
    return pytest.raises(DatasetFormatError, match=pattern)


# ---------------------------------------------------------------------------------------- CSV

HEALTH = (
    "label,pmid,sentence,design\n"  # 1
    '0,1,"A sentence over\ntwo lines.",RCT\n'  # 2-3
    "2,5,Clinicians should screen.,RCT\n"  # 4
    '1,123,"However, for sthenic patients, a low dose may be considered.",RCT\n'  # 5
)


def test_csv_cut_inside_a_quoted_sentence_names_the_line_of_the_open_quote(tmp_path):
    (tmp_path / "annotations_structured_abstract.csv").write_text(_cut(HEALTH, "sthenic", 5))
    with _raises(
        "annotations_structured_abstract.csv",
        5,
        "a closing quote for the field quoted here (the file ends inside it)",
        '"However, for sthen',
    ):
        list(read_healthadvice_csv("healthadvice", tmp_path, {"all": "annotations_structured_abstract.csv"}))


def test_csv_open_quote_on_a_later_line_of_the_record(tmp_path):
    # the record starts on line 5 with a closed two-line field; the open quote is on line 6
    text = HEALTH[: HEALTH.index("1,123")] + '1,7,"Two\nlines.","cut short\nhere'
    (tmp_path / "a.csv").write_text(text)
    with _raises("a.csv", 6, "a closing quote for the field quoted here", '"cut short'):
        list(read_healthadvice_csv("healthadvice", tmp_path, {"all": "a.csv"}))


def test_csv_row_cut_before_its_last_column(tmp_path):
    (tmp_path / "a.csv").write_text(_cut(HEALTH, "Clinicians", 10))
    with _raises("a.csv", 4, "4 comma-separated fields as in the header"):
        list(read_healthadvice_csv("healthadvice", tmp_path, {"all": "a.csv"}))


# ---------------------------------------------------------------------------------------- IOB

IOB = {
    "bc2gm": "IL\tB-GENE\n-\tI-GENE\n2\tI-GENE\nbinds\tO\n\nThe\tO\nTD\tB-GENE\ngene\tO\n",
    "bc4chemd": "Aspirin\tB-Chemical\nand\tO\nsalicylic\tB-Chemical\nacid\tI-Chemical\n\nThe\tO\nTD\tB-Chemical\n",
    "bc5cdr": "Lithium\tB-Chemical\ncaused\tO\ntremor\tB-Disease\n.\tO\n\nThe\tO\nTD\tI-Disease\n",
}


@pytest.mark.parametrize("dataset", sorted(IOB))
def test_iob_whole_files_read(tmp_path, dataset):
    (tmp_path / "train.tsv").write_text(IOB[dataset])
    assert len(list(read_iob(dataset, tmp_path, {"train": "train.tsv"}))) == 2


@pytest.mark.parametrize("dataset", sorted(IOB))
@pytest.mark.parametrize("keep", [5, 4, 2])
def test_iob_file_cut_inside_a_tag_names_the_tag_and_the_dataset_tags(tmp_path, dataset, keep):
    # 'TD\tB-GEN', 'TD\tB-GE', 'TD\tB-': a tag cut short is not in the dataset's tag set
    text = _cut(IOB[dataset], "TD\t", 3 + keep)
    (tmp_path / "train.tsv").write_text(text)
    cut_tag = text.rsplit("\t", 1)[1]
    with _raises("train.tsv", 7, f"a tag of {dataset}: {', '.join(TAGS[dataset])}", cut_tag):
        list(read_iob(dataset, tmp_path, {"train": "train.tsv"}))


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_iob_line_without_its_tag(tmp_path, keep):
    # 'T', 'TD', 'TD<TAB>': no complete token<TAB>tag pair
    (tmp_path / "train.tsv").write_text(_cut(IOB["bc2gm"], "TD\t", keep))
    with _raises("train.tsv", 7, "2 TAB-separated columns 'TOKEN<TAB>TAG'"):
        list(read_iob("bc2gm", tmp_path, {"train": "train.tsv"}))


def test_iob_tag_of_another_dataset_is_an_error(tmp_path):
    (tmp_path / "test.tsv").write_text("Aspirin\tB-Chemical\n")
    with _raises("test.tsv", 1, "a tag of bc2gm: O, B-GENE, I-GENE", "B-Chemical"):
        list(read_iob("bc2gm", tmp_path, {"test": "test.tsv"}))


def test_iob_dataset_without_a_known_tag_set(tmp_path):
    (tmp_path / "train.tsv").write_text("IL\tB-Protein\n")
    with pytest.raises(ConfigError, match=r"dataset 'jnlpba': reader 'iob' has no known tag set .*options: \{tags:"):
        list(read_iob("jnlpba", tmp_path, {"train": "train.tsv"}))
    with pytest.raises(ConfigError, match="option 'tags' must be a list of tags"):
        list(read_iob("jnlpba", tmp_path, {"train": "train.tsv"}, tags="O B-Protein"))
    with pytest.raises(ConfigError, match="option 'tags' must be a list of tags"):
        list(read_iob("jnlpba", tmp_path, {"train": "train.tsv"}, tags=["O", "Protein"]))
    records = list(read_iob("jnlpba", tmp_path, {"train": "train.tsv"}, tags=["O", "B-Protein", "I-Protein"]))
    assert records[0]["item_types"] == ["Protein"]


# ----------------------------------------------------------------------------------- PubTator

TITLE = "HNF-6 and type II diabetes."
ABSTRACT = "MODY genes: HNF-6 binds HNF-6."
PUBTATOR = "".join(
    line + "\r\n"
    for line in [
        f"111|t|{TITLE}",  # 1
        f"111|a|{ABSTRACT}",  # 2
        "111\t0\t5\tHNF-6\tGeneOrGeneProduct\t3175",  # 3
        "111\t10\t26\ttype II diabetes\tDiseaseOrPhenotypicFeature\tD003924",  # 4
        "111\tAssociation\t3175\tD003924\tNovel",  # 5
        "",
        "222|t|Second document.",  # 7
        "222|a|Its abstract is here.",  # 8
        "222\t0\t6\tSecond\tGeneOrGeneProduct\t1",  # 9
        "222\tBind\t1\t1\tNo",  # 10
    ]
)


def test_pubtator_whole_file_reads(tmp_path):
    (tmp_path / "Test.PubTator").write_bytes(PUBTATOR.encode())
    records = list(read_pubtator("biored", tmp_path, {"test": "Test.PubTator"}))
    assert [r["items"] for r in records] == [["HNF-6 | Association | type II diabetes"], ["Second | Bind | Second"]]


@pytest.mark.parametrize(
    ("marker", "keep", "line"),
    [
        ("binds HNF", 5, 2),  # mid-abstract: the document would be kept without its mentions
        ("111\t10\t26\ttype", 9, 4),  # mid-mention, fewer fields
        ("D003924\r\n111", 5, 4),  # inside the ID: all six fields, the wrong ID
        ("Association", 6, 5),  # mid-relation
        ("Novel", 3, 5),  # inside the last field of a relation
        ("Its abstract", 7, 8),  # mid-abstract of a later document
        ("1\tNo", 3, 10),  # in the novelty of the last line
    ],
)
def test_pubtator_file_ending_inside_a_line(tmp_path, marker, keep, line):
    (tmp_path / "Test.PubTator").write_bytes(_cut(PUBTATOR, marker, keep).encode())
    with _raises("Test.PubTator", line, LINE_END):
        list(read_pubtator("biored", tmp_path, {"test": "Test.PubTator"}))


def test_pubtator_cut_after_the_title_line(tmp_path):
    (tmp_path / "Test.PubTator").write_bytes(_cut(PUBTATOR, "222|a|", 0).encode())
    with _raises("Test.PubTator", 7, "the abstract line '222|a|...' after this title line"):
        list(read_pubtator("biored", tmp_path, {"test": "Test.PubTator"}))


@pytest.mark.parametrize(
    ("replace", "by", "line", "expected"),
    [
        # the abstract line missing before the mentions
        (f"111|a|{ABSTRACT}\r\n", "", 2, "the abstract line '111|a|...' after the title"),
        # a mention line short of fields, and one whose ID field is empty
        ("\tD003924\r\n", "\r\n", 4, "a mention line (6 TAB-separated fields"),
        ("\tD003924\r\n", "\t\r\n", 4, "a non-empty entity type and concept IDs"),
        # offsets past the end of the text (title + ' ' + abstract is 58 characters)
        ("111\t0\t5\tHNF-6", "111\t50\t75\tHNF-6", 3, "offsets 50-75 to span the mention text"),
        # a relation line short of fields, and one whose novelty is empty
        ("\tD003924\tNovel", "\tD003924", 5, "or a relation line (5 fields"),
        ("\tD003924\tNovel", "\tD003924\t", 5, "a relation type, two concept IDs and a novelty label"),
    ],
)
def test_pubtator_incomplete_line_in_a_record(tmp_path, replace, by, line, expected):
    (tmp_path / "Test.PubTator").write_bytes(PUBTATOR.replace(replace, by, 1).encode())
    with _raises("Test.PubTator", line, expected):
        list(read_pubtator("biored", tmp_path, {"test": "Test.PubTator"}))


# ---------------------------------------------------------------------------------------- DDI

DDI = """<?xml version="1.0" encoding="UTF-8"?>
<document id="DDI-MedLine.d7">
    <sentence id="DDI-MedLine.d7.s0" text="Ketoconazole inhibits the metabolism of midazolam.">
        <entity id="DDI-MedLine.d7.s0.e0" charOffset="0-11" type="drug" text="Ketoconazole"/>
        <entity id="DDI-MedLine.d7.s0.e1" charOffset="40-48" type="drug" text="midazolam"/>
        <pair id="DDI-MedLine.d7.s0.p0" e1="DDI-MedLine.d7.s0.e0" e2="DDI-MedLine.d7.s0.e1"
            ddi="true" type="mechanism"/>
    </sentence>
</document>
"""


# cut inside the <pair> tag begun on line 6 (expat names the line the open tag starts on), and
# after </sentence> on line 8
@pytest.mark.parametrize(("marker", "keep", "line"), [('"mechanism"', 5, 6), ("</sentence>", 11, 8)])
def test_ddi_truncated_xml_stays_an_error(tmp_path, marker, keep, line):
    (tmp_path / "Train").mkdir()
    (tmp_path / "Train" / "d7.xml").write_text(_cut(DDI, marker, keep))
    with _raises("d7.xml", line, "well-formed XML"):
        list(read_ddi_xml("ddi", tmp_path, {"train": "Train/*.xml"}))


# ----------------------------------------------------------------------------------- standoff

TEXT = "Binding of p50 was seen.\nIL-2 expression rose.\n"
A1 = "T1\tProtein 11 14\tp50\nT2\tProtein 25 29\tIL-2\n"
A2 = (
    "T3\tBinding 0 7\tBinding\n"
    "E1\tBinding:T3 Theme:T1\n"
    "T4\tGene_expression 30 40\texpression\n"
    "E2\tGene_expression:T4 Theme:T2\n"
)


def _standoff(tmp_path, text=TEXT, a1=A1, a2=A2):
    directory = tmp_path / "train"
    directory.mkdir(exist_ok=True)
    (directory / "PMID-1.txt").write_text(text)
    (directory / "PMID-1.a1").write_text(a1)
    (directory / "PMID-1.a2").write_text(a2)
    return list(read_bionlp_standoff("genia2011", tmp_path, {"train": "train"}))


def test_standoff_whole_document_reads(tmp_path):
    assert [r["items"] for r in _standoff(tmp_path)] == [["Binding | Binding"], ["expression | Gene_expression"]]


@pytest.mark.parametrize(
    ("file", "marker", "keep", "line"),
    [
        ("a2", "Theme:T2", 6, 4),  # inside the argument of the last event line
        ("a2", "T4\t", 12, 3),  # a text-bound line cut before its text
        ("a2", "E2", 2, 4),  # an annotation id only
        ("a1", "IL-2\n", 2, 2),  # inside the text of the given protein
    ],
)
def test_standoff_annotation_file_ending_inside_a_line(tmp_path, file, marker, keep, line):
    content = {"a1": A1, "a2": A2}[file]
    with _raises(f"PMID-1.{file}", line, LINE_END):
        _standoff(tmp_path, **{file: _cut(content, marker, keep)})


@pytest.mark.parametrize(
    ("a2", "line", "expected"),
    [
        ("T3\tBinding 0 7\tBinding\nE1\n", 2, "an annotation line 'T<n>|E<n>|M<n>|R<n>|A<n>|N<n>|* TAB ...'"),
        ("T3\tBinding 0 7\tBinding\nE1\t\n", 2, "an annotation line"),
        ("T3\tBinding 0 7\n", 1, "'T<n> TAB <type> <start> <end> TAB <text>'"),
        ("T3\tBinding 0\tBinding\n", 1, "'<type> <start> <end>' in the second field"),
    ],
)
def test_standoff_annotation_line_with_too_few_fields(tmp_path, a2, line, expected):
    with _raises("PMID-1.a2", line, expected):
        _standoff(tmp_path, a2=a2)


def test_standoff_text_cut_before_an_annotated_span(tmp_path):
    # the .txt stopped after 'IL-2 exp': the trigger 'expression' (30-40) lies past its end
    with _raises("PMID-1.a2", 3, "offsets within the text (0..33) with start < end", "Gene_expression 30 40"):
        _standoff(tmp_path, text=_cut(TEXT, "expression", 3))
    with _raises("PMID-1.a1", 2, "offsets within the text (0..27) with start < end", "Protein 25 29"):
        _standoff(tmp_path, text=_cut(TEXT, "IL-2", 2))


def test_standoff_empty_text(tmp_path):
    with pytest.raises(DatasetFormatError, match=r"PMID-1\.txt: expected the text of document 'PMID-1'"):
        _standoff(tmp_path, text="", a1="", a2="")


# ----------------------------------------------------------------------------- ADE, RCT, JSON

REL = (
    "10030778|Intravenous azithromycin-induced ototoxicity.|ototoxicity|43|54|azithromycin|22|34\n"
    "555|Lithium caused tremor.|tremor|10|16|Lithium|0|7\n"
)
NEG = "8402502 NEG External beam radiation therapy often is avoided.\n555 NEG Results are shown.\n"


@pytest.mark.parametrize(
    ("key", "marker", "keep"),
    [("positive", "Lithium|0|7", 10), ("positive", "tremor|10", 4), ("negative", "Results are", 7)],
)
def test_ade_file_ending_inside_a_line(tmp_path, key, marker, keep):
    content = {"positive": REL, "negative": NEG}
    content[key] = _cut(content[key], marker, keep)
    (tmp_path / "DRUG-AE.rel").write_text(content["positive"])
    (tmp_path / "ADE-NEG.txt").write_text(content["negative"])
    name = {"positive": "DRUG-AE.rel", "negative": "ADE-NEG.txt"}[key]
    with _raises(name, 2, LINE_END):
        list(read_ade("ade", tmp_path, {"positive": "DRUG-AE.rel", "negative": "ADE-NEG.txt"}))


def test_ade_offsets_not_spanning_their_text(tmp_path):
    # 'tremor|10|16' with its end offset cut from 16 to 1 and the line end kept: 10-1 is no span
    (tmp_path / "DRUG-AE.rel").write_text(REL.replace("|10|16|", "|10|1|"))
    with _raises("DRUG-AE.rel", 2, "the effect's offsets 10-1 to span its 6 characters"):
        list(read_ade("ade", tmp_path, {"positive": "DRUG-AE.rel"}))


def test_pubmed_rct_file_ending_inside_a_sentence(tmp_path):
    text = "###1\nMETHODS\tA total of 125 patients were randomized .\n\n###2\nRESULTS\tPain scores improved .\n"
    (tmp_path / "test.txt").write_text(_cut(text, "Pain scores", 6))
    with _raises("test.txt", 5, LINE_END):
        list(read_pubmed_rct("pubmed20krct", tmp_path, {"test": "test.txt"}))


def _phee(i):
    return json.dumps(
        {
            "id": f"1_{i}",
            "context": "Drug X caused headache.",
            "annotations": [{"events": [{"event_type": "Adverse_event", "Trigger": {"text": [["caused"]]}}]}],
        }
    )


def _git(i):
    sentence = f"aspirin treats pain {i}."
    return json.dumps({"PREDICATE": "TREATS", "SUBJECT_TEXT": "aspirin", "OBJECT_TEXT": "pain", "SENTENCE": sentence})


def _canonical(i):
    return json.dumps({"text": f"Aspirin {i}.", "items": ["Aspirin"]})


@pytest.mark.parametrize(
    ("read", "dataset", "line_of", "expected"),
    [
        (read_phee_json, "phee", _phee, "a JSON object ("),
        (read_git_jsonl, "git", _git, "one JSON object per line"),
        (read_canonical_jsonl, "mine", _canonical, "a JSON object ("),
    ],
)
def test_json_lines_cut_inside_the_last_record(tmp_path, read, dataset, line_of, expected):
    # git is released without a line end after its last record: only the JSON tells a cut
    lines = [line_of(i) for i in range(3)]
    (tmp_path / "train.json").write_text("\n".join(lines)[:-10])
    with _raises("train.json", 3, expected):
        list(read(dataset, tmp_path, {"train": "train.json"}))
