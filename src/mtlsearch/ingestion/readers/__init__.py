"""One reader per native format; the configuration names them by these keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module

from mtlsearch.errors import ConfigError
from mtlsearch.ingestion.readers.base import Record

# reader name -> "module:function"; imported on first use so that a dataset's reader costs
# nothing unless that dataset is read.
READERS: dict[str, str] = {
    "iob": "mtlsearch.ingestion.readers.iob:read_iob",
    "pubtator": "mtlsearch.ingestion.readers.pubtator:read_pubtator",
    "ddi_xml": "mtlsearch.ingestion.readers.ddi:read_ddi_xml",
    "git_jsonl": "mtlsearch.ingestion.readers.git:read_git_jsonl",
    "bionlp_standoff": "mtlsearch.ingestion.readers.standoff:read_bionlp_standoff",
    "phee_json": "mtlsearch.ingestion.readers.phee:read_phee_json",
    "ade": "mtlsearch.ingestion.readers.ade:read_ade",
    "healthadvice_csv": "mtlsearch.ingestion.readers.healthadvice:read_healthadvice_csv",
    "pubmed_rct": "mtlsearch.ingestion.readers.pubmed_rct:read_pubmed_rct",
    "canonical_jsonl": "mtlsearch.ingestion.readers.canonical:read_canonical_jsonl",
}

Reader = Callable[..., Iterator[Record]]


def get_reader(name: str) -> Reader:
    """The reader function registered under ``name``."""
    try:
        target = READERS[name]
    except KeyError:
        raise ConfigError(f"unknown reader '{name}'; expected one of {sorted(READERS)}") from None
    module, function = target.split(":")
    return getattr(import_module(module), function)
