import json
import re

import pytest

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.phee import read_phee_json


def _event(kind, mentions, **extra):
    return {
        "event_id": "E1",
        "event_type": kind,
        "Trigger": {"text": mentions, "start": [[0] * len(m) for m in mentions], "entity_id": ["T1"]},
        **extra,
    }


def _line(rid, context, events):
    return json.dumps({"id": rid, "context": context, "is_mult_event": len(events) > 1, "annotations": [{"events": events}]})


TRAIN = [
    _line(
        "8908396_3",
        "  Insulin-induced lipoatrophies in a diabetic patient.",
        [
            _event(
                "Adverse_event",
                [["induced"]],
                Treatment={"text": [["Insulin"]], "start": [[2]], "entity_id": ["T2"]},
                Effect={"text": [["lipoatrophies"]], "start": [[18]], "entity_id": ["T3"]},
            )
        ],
    ),
    # a discontinuous trigger; only the first mention counts
    _line(
        "8908396_4",
        "Treatment led, after two weeks, to rash; lithium treated mania.",
        [
            _event("Adverse_event", [["led", "to"], ["ignored"]]),
            _event(
                "Potential_therapeutic_event",
                [["treated"]],
                Treatment={
                    "text": [["lithium"]],
                    "start": [[42]],
                    "entity_id": ["T5"],
                    "Combination": [{"event_id": "E3", "event_type": "Combination", "Trigger": {"text": [["and"]]}}],
                },
            ),
        ],
    ),
    _line("1234_1", "No event here.", []),
]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "json").mkdir()
    # CRLF endings and a trailing blank line
    (tmp_path / "json" / "train.json").write_bytes(("\r\n".join(TRAIN) + "\r\n\r\n").encode())
    (tmp_path / "json" / "test.json").write_text(_line("77_1", "Drug X caused  headache.", [_event("Adverse_event", [["caused"]])]) + "\n")
    return tmp_path


def test_reads_events_as_trigger_items(folder):
    records = list(read_phee_json("phee", folder, {"train": "json/train.json", "test": "json/test.json"}))
    assert records == [
        {
            "split": "train",
            "doc_id": "8908396",
            "example_id": "8908396_3",
            "text": "Insulin-induced lipoatrophies in a diabetic patient.",
            "items": ["induced | Adverse_event"],
            "item_types": ["Adverse_event"],
        },
        {
            "split": "train",
            "doc_id": "8908396",
            "example_id": "8908396_4",
            "text": "Treatment led, after two weeks, to rash; lithium treated mania.",
            "items": ["led to | Adverse_event", "treated | Potential_therapeutic_event"],
            "item_types": ["Adverse_event", "Potential_therapeutic_event"],
        },
        {
            "split": "train",
            "doc_id": "1234",
            "example_id": "1234_1",
            "text": "No event here.",
            "items": [],
            "item_types": [],
        },
        {
            "split": "test",
            "doc_id": "77",
            "example_id": "77_1",
            "text": "Drug X caused  headache.",
            "items": ["caused | Adverse_event"],
            "item_types": ["Adverse_event"],
        },
    ]


def test_registered_and_config_errors(folder):
    assert get_reader("phee_json") is read_phee_json
    with pytest.raises(ConfigError, match="'validation' is not a split"):
        list(read_phee_json("phee", folder, {"validation": "json/train.json"}))
    with pytest.raises(ConfigError, match="unknown options"):
        list(read_phee_json("phee", folder, {"train": "json/train.json"}, arguments=True))


@pytest.mark.parametrize(
    "bad, expected",
    [
        ('{"id": "1_1", "context": "x", ', "expected a JSON object"),
        (json.dumps({"id": "1_1", "annotations": [{"events": []}]}), "expected a record with 'context'"),
        (json.dumps({"id": "1_1", "context": "x", "annotations": []}), "expected a record with 'annotations[0]'"),
        (
            json.dumps({"id": "1_1", "context": "x", "annotations": [{"events": [{"event_type": "Adverse_event"}]}]}),
            "expected a record with 'annotations[0].events[0].Trigger'",
        ),
        (json.dumps({"id": 11, "context": "x", "annotations": [{"events": []}]}), "expected 'id' to be a str"),
        (
            _line("1_1", "x", [_event("Adverse_event", [[" "]])]),
            "expected 'annotations[0].events[0]' with a non-empty trigger text",
        ),
    ],
)
def test_malformed_line_names_file_and_line(folder, bad, expected):
    path = folder / "json" / "dev.json"
    path.write_text(TRAIN[2] + "\n" + bad + "\n")
    with pytest.raises(DatasetFormatError, match=re.escape(f"dev.json, line 2: {expected}")):
        list(read_phee_json("phee", folder, {"dev": "json/dev.json"}))
