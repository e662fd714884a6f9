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


def numbered_lines(
    dataset: str, path: Path, encoding: str = "utf-8", *, final_line_end: bool = False
) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without its end)`` of a text file, one line at a time.

    CRLF and LF endings are both accepted. A file that is not valid text raises a
    :class:`DatasetFormatError` naming the line of the first bad byte. With ``final_line_end``
    a last line without its line end is an error too (raised before that line is yielded): for
    formats whose last field is free text or an id, a file cut inside its last line looks
    exactly like a whole one except for the missing line end.
    """
    lineno = 0
    try:
        with open(path, encoding=encoding, newline="") as handle:
            for lineno, line in enumerate(handle, start=1):
                if final_line_end and not line.endswith(("\n", "\r")) and line.strip():
                    raise DatasetFormatError(
                        dataset, path, lineno, "a line end after the last line (the file ends inside it)", line
                    )
                yield lineno, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise undecodable(dataset, path, encoding) from None


def undecodable(dataset: str, path: Path, encoding: str = "utf-8") -> DatasetFormatError:
    """The error for a file that is not valid ``encoding`` text, naming the line of the first bad byte.

    The file is decoded again as a whole: a decoding error raised while reading text mode
    carries an offset into the chunk being decoded, not into the file, and the line count of
    the lines read so far stops at the start of that chunk.
    """
    raw = Path(path).read_bytes()
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode(encoding)
        # the line breaks text mode with newline="" splits on: LF, CR LF and a lone CR
        breaks = before.count("\n") + before.count("\r") - before.count("\r\n")
        return DatasetFormatError(dataset, path, breaks + 1, f"{encoding} text", found=raw[exc.start : exc.end])
    # the file changed between the two reads; nothing better to point at
    return DatasetFormatError(dataset, path, None, f"{encoding} text")


def json_lines(dataset: str, path: Path) -> Iterator[tuple[int, object]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines file.

    A line cut short is not valid JSON, so a cut file fails on its last line, naming it.
    """
    import json

    for lineno, line in numbered_lines(dataset, path):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(dataset, path, lineno, f"a JSON object ({exc.msg})", line) from None


def at_least_one(dataset: str, path: Path, records: Iterator[Record], what: str = "record") -> Iterator[Record]:
    """Yield ``records``, then raise a :class:`DatasetFormatError` if there were none.

    A file named for a split that holds nothing (empty, blank, or a header only) is a file that
    was not copied whole, not a split without examples.
    """
    count = 0
    for record in records:
        count += 1
        yield record
    if not count:
        raise DatasetFormatError(dataset, path, None, f"at least one {what} (the file holds none)")


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
