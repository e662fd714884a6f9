"""BioNLP shared-task standoff (GENIA 2011 / 2013 GE task) as sentence-level trigger detection.

Each split directory holds documents ``<name>.txt`` (plain text) with ``<name>.a2`` (the
annotation to predict) and optionally ``<name>.a1`` (the given proteins: not needed here, but
checked like the .a2 when present). Text-bound lines of the .a2 file, ``T<n> TAB <Type> <start>
<end> TAB <text>``, whose type is an event type are event triggers; ``Entity`` and ``Anaphora``
mentions are not. The other .a2 lines (``E`` events, ``M`` modifications, ``R`` relations,
``A``/``N`` attributes and notes, ``*`` equivalences) are checked for shape and otherwise ignored.
A file cut short shows as a line short of fields, an offset past the end of the text, a span
whose text differs, an empty .txt, or an .a1/.a2 whose last line has no line end.

The text carries no sentence boundaries, so a naive splitter cuts it after ``.``, ``!`` or ``?``
followed by white space and an upper-case letter, digit or opening bracket, and at every line
break. One example per non-empty sentence: the items are ``"trigger text | EventType"`` for the
triggers whose start offset falls in the sentence, in order of start offset. Sentences without a
trigger are kept with no items.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import SPLITS, Record, normalize_space, numbered_lines, undecodable

NON_EVENT_TYPES = ("Entity", "Anaphora")

# The boundary is the end of the match: after the punctuation and the white space that follows it.
_SENTENCE_BREAK = re.compile(r"[.!?]\s+(?=[A-Z0-9(\[{])|\r\n|\r|\n")
_ANNOTATION_ID = re.compile(r"^(?:[TEMRAN]\d+|\*)$")
_PMC_SECTION = re.compile(r"^(PMC-\d+)-")
_PMID = re.compile(r"^(PMID-\d+)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the naive sentences of ``text``, white space trimmed.

    Empty sentences (blank lines) are left out; offsets index into ``text`` unchanged.
    """
    bounds = [0, *(m.end() for m in _SENTENCE_BREAK.finditer(text)), len(text)]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return spans


def article_id(name: str) -> str:
    """The article a document belongs to: ``PMC-<id>`` for sections, ``PMID-<id>`` for abstracts.

    A name of neither form is its own article.
    """
    match = _PMC_SECTION.match(name) or _PMID.match(name)
    return match.group(1) if match else name


def _annotations(dataset: str, path: Path, text: str) -> Iterator[tuple[int, str, int, str]]:
    """``(line, type, start, text)`` of the text-bound lines of a .a1 or .a2 file, every line checked.

    The files always end their last line, so a missing line end is a file cut inside a line.
    """
    for lineno, line in numbered_lines(dataset, path, final_line_end=True):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not _ANNOTATION_ID.match(fields[0]) or not fields[1].strip():
            raise DatasetFormatError(
                dataset, path, lineno, "an annotation line 'T<n>|E<n>|M<n>|R<n>|A<n>|N<n>|* TAB ...'", line
            )
        if not fields[0].startswith("T"):
            continue
        if len(fields) != 3:
            raise DatasetFormatError(dataset, path, lineno, "'T<n> TAB <type> <start> <end> TAB <text>'", line)
        parts = fields[1].split(" ")
        if len(parts) != 3:
            raise DatasetFormatError(dataset, path, lineno, "'<type> <start> <end>' in the second field", fields[1])
        kind, start_s, end_s = parts
        try:
            start, end = int(start_s), int(end_s)
        except ValueError:
            raise DatasetFormatError(dataset, path, lineno, "integer start and end offsets", fields[1]) from None
        if not 0 <= start < end <= len(text):
            raise DatasetFormatError(
                dataset, path, lineno, f"offsets within the text (0..{len(text)}) with start < end", fields[1]
            )
        if text[start:end] != fields[2]:
            raise DatasetFormatError(
                dataset, path, lineno, f"the text of span {start}-{end} in the .txt, {text[start:end]!r}", fields[2]
            )
        yield lineno, kind, start, fields[2]


def _triggers(
    dataset: str, a2: Path, text: str, non_event: frozenset[str]
) -> list[tuple[int, str, str]]:
    """``(start, trigger text, event type)`` of the event triggers of one .a2 file."""
    found = []
    for lineno, kind, start, surface in _annotations(dataset, a2, text):
        if kind in non_event:
            continue
        trigger = normalize_space(surface)
        if not trigger:
            raise DatasetFormatError(dataset, a2, lineno, "a trigger with visible text", surface)
        found.append((start, trigger, kind))
    found.sort(key=lambda t: t[0])
    return found


def _read_text(dataset: str, path: Path) -> str:
    # newline="" keeps CR LF as two characters: the standoff offsets count the file's characters.
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise undecodable(dataset, path) from None


def _document(dataset: str, split: str, txt: Path, non_event: frozenset[str]) -> Iterator[Record]:
    name = txt.stem
    a2 = txt.with_suffix(".a2")
    if not a2.is_file():
        raise DatasetFormatError(dataset, a2, None, f"the .a2 annotation file of document '{name}'")
    text = _read_text(dataset, txt)
    spans = sentence_spans(text)
    if not spans:
        raise DatasetFormatError(dataset, txt, None, f"the text of document '{name}' (the file holds none)")
    a1 = txt.with_suffix(".a1")
    if a1.is_file():
        # not used, but a cut .a1 is a sign of a copy that is not whole
        for _ in _annotations(dataset, a1, text):
            pass
    starts = [s for s, _ in spans]
    per_sentence: list[list[tuple[str, str]]] = [[] for _ in spans]
    for start, trigger, kind in _triggers(dataset, a2, text, non_event):
        # the last sentence starting at or before the trigger (the first one for a trigger in
        # leading white space)
        k = bisect.bisect_right(starts, start) - 1
        per_sentence[max(k, 0)].append((trigger, kind))
    doc_id = article_id(name)
    for k, ((start, end), triggers) in enumerate(zip(spans, per_sentence), start=1):
        yield Record(
            split=split,
            doc_id=doc_id,
            example_id=f"{name}-s{k}",
            text=text[start:end],
            items=[f"{trigger} | {kind}" for trigger, kind in triggers],
            item_types=[kind for _, kind in triggers],
        )


def read_bionlp_standoff(
    dataset: str,
    folder: Path,
    files: Mapping[str, str],
    *,
    non_event_types: Iterable[str] = NON_EVENT_TYPES,
    **options: object,
) -> Iterator[Record]:
    """Sentences with their event triggers, from ``{split: directory}`` of standoff documents.

    ``non_event_types`` lists the text-bound types that are not triggers. Documents are read in
    name order, one at a time.
    """
    if options:
        raise ConfigError(f"reader 'bionlp_standoff' got unknown options {sorted(options)}")
    non_event = frozenset(non_event_types)
    for split, relative in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': file key '{split}' is not a split {SPLITS}")
        directory = Path(folder) / relative
        if not directory.is_dir():
            raise DatasetFormatError(dataset, directory, None, "a directory of <name>.txt / <name>.a2 documents")
        texts = sorted(directory.glob("*.txt"))
        if not texts:
            raise DatasetFormatError(dataset, directory, None, "at least one <name>.txt document")
        for txt in texts:
            yield from _document(dataset, split, txt, non_event)
