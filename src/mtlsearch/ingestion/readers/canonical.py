"""The canonical JSON lines format: how to bring a dataset of your own.

Files are UTF-8 text with one JSON object per line (blank lines are skipped; CRLF or LF endings);
a file without any object is an error. The configuration entry names them as ``files: {<any
name>: <path or glob relative to the dataset folder>}``; every file a pattern matches is read, in
sorted order, and patterns are read in the order given. Keys of each object:

``text`` (required)
    The model's input: a string with at least one non-white-space character. Surrounding white
    space is removed; white space inside is kept.
``items`` (required)
    The gold output: a list of strings, possibly empty (an example whose answer is "none").
    Each item is stripped and its inner white-space runs are collapsed to one space; an item
    that is then empty is an error. For NER an item is typically a mention, for relations
    ``"head | relation | tail"``, for events ``"trigger | event type"``, for classification the
    one label (``["positive"]``).
``item_types`` (optional)
    A list of strings, one per item, giving each item's type (entity type, relation, event type,
    label); used only for the dataset card's statistics. Default: ``"item"`` for every item.
``split`` (optional)
    ``"train"``, ``"dev"`` or ``"test"``. When absent (or ``null``) the example has no source
    split and the dataset's split policy assigns one (policy ``grouped``).
``id`` (optional)
    The example id, a non-empty string or an integer, unique across all the dataset's files.
    Default: ``"<file stem>-<line number>"``.
``doc_id`` (optional)
    The document the example belongs to (a string or an integer): examples sharing a
    ``doc_id`` always land in the same split. Default: the example id.

Other keys are ignored. Example lines::

    {"text": "Aspirin reduced fever in 3 patients.", "items": ["Aspirin"], "item_types": ["Chemical"], "split": "train", "doc_id": "PMID-1"}
    {"text": "No drug was given.", "items": []}

Any violation (invalid JSON, a line that is not an object, a missing or wrongly typed ``text`` or
``items``, a ``split`` outside train/dev/test, ``item_types`` of another length than ``items``,
an id used twice) raises a :class:`~mtlsearch.errors.DatasetFormatError` naming the file and line.
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

DEFAULT_ITEM_TYPE = "item"


def _identifier(dataset: str, path: Path, lineno: int, obj: dict, key: str) -> str | None:
    if key not in obj:
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise DatasetFormatError(dataset, path, lineno, f"'{key}' to be a non-empty string or an integer", value)
    return str(value).strip()


def _strings(dataset: str, path: Path, lineno: int, value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetFormatError(dataset, path, lineno, f"'{key}' to be a list of strings", value)
    out = [normalize_space(v) for v in value]
    if not all(out):
        raise DatasetFormatError(dataset, path, lineno, f"every entry of '{key}' to be non-empty", value)
    return out


def _record(dataset: str, path: Path, lineno: int, obj: object) -> Record:
    if not isinstance(obj, dict):
        raise DatasetFormatError(dataset, path, lineno, "a JSON object", obj)
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DatasetFormatError(dataset, path, lineno, "'text' to be a non-empty string", text)
    if "items" not in obj:
        raise DatasetFormatError(dataset, path, lineno, "an 'items' list")
    items = _strings(dataset, path, lineno, obj["items"], "items")
    if obj.get("item_types") is None:
        item_types = [DEFAULT_ITEM_TYPE] * len(items)
    else:
        item_types = _strings(dataset, path, lineno, obj["item_types"], "item_types")
        if len(item_types) != len(items):
            raise DatasetFormatError(
                dataset,
                path,
                lineno,
                f"'item_types' of the same length as 'items' ({len(items)})",
                obj["item_types"],
            )
    split = obj.get("split")
    if split is not None and split not in SPLITS:
        raise DatasetFormatError(dataset, path, lineno, "'split' to be one of train, dev, test", split)
    example_id = _identifier(dataset, path, lineno, obj, "id") or f"{path.stem}-{lineno}"
    doc_id = _identifier(dataset, path, lineno, obj, "doc_id") or example_id
    return Record(
        split=split,
        doc_id=doc_id,
        example_id=example_id,
        text=text.strip(),
        items=items,
        item_types=item_types,
    )


def read_canonical_jsonl(
    dataset: str, folder: Path, files: Mapping[str, str], **options: object
) -> Iterator[Record]:
    """Examples of a dataset in the canonical JSON lines format (see the module documentation)."""
    if options:
        raise ConfigError(f"reader 'canonical_jsonl' got unknown options {sorted(options)}")
    # example id -> (file, line) where it was first used
    seen: dict[str, tuple[Path, int]] = {}
    for pattern in files.values():
        for path in source_files(dataset, Path(folder), pattern):
            yield from at_least_one(dataset, path, _read_file(dataset, path, seen), "example")


def _read_file(dataset: str, path: Path, seen: dict[str, tuple[Path, int]]) -> Iterator[Record]:
    for lineno, obj in json_lines(dataset, path):
        record = _record(dataset, path, lineno, obj)
        first = seen.setdefault(record["example_id"], (path, lineno))
        if first != (path, lineno):
            raise DatasetFormatError(
                dataset,
                path,
                lineno,
                f"a unique id (already used at {first[0]}, line {first[1]})",
                record["example_id"],
            )
        yield record
