"""Ingestion: dataset declarations -> the canonical ``examples`` table, its record of the raw
inputs, and dataset cards.

The canonical table has one row per example with the columns of ``COLUMNS``: ``items`` is the
gold output as a list of strings (a one-element list for a class label) and ``item_types`` the
type of each item (entity type, relation, event type, label).

The record (:func:`raw_snapshot`, :func:`examples_record`) names every raw file ingestion read,
with its size and modification time, and a digest of the ingestion parameters. A run that
reads ``examples`` without ingesting compares it with the raw folder as it is now
(:func:`stale_reason`), so that a changed raw file, a changed declaration or an ingestion that
failed since ``examples`` was written stops the run instead of passing it the older table.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mtlsearch.errors import ConfigError
from mtlsearch.fingerprints import digest
from mtlsearch.ingestion.readers import get_reader
from mtlsearch.ingestion.readers.base import SPLITS, TASKS
from mtlsearch.ingestion.splits import POLICIES, apply_split_policy

log = logging.getLogger(__name__)

COLUMNS = ["dataset", "task", "split", "example_id", "doc_id", "text", "items", "item_types"]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset's configuration entry (``ingestion.datasets.<id>``)."""

    id: str
    task: str
    reader: str
    path: str
    files: Mapping[str, str]
    split: Mapping = field(default_factory=lambda: {"policy": "official"})
    options: Mapping = field(default_factory=dict)

    @classmethod
    def from_config(cls, dataset_id: str, entry: Mapping) -> DatasetSpec:
        where = f"ingestion.datasets.{dataset_id}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {entry!r}")
        missing = [key for key in ("task", "reader", "files") if key not in entry]
        if missing:
            raise ConfigError(f"{where}: missing key(s) {missing}; expected task, reader, path, files, split")
        if entry["task"] not in TASKS:
            raise ConfigError(f"{where}.task: expected one of {TASKS}, got {entry['task']!r}")
        files = entry["files"]
        if not isinstance(files, Mapping) or not files:
            raise ConfigError(f"{where}.files: expected a mapping of source part -> path, got {files!r}")
        split = dict(entry.get("split") or {"policy": "official"})
        if split.get("policy", "official") not in POLICIES:
            raise ConfigError(f"{where}.split.policy: expected one of {POLICIES}, got {split.get('policy')!r}")
        return cls(
            id=dataset_id,
            task=entry["task"],
            reader=entry["reader"],
            path=str(entry.get("path", dataset_id)),
            files={str(k): str(v) for k, v in files.items()},
            split=split,
            options=dict(entry.get("options") or {}),
        )


def dataset_specs(params: Mapping) -> list[DatasetSpec]:
    """All declared datasets, in configuration order."""
    datasets = params.get("datasets") or {}
    return [DatasetSpec.from_config(str(name), entry) for name, entry in datasets.items()]


def _present(folder: Path, pattern: str) -> bool:
    """Whether a file, a non-empty folder, or a glob match exists for ``pattern``."""
    return any(p.is_file() or (p.is_dir() and any(p.iterdir())) for p in folder.glob(pattern))


def missing_files(spec: DatasetSpec, raw_root: Path) -> list[str]:
    """The configured files (or globs) of ``spec`` with no match under the raw root."""
    folder = raw_root / spec.path
    if not folder.is_dir():
        return list(spec.files.values())
    return [pattern for pattern in spec.files.values() if not _present(folder, pattern)]


def read_dataset(spec: DatasetSpec, raw_root: Path, seed: int) -> pd.DataFrame:
    """Read one dataset into the canonical table, splits assigned by its policy."""
    reader = get_reader(spec.reader)
    folder = raw_root / spec.path
    frame = pd.DataFrame.from_records(
        list(reader(spec.id, folder, dict(spec.files), **spec.options)),
        columns=["split", "doc_id", "example_id", "text", "items", "item_types"],
    )
    if frame.empty:
        raise ConfigError(f"dataset '{spec.id}': the reader '{spec.reader}' found no examples in {folder}")
    duplicated = frame["example_id"].duplicated()
    if duplicated.any():
        raise ConfigError(
            f"dataset '{spec.id}': example id '{frame.loc[duplicated, 'example_id'].iloc[0]}' occurs twice"
        )
    frame = apply_split_policy(frame, spec.split, seed, spec.id)
    frame["dataset"] = spec.id
    frame["task"] = spec.task
    return frame[COLUMNS]


