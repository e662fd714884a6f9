"""Fingerprints: short, stable hashes of what a result depends on (configuration, data, artifacts)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd


def digest(payload: Any) -> str:
    """A short, stable hash of a JSON-serialisable payload."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def examples_fingerprint(examples: pd.DataFrame) -> str:
    """A hash of the canonical table's content (order-independent)."""
    rows = pd.util.hash_pandas_object(
        examples[["dataset", "split", "example_id", "text"]].assign(items=examples["items"].map("\x1f".join)),
        index=False,
    )
    return hashlib.sha256(pd.Series(sorted(rows.tolist())).to_numpy().tobytes()).hexdigest()[:16]
