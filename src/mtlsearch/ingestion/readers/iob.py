"""Token-per-line IOB files (BC2GM, BC4CHEMD, BC5CDR in the MTL-Bioinformatics-2016 release).

Each non-empty line is ``TOKEN<TAB>TAG``; an empty line ends a sentence. Tags must be in the
dataset's tag set (:data:`TAGS`, or the ``tags`` option for a dataset not listed there). One
example per sentence: the text is the tokens joined by single spaces, the items are the mentions
(their tokens joined by single spaces) in order of appearance, duplicates kept, typed by the
tag's entity type. The corpora have no document boundaries, so each sentence is its own
document. A file without any sentence is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import SPLITS, Record, at_least_one, numbered_lines, source_files

# The tag set of each IOB dataset declared in conf/base/parameters_ingestion.yml, as its release
# has it (bc2gm, bc5cdr: counted in the files, see their SOURCE.md; bc4chemd: its SOURCE.md, the
# single type Chemical). A tag outside the set is a file cut inside a tag ('B-GE' for 'B-GENE')
# or another corpus under this name; either way new entity types would slip in unnoticed.
TAGS: dict[str, tuple[str, ...]] = {
    "bc2gm": ("O", "B-GENE", "I-GENE"),
    "bc4chemd": ("O", "B-Chemical", "I-Chemical"),
    "bc5cdr": ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease"),
}

_TAG = re.compile(r"O|([BI])-(\S+)")


def read_iob(
    dataset: str,
    folder: Path,
    files: Mapping[str, str],
    *,
    tags: Sequence[str] | None = None,
    **options: object,
) -> Iterator[Record]:
    """Yield one record per sentence of each split's IOB file.

    ``files`` maps a split (train/dev/test) to a file (or glob) relative to ``folder``; sentence
    indices run on across the files of a split. ``tags`` is the dataset's tag set (``O``,
    ``B-TYPE``, ``I-TYPE``, ...); it defaults to the dataset's entry in :data:`TAGS` and must be
    given for any other dataset. An ``I-X`` tag that does not continue a mention of type ``X``
    starts a new mention (IOB1 reading) rather than failing, since both conventions occur in
    circulated copies of these corpora.
    """
    if options:
        raise ConfigError(
            f"dataset '{dataset}': reader 'iob' takes only the option 'tags', got {sorted(options)}"
        )
    known = _tag_set(dataset, tags)
    for split, relative in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': split '{split}' is not one of {SPLITS}")
        index = 0
        for path in source_files(dataset, Path(folder), relative):
            for record in at_least_one(dataset, path, _read_file(dataset, split, path, index, known), "sentence"):
                index += 1
                yield record


def _tag_set(dataset: str, tags: Sequence[str] | None) -> tuple[str, ...]:
    if tags is None:
        if dataset not in TAGS:
            raise ConfigError(
                f"dataset '{dataset}': reader 'iob' has no known tag set for it; give one as "
                f"options: {{tags: [O, B-TYPE, I-TYPE, ...]}} (known: {sorted(TAGS)})"
            )
        return TAGS[dataset]
    if isinstance(tags, str) or not tags or not all(isinstance(t, str) and _TAG.fullmatch(t) for t in tags):
        raise ConfigError(
            f"dataset '{dataset}': reader 'iob' option 'tags' must be a list of tags 'O', 'B-TYPE' "
            f"or 'I-TYPE', got {tags!r}"
        )
    return tuple(tags)


def _read_file(dataset: str, split: str, path: Path, index: int, known: tuple[str, ...]) -> Iterator[Record]:
    allowed = frozenset(known)
    tokens: list[str] = []
    mentions: list[tuple[list[str], str]] = []
    # type of the mention the previous token belongs to, None after an O tag
    open_type: str | None = None

    def finish() -> Record:
        example_id = f"{split}-{index}"
        return Record(
            split=split,
            doc_id=example_id,
            example_id=example_id,
            text=" ".join(tokens),
            items=[" ".join(words) for words, _ in mentions],
            item_types=[entity_type for _, entity_type in mentions],
        )

    for lineno, line in numbered_lines(dataset, path):
        if not line.strip():
            if tokens:
                yield finish()
                index += 1
                tokens, mentions, open_type = [], [], None
            continue
        columns = line.split("\t")
        if len(columns) != 2 or not columns[0].strip() or not columns[1].strip():
            raise DatasetFormatError(dataset, path, lineno, "2 TAB-separated columns 'TOKEN<TAB>TAG'", found=line)
        token, tag = columns[0].strip(), columns[1].strip()
        match = _TAG.fullmatch(tag) if tag in allowed else None
        if match is None:
            raise DatasetFormatError(dataset, path, lineno, f"a tag of {dataset}: {', '.join(known)}", found=tag)
        tokens.append(token)
        prefix, entity_type = match.groups()
        if prefix is None:
            open_type = None
        elif prefix == "B" or entity_type != open_type:
            mentions.append(([token], entity_type))
            open_type = entity_type
        else:
            mentions[-1][0].append(token)
    if tokens:
        yield finish()
