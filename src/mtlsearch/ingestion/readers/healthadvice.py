"""HealthAdvice CSV files as sentence classification: no / weak / strong advice.

Each file is RFC 4180 CSV in UTF-8 with a header row holding at least the columns ``label``
(``0`` no advice, ``1`` weak advice, ``2`` strong advice), ``pmid`` and ``sentence``; other
columns (``design``, ``rel_loc``, ...) are ignored, but every row must have all the header's
columns, and a quoted field must close before the end of the file: a row short of columns or
an unclosed quote is a file cut short, not a shorter record. One example per row, with the id
``<file stem>-<line where the row starts>``; the source has no split (``split`` is ``None``);
the PMID is the document.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import Record, at_least_one, source_files, undecodable

LABELS = {"0": "no advice", "1": "weak advice", "2": "strong advice"}
REQUIRED_COLUMNS = ("label", "pmid", "sentence")


def _rows(dataset: str, path: Path) -> Iterator[Record]:
    stem = path.stem
    # utf-8-sig: a byte-order mark would otherwise become part of the first column's name
    with open(path, encoding="utf-8-sig", newline="") as handle:
        # strict: at the end of the file inside a quoted field the lenient reader ends the field
        # there and yields the cut sentence as a row
        reader = csv.reader(handle, strict=True)
        lineno = 1
        try:
            header = next(reader, None)
            columns = [name.strip() for name in header or []]
            if any(c not in columns for c in REQUIRED_COLUMNS):
                raise DatasetFormatError(
                    dataset, path, 1, f"a header row with the columns {', '.join(REQUIRED_COLUMNS)}", header
                )
            index = {c: columns.index(c) for c in REQUIRED_COLUMNS}
            lineno = reader.line_num + 1
            for row in reader:
                # a quoted field may span lines: the record starts where the previous one ended
                start, lineno = lineno, reader.line_num + 1
                if not any(value.strip() for value in row):
                    continue
                if len(row) < len(columns):
                    raise DatasetFormatError(
                        dataset, path, start, f"{len(columns)} comma-separated fields as in the header", row
                    )
                label, pmid, sentence = (
                    row[index[c]].strip() if index[c] < len(row) else "" for c in REQUIRED_COLUMNS
                )
                if label not in LABELS:
                    raise DatasetFormatError(dataset, path, start, "a label 0, 1 or 2", label)
                if not sentence:
                    raise DatasetFormatError(dataset, path, start, "a non-empty sentence", row)
                if not pmid:
                    raise DatasetFormatError(dataset, path, start, "a non-empty pmid", row)
                name = LABELS[label]
                yield Record(
                    split=None,
                    doc_id=pmid,
                    example_id=f"{stem}-{start}",
                    text=sentence,
                    items=[name],
                    item_types=[name],
                )
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                quote_line, rest = _unclosed_quote(path, lineno)
                expected = "a closing quote for the field quoted here (the file ends inside it)"
                raise DatasetFormatError(dataset, path, quote_line, expected, rest) from None
            raise DatasetFormatError(dataset, path, lineno, f"RFC 4180 CSV ({exc})") from None
        except UnicodeDecodeError:
            raise undecodable(dataset, path) from None


def _unclosed_quote(path: Path, start: int) -> tuple[int, str]:
    """Line and text (to the end of that line) of the quoted field left open at the end of the file.

    ``start`` is the line of the record the csv reader was in; the open quote is at or after it
    (an earlier field of that record may be quoted over several lines), which csv.Error does not say.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = handle.readlines()[start - 1 :]
    text = "".join(lines)
    line, field_start, quoted = start, True, False
    opened = (start, 0)
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    quoted, field_start = False, False
        elif char == '"' and field_start:
            quoted, opened = True, (line, i)
        else:
            field_start = char in ',\r\n'
        if char == "\n" or (char == "\r" and text[i + 1 : i + 2] != "\n"):
            line += 1
        i += 1
    if not quoted:
        return start, ""
    rest = text[opened[1] :]
    return opened[0], rest.splitlines()[0] if rest else rest


def read_healthadvice_csv(
    dataset: str, folder: Path, files: Mapping[str, str], **options: object
) -> Iterator[Record]:
    """Labelled sentences from ``{name: csv path or glob}``; files are read in mapping order."""
    if options:
        raise ConfigError(f"reader 'healthadvice_csv' got unknown options {sorted(options)}")
    for pattern in files.values():
        for path in source_files(dataset, Path(folder), pattern):
            yield from at_least_one(dataset, path, _rows(dataset, path), "row below the header")
