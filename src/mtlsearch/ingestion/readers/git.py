"""GIT / GM-CIHT triples in JSON Lines (``renew_triplet_T_{train,dev,test}.jsonl``).

Each line is one triple ``{"PREDICATE", "SUBJECT_TEXT", "OBJECT_TEXT", "SENTENCE"}``. Records
of one sentence are grouped into one example whose items are ``"subject | PREDICATE | object"``;
identical records are read once (the released test file lists every record twice).

The released ``SENTENCE`` gives the entities away, so it is cleaned before use:

1. Entity markers are removed: ``[  head  ]`` and ``{  tail  }`` (about an eighth of the
   records) become ``head`` and ``tail``. Only a bracket with at least two spaces inside is a
   marker (``[title of a translated article].`` is text); braces occur only as markers, a few
   with single spaces inside.
2. The release pads each occurrence of the record's subject and object with one space on
   either side (``of  tonin  was``, ``the  tonin -alpha``, ``smooth- muscle``, ``rats ,``). An
   occurrence is taken as padded when, outside it, each side is a space, punctuation or the
   end of the sentence; a padding space next to punctuation is then dropped (``tonin-alpha``,
   ``smooth-muscle``, ``rats,``). A space between the mention and a letter or digit is kept,
   since text cannot tell a padded word part (``factor ix a`` for ``factor ixa``) from two words.
3. Runs of white space collapse to one space and the ends are stripped.

Records whose cleaned sentences are equal form one example (the same sentence is released
once per triple, each time with that triple's markers and padding), so there are fewer
examples than distinct raw ``SENTENCE`` strings. Examples come in order of first appearance
within the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
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

KEYS = ("SUBJECT_TEXT", "PREDICATE", "OBJECT_TEXT", "SENTENCE")

_MARKERS = re.compile(r"\[ {2,}(.+?) {2,}\]|\{ +(.+?) +\}")


def read_git_jsonl(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """Yield one record per distinct cleaned sentence of each split's JSON Lines file (or glob)."""
    if options:
        raise ConfigError(f"dataset '{dataset}': reader 'git_jsonl' takes no options, got {sorted(options)}")
    for split, relative in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': split '{split}' is not one of {SPLITS}")
        k = 0
        for path in source_files(dataset, Path(folder), relative):
            for record in at_least_one(dataset, path, _read_file(dataset, split, path, k), "triple"):
                k += 1
                yield record


def clean_sentence(sentence: str, mentions: list[str]) -> str:
    """The sentence without entity markers and without the padding around ``mentions``."""
    text = _MARKERS.sub(lambda m: (m.group(1) if m.group(1) is not None else m.group(2)).strip(), sentence)
    # longest first, so that a mention inside a longer one does not claim the longer one's padding
    for mention in sorted({m for m in mentions if m.strip()}, key=len, reverse=True):
        text = _unpad(text, mention)
    return normalize_space(text)


def _is_punctuation(char: str) -> bool:
    return char != "" and not char.isspace() and not char.isalnum()


def _unpad(text: str, mention: str) -> str:
    needle = f" {mention} "
    pieces: list[str] = []
    done = 0
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if before.isalnum() or after.isalnum():
            # one side touches a word: an ordinary occurrence between single spaces
            start = text.find(needle, start + 1)
            continue
        pieces.append(text[done:start])
        pieces.append(("" if _is_punctuation(before) else " ") + mention + ("" if _is_punctuation(after) else " "))
        done = end
        start = text.find(needle, end)
    pieces.append(text[done:])
    return "".join(pieces)


def _read_file(dataset: str, split: str, path: Path, first: int) -> Iterator[Record]:
    seen: set[tuple[str, ...]] = set()
    # cleaned sentence -> (items, item types), in order of first appearance
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for lineno, line in numbered_lines(dataset, path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(dataset, path, lineno, "one JSON object per line", found=exc.msg) from None
        if not isinstance(record, dict):
            raise DatasetFormatError(dataset, path, lineno, "a JSON object", found=type(record).__name__)
        missing = [key for key in KEYS if not isinstance(record.get(key), str) or not record[key].strip()]
        if missing:
            raise DatasetFormatError(
                dataset, path, lineno, f"non-empty string values for the keys {list(KEYS)}", found=f"missing {missing}"
            )
        key = tuple(record[k] for k in KEYS)
        if key in seen:
            continue
        seen.add(key)
        subject, predicate, obj = (normalize_space(record[k]) for k in KEYS[:3])
        text = clean_sentence(record["SENTENCE"], [record["SUBJECT_TEXT"], record["OBJECT_TEXT"]])
        items, types = groups.setdefault(text, ([], []))
        item = f"{subject} | {predicate} | {obj}"
        if item not in items:
            items.append(item)
            types.append(predicate)
    for k, (text, (items, types)) in enumerate(groups.items(), start=first):
        example_id = f"{split}-{k}"
        yield Record(split=split, doc_id=example_id, example_id=example_id, text=text, items=items, item_types=types)
