"""Token-per-line IOB files (BC2GM, BC4CHEMD, BC5CDR in the MTL-Bioinformatics-2016 release).

Each non-empty line is ``TOKEN<TAB>TAG``; an empty line ends a sentence. One example per
sentence: the text is the tokens joined by single spaces, the items are the mentions (their
tokens joined by single spaces) in order of appearance, duplicates kept, typed by the tag's
entity type. The corpora have no document boundaries, so each sentence is its own document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import SPLITS, Record, numbered_lines, source_files

_TAG = re.compile(r"O|([BI])-(\S+)")


def read_iob(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """Yield one record per sentence of each split's IOB file.

    ``files`` maps a split (train/dev/test) to a file (or glob) relative to ``folder``; sentence
    indices run on across the files of a split. An ``I-X`` tag that does not continue a mention
    of type ``X`` starts a new mention (IOB1 reading) rather than failing, since both
    conventions occur in circulated copies of these corpora.
    """
    if options:
        raise ConfigError(f"dataset '{dataset}': reader 'iob' takes no options, got {sorted(options)}")
    for split, relative in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': split '{split}' is not one of {SPLITS}")
        index = 0
        for path in source_files(dataset, Path(folder), relative):
            for record in _read_file(dataset, split, path, index):
                index += 1
                yield record


def _read_file(dataset: str, split: str, path: Path, index: int) -> Iterator[Record]:
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
        if len(columns) != 2 or not columns[0].strip():
            raise DatasetFormatError(dataset, path, lineno, "2 TAB-separated columns 'TOKEN<TAB>TAG'", found=line)
        token, tag = columns[0].strip(), columns[1].strip()
        match = _TAG.fullmatch(tag)
        if match is None:
            raise DatasetFormatError(dataset, path, lineno, "a tag 'O', 'B-TYPE' or 'I-TYPE'", found=tag)
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
