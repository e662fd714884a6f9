"""What every reader yields, and the helpers readers share.

A reader is a function ``read(dataset, folder, files, **options) -> Iterator[Record]``:

- ``dataset``: the dataset id (used in error messages),
- ``folder``: the dataset's folder under the raw-data root,
- ``files``: the reader's file mapping from the dataset's configuration entry, usually
  ``{source split name: relative path or glob}``,
- ``options``: any further keys of the configuration entry's ``options``.

Readers stream: they open one file at a time and yield records as they go, and on bad input
raise :class:`mtlsearch.errors.DatasetFormatError` naming the file and the line or record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from mtlsearch.errors import DatasetFormatError

SPLITS = ("train", "dev", "test")
TASKS = ("ner", "re", "ee", "tc")


class Record(TypedDict):
    """One example as a reader yields it.

    ``split`` is the source's split mapped to train/dev/test, or ``None`` where the source has
    no split (the dataset's split policy assigns it). ``doc_id`` groups examples of one document
    (abstract, article) so that splits never cut a document. ``items`` is the gold output, one
    string per item (entity mention; 'head | relation | tail'; 'trigger | event type'; class
    label); ``item_types`` is the type of each item (entity type, relation, event type, label),
    used by the dataset cards.
    """

    split: str | None
    doc_id: str
    example_id: str
    text: str
    items: list[str]
    item_types: list[str]


def numbered_lines(dataset: str, path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without its end)`` of a text file, one line at a time.

    CRLF and LF endings are both accepted. A file that is not valid text raises a
    :class:`DatasetFormatError` naming the line.
    """
    lineno = 0
    try:
        with open(path, encoding=encoding, newline="") as handle:
            for lineno, line in enumerate(handle, start=1):
                yield lineno, line.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(
            dataset, path, lineno + 1, f"{encoding} text", found=exc.object[exc.start : exc.end]
        ) from exc


_SPACES = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse runs of white space to one space and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def source_files(dataset: str, folder: Path, pattern: str) -> list[Path]:
    """The files under ``folder`` matching ``pattern`` (a relative path or glob), sorted.

    Raises a :class:`DatasetFormatError` when nothing matches, naming the folder and pattern.
    """
    matches = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not matches:
        raise DatasetFormatError(dataset, folder / pattern, None, "at least one file matching this pattern")
    return matches
