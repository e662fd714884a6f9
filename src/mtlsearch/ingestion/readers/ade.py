"""ADE corpus v2 as sentence classification: ``ADE`` / ``not ADE``.

- ``positive``: ``DRUG-AE.rel``, one line per (drug, adverse effect) pair,
  ``PMID|sentence|effect|begin|end|drug|begin|end``. A sentence with several pairs has several
  lines; it becomes one example (the first line of each (PMID, sentence) pair counts).
- ``negative``: ``ADE-NEG.txt``, lines ``PMID NEG sentence``; every line is one example.

The source has no split (``split`` is ``None``); the PMID is the document. Each line must be
whole: the offsets of a .rel line span as many characters as the text they belong to, and the
last line of either file ends with a line end (the release ends its lines; a cut sentence or
offset is otherwise indistinguishable from a whole one). A file without any line is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import Record, at_least_one, numbered_lines

POSITIVE = "ADE"
NEGATIVE = "not ADE"

_NEG_LINE = re.compile(r"^(\S+)\s+NEG\s+(\S.*)$")


def _positives(dataset: str, path: Path) -> Iterator[Record]:
    seen: set[tuple[str, str]] = set()
    per_pmid: dict[str, int] = {}
    for lineno, line in numbered_lines(dataset, path, final_line_end=True):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 8:
            raise DatasetFormatError(
                dataset, path, lineno, "8 '|'-separated fields PMID|sentence|effect|begin|end|drug|begin|end", line
            )
        pmid, sentence = fields[0].strip(), fields[1].strip()
        if not pmid or not sentence:
            raise DatasetFormatError(dataset, path, lineno, "a non-empty PMID and sentence", line)
        for field in (fields[3], fields[4], fields[6], fields[7]):
            if not field.strip().isdigit():
                raise DatasetFormatError(dataset, path, lineno, "integer offsets in fields 4, 5, 7 and 8", field)
        for name, (text, begin, end) in (("effect", fields[2:5]), ("drug", fields[5:8])):
            if int(end) - int(begin) != len(text):
                expected = f"the {name}'s offsets {begin}-{end} to span its {len(text)} characters"
                raise DatasetFormatError(dataset, path, lineno, expected, line)
        if (pmid, sentence) in seen:
            continue
        seen.add((pmid, sentence))
        per_pmid[pmid] = k = per_pmid.get(pmid, 0) + 1
        yield Record(
            split=None,
            doc_id=pmid,
            example_id=f"pos-{pmid}-{k}",
            text=sentence,
            items=[POSITIVE],
            item_types=[POSITIVE],
        )


def _negatives(dataset: str, path: Path) -> Iterator[Record]:
    for lineno, line in numbered_lines(dataset, path, final_line_end=True):
        if not line.strip():
            continue
        match = _NEG_LINE.match(line)
        if not match:
            raise DatasetFormatError(dataset, path, lineno, "'PMID NEG sentence'", line)
        pmid, sentence = match.group(1), match.group(2).strip()
        yield Record(
            split=None,
            doc_id=pmid,
            example_id=f"neg-{lineno}",
            text=sentence,
            items=[NEGATIVE],
            item_types=[NEGATIVE],
        )


def read_ade(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """ADE sentences from ``{positive: DRUG-AE.rel, negative: ADE-NEG.txt}`` (either may be left out).

    Each value is one file's path relative to ``folder``.
    """
    if options:
        raise ConfigError(f"reader 'ade' got unknown options {sorted(options)}")
    unknown = set(files) - {"positive", "negative"}
    if unknown or not files:
        raise ConfigError(
            f"dataset '{dataset}': reader 'ade' takes files 'positive' and/or 'negative', got {sorted(files)}"
        )
    for key, read in (("positive", _positives), ("negative", _negatives)):
        if key in files:
            path = Path(folder) / files[key]
            if not path.is_file():
                raise DatasetFormatError(dataset, path, None, f"the '{key}' file of the ADE corpus")
            yield from at_least_one(dataset, path, read(dataset, path), "line")
