"""PHEE processed JSON lines (``data/json/{train,dev,test}.json``) as trigger detection.

Each line is one sentence::

    {"id": "<PMID>_<n>", "context": "<sentence>",
     "annotations": [{"events": [{"event_type": "...", "Trigger": {"text": [[frag, ...], ...], ...}, ...}]}]}

One example per line: the text is ``context``; each top-level event of ``annotations[0].events``
gives the item ``"trigger text | event_type"``, where the trigger text is the fragments of the
trigger's first mention joined by a space (a discontinuous trigger has several fragments).
Arguments, attributes and ``Combination`` sub-events are not used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import (
    SPLITS,
    Record,
    at_least_one,
    json_lines,
    normalize_space,
    source_files,
)


def _get(dataset: str, path: Path, lineno: int, obj: object, key: str | int, kind: type, where: str) -> object:
    """``obj[key]``, checked to be of ``kind``; ``where`` names the value's place in the record."""
    try:
        value = obj[key]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise DatasetFormatError(dataset, path, lineno, f"a record with {where}") from None
    if not isinstance(value, kind):
        raise DatasetFormatError(dataset, path, lineno, f"{where} to be a {kind.__name__}", value)
    return value


def _record(dataset: str, split: str, path: Path, lineno: int, obj: object) -> Record:
    if not isinstance(obj, dict):
        raise DatasetFormatError(dataset, path, lineno, "a JSON object", obj)
    record_id = _get(dataset, path, lineno, obj, "id", str, "'id'")
    context = _get(dataset, path, lineno, obj, "context", str, "'context'")
    annotations = _get(dataset, path, lineno, obj, "annotations", list, "'annotations'")
    first = _get(dataset, path, lineno, annotations, 0, dict, "'annotations[0]'")
    events = _get(dataset, path, lineno, first, "events", list, "'annotations[0].events'")
    text = context.strip()
    if not text or not record_id.strip():
        raise DatasetFormatError(dataset, path, lineno, "a non-empty 'id' and 'context'", obj.get("id"))
    items, types = [], []
    for e, event in enumerate(events):
        where = f"'annotations[0].events[{e}]"
        kind = _get(dataset, path, lineno, event, "event_type", str, where + ".event_type'")
        trigger = _get(dataset, path, lineno, event, "Trigger", dict, where + ".Trigger'")
        mentions = _get(dataset, path, lineno, trigger, "text", list, where + ".Trigger.text'")
        fragments = _get(dataset, path, lineno, mentions, 0, list, where + ".Trigger.text[0]'")
        if not all(isinstance(f, str) for f in fragments):
            raise DatasetFormatError(dataset, path, lineno, f"{where}.Trigger.text[0]' to hold strings", fragments)
        trigger_text = normalize_space(" ".join(fragments))
        kind = normalize_space(kind)
        if not trigger_text or not kind:
            raise DatasetFormatError(
                dataset, path, lineno, f"{where}' with a non-empty trigger text and event type", event
            )
        items.append(f"{trigger_text} | {kind}")
        types.append(kind)
    record_id = record_id.strip()
    # ids are '<PMID>_<sentence number>': the PMID groups the sentences of one abstract
    doc_id = record_id.rsplit("_", 1)[0] if "_" in record_id else record_id
    return Record(split=split, doc_id=doc_id, example_id=record_id, text=text, items=items, item_types=types)


def read_phee_json(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """One record per sentence of the ``{split: JSON lines file}`` files, with its event triggers."""
    if options:
        raise ConfigError(f"reader 'phee_json' got unknown options {sorted(options)}")
    for split, pattern in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': file key '{split}' is not a split {SPLITS}")
        for path in source_files(dataset, Path(folder), pattern):
            yield from at_least_one(dataset, path, _read_file(dataset, split, path), "sentence")


def _read_file(dataset: str, split: str, path: Path) -> Iterator[Record]:
    for lineno, obj in json_lines(dataset, path):
        yield _record(dataset, split, path, lineno, obj)
