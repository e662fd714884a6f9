"""The DDI corpus 2013 in its original XML (one ``<document>`` per file).

One example per ``<sentence>``, sentences without interactions included (no items). The items
are ``"drug1 | type | drug2"`` for each ``<pair ddi="true">`` in document order, with the
entities' ``text`` attributes as names. A positive pair without a ``type`` (one in the training
set) gets the corpus' generic interaction label ``int``.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path

from mtlsearch.errors import ConfigError, DatasetFormatError
from mtlsearch.ingestion.readers.base import SPLITS, Record, normalize_space, source_files

logger = logging.getLogger(__name__)

GENERIC_TYPE = "int"
_DDI_VALUES = {"true": True, "false": False}


def read_ddi_xml(dataset: str, folder: Path, files: Mapping[str, str], **options: object) -> Iterator[Record]:
    """Yield one record per sentence of the XML files matching each split's glob.

    ``files`` maps a split to a glob relative to ``folder`` (e.g. ``DDICorpus/Train/**/*.xml``);
    the matching files are read in sorted path order, one at a time.
    """
    if options:
        raise ConfigError(f"dataset '{dataset}': reader 'ddi_xml' takes no options, got {sorted(options)}")
    for split, pattern in files.items():
        if split not in SPLITS:
            raise ConfigError(f"dataset '{dataset}': split '{split}' is not one of {SPLITS}")
        for path in source_files(dataset, Path(folder), pattern):
            yield from _read_file(dataset, split, path)


def _read_file(dataset: str, split: str, path: Path) -> Iterator[Record]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, _ = exc.position
        raise DatasetFormatError(dataset, path, line, "well-formed XML", found=str(exc)) from None
    if root.tag != "document":
        raise DatasetFormatError(dataset, path, None, "a <document> root element", found=root.tag)
    doc_id = _attribute(dataset, path, root, "id", "document")
    for sentence in root.iter("sentence"):
        yield _sentence(dataset, split, path, doc_id, sentence)


def _attribute(dataset: str, path: Path, element: ET.Element, name: str, where: str) -> str:
    value = element.get(name)
    if value is None or not value.strip():
        raise DatasetFormatError(dataset, path, where, f"a non-empty '{name}' attribute on <{element.tag}>")
    return value.strip()


def _sentence(dataset: str, split: str, path: Path, doc_id: str, sentence: ET.Element) -> Record:
    sentence_id = _attribute(dataset, path, sentence, "id", f"document '{doc_id}'")
    where = f"record '{sentence_id}'"
    text = sentence.get("text")
    if text is None:
        raise DatasetFormatError(dataset, path, where, "a 'text' attribute on <sentence>")
    names: dict[str, str] = {}
    for entity in sentence.iter("entity"):
        entity_id = _attribute(dataset, path, entity, "id", where)
        name = normalize_space(entity.get("text", ""))
        if not name:
            raise DatasetFormatError(dataset, path, f"record '{entity_id}'", "a non-empty 'text' attribute on <entity>")
        names[entity_id] = name
    items, types = [], []
    for pair in sentence.iter("pair"):
        pair_id = _attribute(dataset, path, pair, "id", where)
        pair_where = f"record '{pair_id}'"
        ddi = _DDI_VALUES.get(pair.get("ddi", "").strip().lower())
        if ddi is None:
            raise DatasetFormatError(dataset, path, pair_where, "ddi=\"true\" or ddi=\"false\"", found=pair.get("ddi"))
        ends = []
        for role in ("e1", "e2"):
            entity_id = _attribute(dataset, path, pair, role, pair_where)
            if entity_id not in names:
                raise DatasetFormatError(
                    dataset, path, pair_where, f"{role} to name an entity of sentence '{sentence_id}'", found=entity_id
                )
            ends.append(names[entity_id])
        if not ddi:
            continue
        relation_type = normalize_space(pair.get("type", ""))
        if not relation_type:
            logger.info(
                "dataset '%s': %s, pair '%s' is positive without a type; labelled '%s'",
                dataset, path, pair_id, GENERIC_TYPE,
            )
            relation_type = GENERIC_TYPE
        items.append(f"{ends[0]} | {relation_type} | {ends[1]}")
        types.append(relation_type)
    return Record(
        split=split,
        doc_id=doc_id,
        example_id=sentence_id,
        text=normalize_space(text),
        items=items,
        item_types=types,
    )
