"""Nodes of the ingestion pipeline: thin wrappers around :mod:`mtlsearch.ingestion.examples`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtlsearch.ingestion.examples import build_examples, dataset_cards


def read_raw_datasets(raw_root: Path, params: dict) -> pd.DataFrame:
    """Every declared dataset present under the raw folder, as one canonical table."""
    return build_examples(raw_root, params)


def describe_datasets(examples: pd.DataFrame, params: dict) -> dict:
    """Dataset cards: examples, documents, items and type frequencies per split."""
    return dataset_cards(examples, params)