def build_examples(raw_root: Path, params: Mapping) -> pd.DataFrame:
    """The canonical table of every declared dataset whose files are present under ``raw_root``.

    A dataset whose folder holds none of its files is logged and left out; one that holds only
    some of them is an error naming what is missing.
    """
    seed = int(params.get("split_seed", 0))
    frames = []
    for spec in dataset_specs(params):
        missing = missing_files(spec, raw_root)
        if len(missing) == len(spec.files):
            log.warning("dataset '%s': no data under %s (expected %s); left out", spec.id, raw_root / spec.path, dict(spec.files))
            continue
        if missing:
            raise ConfigError(
                f"dataset '{spec.id}': {raw_root / spec.path} lacks {missing} "
                f"(the entry names {dict(spec.files)})"
            )
        frame = read_dataset(spec, raw_root, seed)
        log.info("dataset '%s': %d examples (%s)", spec.id, len(frame), dict(Counter(frame["split"])))
        frames.append(frame)
    if not frames:
        raise ConfigError(f"no declared dataset has data under {raw_root}")
    return pd.concat(frames, ignore_index=True)


def dataset_cards(examples: pd.DataFrame, params: Mapping) -> dict:
    """Per dataset and split: examples, documents, items, and item type frequencies."""
    specs = {spec.id: spec for spec in dataset_specs(params)}
    cards: dict[str, dict] = {}
    for dataset, frame in examples.groupby("dataset", sort=False):
        spec = specs.get(dataset)
        card = {
            "task": frame["task"].iloc[0],
            "reader": spec.reader if spec else None,
            "split_policy": dict(spec.split) if spec else None,
            "seed": int(params.get("split_seed", 0)),
            "splits": {},
        }
        for split in SPLITS:
            part = frame[frame["split"] == split]
            if part.empty:
                continue
            types = Counter(t for types in part["item_types"] for t in types)
            card["splits"][split] = {
                "examples": int(len(part)),
                "documents": int(part["doc_id"].nunique()),
                "items": int(sum(len(items) for items in part["items"])),
                "examples_without_items": int(sum(len(items) == 0 for items in part["items"])),
                "item_types": dict(types.most_common()),
            }
        cards[str(dataset)] = card
    return cards


# The record a started ingestion leaves until its new record replaces it: one that fails
# leaves this, never the record of the older examples it did not replace.
INCOMPLETE_RECORD = {"complete": False}


def raw_files(raw_root: Path, params: Mapping) -> dict[str, dict[str, list[int]]]:
    """Per declared dataset, the raw files its patterns match (every file under a matched
    folder), as ``{path relative to raw_root: [size, mtime_ns]}``; ``{}`` for one without data.

    Sizes and modification times, not contents: checking them before every run that reads
    ``examples`` takes milliseconds where hashing the raw data takes seconds.
    """
    inputs: dict[str, dict[str, list[int]]] = {}
    for spec in dataset_specs(params):
        folder = raw_root / spec.path
        found: dict[str, list[int]] = {}
        if folder.is_dir():
            for pattern in spec.files.values():
                for match in folder.glob(pattern):
                    paths = [match] if match.is_file() else (p for p in match.rglob("*") if p.is_file())
                    for path in paths:
                        stat = path.stat()
                        found[path.relative_to(raw_root).as_posix()] = [stat.st_size, stat.st_mtime_ns]
        inputs[spec.id] = dict(sorted(found.items()))
    return inputs


def raw_snapshot(raw_root: Path, params: Mapping) -> dict:
    """What ingestion is about to read: the raw files and the parameters' digest.

    Taken before reading, so that a file changed while it was read differs from the record.
    """
    return {"raw_root": str(raw_root), "parameters": digest(dict(params)), "files": raw_files(raw_root, params)}


def examples_record(examples: pd.DataFrame, snapshot: Mapping) -> dict:
    """The record of a finished ingestion: its snapshot and the rows per dataset it wrote."""
    rows = {str(name): int(n) for name, n in examples["dataset"].value_counts(sort=False).items()}
    return {"complete": True, **snapshot, "examples": rows}


def stale_reason(record: Mapping | None, raw_root: Path | None, params: Mapping) -> str | None:
    """Why ``examples``, described by ``record``, no longer is what ingestion would write from
    the raw folder ``raw_root`` (None: the folder is gone) under ``params``; None while it is."""
    if record is None:
        return "there is no record of the raw data it was read from"
    if not record.get("complete"):
        return "the last ingestion failed or did not finish"
    if record.get("parameters") != digest(dict(params)):
        return "the ingestion parameters changed since it was written"
    if raw_root is None:
        return f"the raw-data folder {record.get('raw_root')} is gone"
    then = {path: stat for files in record.get("files", {}).values() for path, stat in files.items()}
    now = {path: stat for files in raw_files(raw_root, params).values() for path, stat in files.items()}
    changes = []
    for path in sorted(then.keys() | now.keys()):
        if path not in now:
            changes.append(f"raw file {path} was removed")
        elif path not in then:
            changes.append(f"raw file {path} was added")
        elif list(then[path]) != list(now[path]):
            changes.append(f"raw file {path} changed")
    if not changes:
        return None
    more = f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""
    return f"{changes[0]}{more} since it was written"
