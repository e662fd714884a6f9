"""PubMed 20k RCT as sentence classification by rhetorical role.

Each of ``train.txt``, ``dev.txt`` and ``test.txt`` holds abstracts: a line ``###<PMID>`` starts
one, then one line ``<LABEL> TAB <sentence>`` per sentence, and a blank line ends it. The label is
one of BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS. One example per sentence, labelled
with the lower-cased label; the example id is ``<PMID>-<k>`` for the k-th sentence (from 1) of the
abstract, and the PMID is the document. A file must hold at least one sentence and end its last
line with a line end: a sentence cut short is otherwise indistinguishable from a whole one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import SPLITS, Record, at_least_one, numbered_lines, source_files

LABELS = ("background", "objective", "methods", "results", "conclusions")


def read_pubmed_rct(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """Labelled sentences from ``{split: file}``; a PMID may start only one abstract in all files."""
    if options:
        raise ConfigError(f"reader 'pubmed_rct' got unknown options {sorted(options)}")
    # PMID -> (file, line) of the abstract it started, so that example ids stay unique
    started: dict[str, tuple[Path, int]] = {}
    for split, pattern in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': file key '{split}' is not a split {SPLITS}")
        for path in source_files(dataset, Path(folder), pattern):
            yield from at_least_one(dataset, path, _read_file(dataset, split, path, started), "sentence")


def _read_file(dataset: str, split: str, path: Path, started: dict[str, tuple[Path, int]]) -> Iterator[Record]:
    pmid: str | None = None
    k = 0
    for lineno, line in numbered_lines(dataset, path, final_line_end=True):
        if not line.strip():
            pmid = None
            continue
        if line.startswith("###"):
            pmid = line[3:].strip()
            if not pmid:
                raise DatasetFormatError(dataset, path, lineno, "'###<PMID>'", line)
            if pmid in started:
                first_path, first_line = started[pmid]
                raise DatasetFormatError(
                    dataset,
                    path,
                    lineno,
                    f"a PMID not already used (it starts an abstract at {first_path}, line {first_line})",
                    line,
                )
            started[pmid] = (path, lineno)
            k = 0
            continue
        if pmid is None:
            raise DatasetFormatError(dataset, path, lineno, "'###<PMID>' before the abstract's sentences", line)
        label, tab, sentence = line.partition("\t")
        if not tab:
            raise DatasetFormatError(dataset, path, lineno, "'<LABEL> TAB <sentence>'", line)
        name = label.strip().lower()
        if name not in LABELS:
            raise DatasetFormatError(
                dataset, path, lineno, f"a label in {', '.join(l.upper() for l in LABELS)}", label
            )
        text = sentence.strip()
        if not text:
            raise DatasetFormatError(dataset, path, lineno, "a non-empty sentence after the TAB", line)
        k += 1
        yield Record(
            split=split,
            doc_id=pmid,
            example_id=f"{pmid}-{k}",
            text=text,
            items=[name],
            item_types=[name],
        )
