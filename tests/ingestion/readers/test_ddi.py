import logging
import re

import pytest

from mtlsearch.errors import DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.ddi import read_ddi_xml

DRUGBANK = """<?xml version="1.0" encoding="UTF-8"?>
<document id="DDI-DrugBank.d1">
    <sentence id="DDI-DrugBank.d1.s0" text="No drug interactions have been reported."/>
    <sentence id="DDI-DrugBank.d1.s1" text="Aspirin increases the effect of  warfarin and of oral anticoagulants.">
        <entity id="DDI-DrugBank.d1.s1.e0" charOffset="0-6" type="drug" text="Aspirin"/>
        <entity id="DDI-DrugBank.d1.s1.e1" charOffset="33-40" type="drug" text="warfarin"/>
        <entity id="DDI-DrugBank.d1.s1.e2" charOffset="49-52;54-67" type="group"
            text="oral  anticoagulants"/>
        <pair id="DDI-DrugBank.d1.s1.p0" e1="DDI-DrugBank.d1.s1.e0" e2="DDI-DrugBank.d1.s1.e1"
            ddi="true" type="effect"/>
        <pair id="DDI-DrugBank.d1.s1.p1" e1="DDI-DrugBank.d1.s1.e0" e2="DDI-DrugBank.d1.s1.e2" ddi="true"/>
        <pair id="DDI-DrugBank.d1.s1.p2" e1="DDI-DrugBank.d1.s1.e1" e2="DDI-DrugBank.d1.s1.e2" ddi="false"/>
    </sentence>
    <sentence id="DDI-DrugBank.d1.s2" text="Warfarin and aspirin are given together.">
        <entity id="DDI-DrugBank.d1.s2.e0" charOffset="0-7" type="drug" text="Warfarin"/>
        <entity id="DDI-DrugBank.d1.s2.e1" charOffset="13-19" type="drug" text="aspirin"/>
        <pair id="DDI-DrugBank.d1.s2.p0" e1="DDI-DrugBank.d1.s2.e0" e2="DDI-DrugBank.d1.s2.e1" ddi="false"/>
    </sentence>
</document>
"""
MEDLINE = """<?xml version="1.0" encoding="UTF-8"?>
<document id="DDI-MedLine.d7">
    <sentence id="DDI-MedLine.d7.s0" text="Ketoconazole inhibits the metabolism of midazolam.">
        <entity id="DDI-MedLine.d7.s0.e0" charOffset="0-11" type="drug" text="Ketoconazole"/>
        <entity id="DDI-MedLine.d7.s0.e1" charOffset="40-48" type="drug" text="midazolam"/>
        <pair id="DDI-MedLine.d7.s0.p0" e1="DDI-MedLine.d7.s0.e0" e2="DDI-MedLine.d7.s0.e1"
            ddi="true" type="mechanism"/>
    </sentence>
</document>
"""


def _corpus(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_reads_sentences_and_positive_pairs(tmp_path, caplog):
    _corpus(
        tmp_path,
        {
            "DDICorpus/Train/DrugBank/Aspirin_ddi.xml": DRUGBANK,
            "DDICorpus/Train/MedLine/d7.xml": MEDLINE,
            "DDICorpus/Train/notes.txt": "not a document",
        },
    )
    with caplog.at_level(logging.INFO, logger="mtlsearch.ingestion.readers.ddi"):
        records = list(read_ddi_xml("toy", tmp_path, {"train": "DDICorpus/Train/**/*.xml"}))
    assert records == [
        {
            "split": "train",
            "doc_id": "DDI-DrugBank.d1",
            "example_id": "DDI-DrugBank.d1.s0",
            "text": "No drug interactions have been reported.",
            "items": [],
            "item_types": [],
        },
        {
            "split": "train",
            "doc_id": "DDI-DrugBank.d1",
            "example_id": "DDI-DrugBank.d1.s1",
            "text": "Aspirin increases the effect of warfarin and of oral anticoagulants.",
            "items": ["Aspirin | effect | warfarin", "Aspirin | int | oral anticoagulants"],
            "item_types": ["effect", "int"],
        },
        {
            "split": "train",
            "doc_id": "DDI-DrugBank.d1",
            "example_id": "DDI-DrugBank.d1.s2",
            "text": "Warfarin and aspirin are given together.",
            "items": [],
            "item_types": [],
        },
        {
            "split": "train",
            "doc_id": "DDI-MedLine.d7",
            "example_id": "DDI-MedLine.d7.s0",
            "text": "Ketoconazole inhibits the metabolism of midazolam.",
            "items": ["Ketoconazole | mechanism | midazolam"],
            "item_types": ["mechanism"],
        },
    ]
    assert "DDI-DrugBank.d1.s1.p1" in caplog.text and "'int'" in caplog.text


def test_registered_under_its_name():
    assert get_reader("ddi_xml") is read_ddi_xml


@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        # unclosed <sentence> on line 3: the parser stops at the closing </document> on line 4
        (
            '<?xml version="1.0"?>\n<document id="d">\n<sentence id="d.s0" text="x">\n</document>\n',
            "line 4",
            "well-formed XML",
        ),
        (
            # a negative pair is checked too
            DRUGBANK.replace('e2="DDI-DrugBank.d1.s2.e1"', 'e2="DDI-DrugBank.d1.s2.e9"'),
            "record 'DDI-DrugBank.d1.s2.p0'",
            "e2 to name an entity of sentence 'DDI-DrugBank.d1.s2'",
        ),
        (
            DRUGBANK.replace('<sentence id="DDI-DrugBank.d1.s2" text="Warfarin and aspirin are given together."',
                             '<sentence id="DDI-DrugBank.d1.s2"'),
            "record 'DDI-DrugBank.d1.s2'",
            "a 'text' attribute on <sentence>",
        ),
    ],
)
def test_malformed_file_names_file_and_place(tmp_path, content, where, expected):
    _corpus(tmp_path, {"DDICorpus/Test/bad.xml": content})
    message = rf"bad\.xml, {re.escape(where)}: expected {re.escape(expected)}"
    with pytest.raises(DatasetFormatError, match=message):
        list(read_ddi_xml("toy", tmp_path, {"test": "DDICorpus/Test/**/*.xml"}))


def test_pattern_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(DatasetFormatError, match=r"Train/\*\*/\*\.xml: expected at least one file"):
        list(read_ddi_xml("toy", tmp_path, {"train": "DDICorpus/Train/**/*.xml"}))
