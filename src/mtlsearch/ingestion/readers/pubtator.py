"""PubTator files with document-level relations (BioRED).

A document is a block of lines ended by an empty line::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>type<TAB>id[,id...]      (mentions)
    PMID<TAB>relation type<TAB>id1<TAB>id2<TAB>novelty               (relations)

One example per document: the text is ``title + " " + abstract`` (the text the mention offsets
index) and the items are ``"entity1 | relation type | entity2"``, one per relation line in file
order. Relations link concept IDs, not mentions, so each ID is named by the text of its first
mention in the document; a mention carrying several comma-separated IDs names each of them.

A record is whole only if each of its lines is: a title and then an abstract line, mentions with
all 6 fields and offsets into the text, relations with all 5 fields, and a line end after the
last line of the file (a file cut inside a passage or an ID is otherwise indistinguishable from
a whole one). A file with no document at all is an error too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import (
    SPLITS,
    Record,
    at_least_one,
    normalize_space,
    numbered_lines,
    source_files,
)

_NO_ID = "-"


def read_pubtator(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """Yield one record per document of each split's PubTator file (``files``: split -> path or glob)."""
    if options:
        raise ConfigError(f"dataset '{dataset}': reader 'pubtator' takes no options, got {sorted(options)}")
    for split, relative in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': split '{split}' is not one of {SPLITS}")
        for path in source_files(dataset, Path(folder), relative):
            yield from at_least_one(dataset, path, _read_file(dataset, split, path), "document")


@dataclass
class _Document:
    pmid: str
    start_line: int
    title: str
    abstract: str | None = None
    # concept ID -> (start offset, mention text) of its earliest mention
    names: dict[str, tuple[int, str]] = field(default_factory=dict)
    # (line number, relation type, id1, id2)
    relations: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}"


def _read_file(dataset: str, split: str, path: Path) -> Iterator[Record]:
    doc: _Document | None = None
    for lineno, line in numbered_lines(dataset, path, final_line_end=True):
        if not line.strip():
            if doc is not None:
                yield _finish(dataset, split, path, doc)
                doc = None
            continue
        if doc is None:
            doc = _start(dataset, path, lineno, line)
        elif doc.abstract is None:
            pmid, kind, abstract = _passage(line)
            if kind != "a" or pmid != doc.pmid:
                raise DatasetFormatError(
                    dataset, path, lineno, f"the abstract line '{doc.pmid}|a|...' after the title", found=line
                )
            doc.abstract = abstract
        else:
            _annotation(dataset, path, lineno, line, doc)
    if doc is not None:
        yield _finish(dataset, split, path, doc)


def _passage(line: str) -> tuple[str, str, str]:
    parts = line.split("|", 2)
    if len(parts) != 3:
        return "", "", ""
    return parts[0], parts[1], parts[2]


def _start(dataset: str, path: Path, lineno: int, line: str) -> _Document:
    pmid, kind, title = _passage(line)
    if kind != "t" or not pmid.strip():
        raise DatasetFormatError(dataset, path, lineno, "a document's title line 'PMID|t|title'", found=line)
    return _Document(pmid=pmid.strip(), start_line=lineno, title=title)


def _annotation(dataset: str, path: Path, lineno: int, line: str, doc: _Document) -> None:
    fields = line.split("\t")
    if fields[0].strip() != doc.pmid:
        raise DatasetFormatError(
            dataset, path, lineno, f"an annotation line of document {doc.pmid} (or an empty line)", found=line
        )
    if len(fields) == 6:
        _mention(dataset, path, lineno, fields, doc)
    elif len(fields) == 5 and not fields[1].strip().isdigit():
        _, relation_type, id1, id2, novelty = (f.strip() for f in fields)
        if not relation_type or not id1 or not id2 or not novelty:
            raise DatasetFormatError(
                dataset, path, lineno, "a relation type, two concept IDs and a novelty label", found=line
            )
        doc.relations.append((lineno, relation_type, id1, id2))
    else:
        raise DatasetFormatError(
            dataset,
            path,
            lineno,
            "a mention line (6 TAB-separated fields: PMID, start, end, text, type, IDs) "
            "or a relation line (5 fields: PMID, type, ID1, ID2, novelty)",
            found=line,
        )


def _mention(dataset: str, path: Path, lineno: int, fields: list[str], doc: _Document) -> None:
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        raise DatasetFormatError(dataset, path, lineno, "integer start and end offsets", found=fields[1:3]) from None
    text = doc.text
    mention = fields[3]
    if not 0 <= start < end <= len(text) or text[start:end] != mention:
        raise DatasetFormatError(
            dataset,
            path,
            lineno,
            f"offsets {start}-{end} to span the mention text in title + ' ' + abstract",
            found=(mention, text[start:end]),
        )
    name = normalize_space(mention)
    if not name:
        raise DatasetFormatError(dataset, path, lineno, "a non-blank mention text", found=mention)
    if not fields[4].strip() or not fields[5].strip():
        raise DatasetFormatError(
            dataset, path, lineno, "a non-empty entity type and concept IDs ('-' for none)", found=fields[4:]
        )
    for concept in fields[5].split(","):
        concept = concept.strip()
        if not concept or concept == _NO_ID:
            continue
        known = doc.names.get(concept)
        if known is None or start < known[0]:
            doc.names[concept] = (start, name)


def _finish(dataset: str, split: str, path: Path, doc: _Document) -> Record:
    if doc.abstract is None:
        raise DatasetFormatError(
            dataset, path, doc.start_line, f"the abstract line '{doc.pmid}|a|...' after this title line"
        )
    items, types = [], []
    for lineno, relation_type, id1, id2 in doc.relations:
        names = []
        for concept in (id1, id2):
            if concept not in doc.names:
                raise DatasetFormatError(
                    dataset, path, lineno, f"a mention of concept '{concept}' in document {doc.pmid}"
                )
            names.append(doc.names[concept][1])
        relation_type = normalize_space(relation_type)
        items.append(f"{names[0]} | {relation_type} | {names[1]}")
        types.append(relation_type)
    return Record(
        split=split,
        doc_id=doc.pmid,
        example_id=doc.pmid,
        text=normalize_space(doc.text),
        items=items,
        item_types=types,
    )
