"""Nodes of the ingestion pipeline: thin wrappers around :mod:`mtlsearch.ingestion.examples`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.ingestion.examples import build_examples, dataset_cards, examples_record, raw_snapshot


def read_raw_datasets(raw_root: Path, params: dict) -> tuple[pd.DataFrame, dict]:
    """Every declared dataset present under the raw folder, as one canonical table, and the
    snapshot of the raw files it was read from."""
    snapshot = raw_snapshot(raw_root, params)
    return build_examples(raw_root, params), snapshot


def record_raw_inputs(examples: pd.DataFrame, snapshot: dict) -> dict:
    """The record of what ``examples`` was read from. A node of its own, after ``examples`` was
    saved (it loads it), so that no runner saves the record of a table that was not written."""
    return examples_record(examples, snapshot)


def describe_datasets(examples: pd.DataFrame, params: dict) -> dict:
    """Dataset cards: examples, documents, items and type frequencies per split."""
    return dataset_cards(examples, params)
