"""HealthAdvice CSV files as sentence classification: no / weak / strong advice.

Each file is RFC 4180 CSV in UTF-8 with a header row holding at least the columns ``label``
(``0`` no advice, ``1`` weak advice, ``2`` strong advice), ``pmid`` and ``sentence``; other
columns (``design``, ``rel_loc``, ...) are ignored. One example per row, with the id
``<file stem>-<line where the row starts>``; the source has no split (``split`` is ``None``);
the PMID is the document.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import Record, source_files

LABELS = {"0": "no advice", "1": "weak advice", "2": "strong advice"}
REQUIRED_COLUMNS = ("label", "pmid", "sentence")


def _rows(dataset: str, path: Path) -> Iterator[Record]:
    stem = path.stem
    # utf-8-sig: a byte-order mark would otherwise become part of the first column's name
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
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
            raise DatasetFormatError(dataset, path, lineno, f"RFC 4180 CSV ({exc})") from None
        except UnicodeDecodeError as exc:
            raise DatasetFormatError(dataset, path, lineno, "utf-8 text", exc.object[exc.start : exc.end]) from None


def read_healthadvice_csv(
    dataset: str, folder: Path, files: Mapping[str, str], **options: object
) -> Iterator[Record]:
    """Labelled sentences from ``{name: csv path or glob}``; files are read in mapping order."""
    if options:
        raise ConfigError(f"reader 'healthadvice_csv' got unknown options {sorted(options)}")
    for pattern in files.values():
        for path in source_files(dataset, Path(folder), pattern):
            yield from _rows(dataset, path)
