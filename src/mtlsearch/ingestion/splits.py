"""Deterministic, seeded, document-level split policies.

Assignment is a hash of ``(seed, doc_id)`` mapped to [0, 1). It depends on nothing else (not
the dataset, not the order of the records), so a document shared by two datasets (GENIA 2011 and
2013 share articles) falls in the same split of both, and adding documents never moves others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pandas as pd

from mtlsearch.errors import ConfigError

POLICIES = ("official", "carve_dev", "grouped")
DEFAULT_FRACTIONS = {"train": 0.8, "dev": 0.1, "test": 0.1}


def unit_hash(seed: int | str, key: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``key`` under ``seed``."""
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def apply_split_policy(frame: pd.DataFrame, policy: Mapping, seed: int, dataset: str) -> pd.DataFrame:
    """Return ``frame`` with its ``split`` column set by ``policy``.

    - ``official``: keep the reader's splits; every record must have one.
    - ``carve_dev``: keep train and test, move a ``dev_fraction`` of train documents to dev.
    - ``grouped``: ignore any reader split; draw train/dev/test by document with ``fractions``.
    """
    name = policy.get("policy", "official")
    frame = frame.copy()
    if name not in POLICIES:
        raise ConfigError(f"dataset '{dataset}': unknown split policy '{name}'; expected one of {POLICIES}")
    draws = frame["doc_id"].map(lambda doc: unit_hash(seed, doc))
    if name == "official":
        missing = frame["split"].isna()
        if missing.any():
            example = frame.loc[missing, "example_id"].iloc[0]
            raise ConfigError(
                f"dataset '{dataset}': split policy 'official' needs a split for every example, "
                f"but '{example}' has none; use policy 'grouped' for sources without splits"
            )
    elif name == "carve_dev":
        fraction = float(policy.get("dev_fraction", 0.1))
        if not 0.0 < fraction < 1.0:
            raise ConfigError(f"dataset '{dataset}': dev_fraction must be in (0, 1), got {fraction}")
        frame.loc[(frame["split"] == "train") & (draws < fraction), "split"] = "dev"
    else:
        fractions = dict(policy.get("fractions", DEFAULT_FRACTIONS))
        if set(fractions) != {"train", "dev", "test"} or abs(sum(fractions.values()) - 1.0) > 1e-9:
            raise ConfigError(
                f"dataset '{dataset}': fractions must give train, dev and test summing to 1, got {fractions}"
            )
        train_cut = fractions["train"]
        dev_cut = train_cut + fractions["dev"]
        frame["split"] = ["train" if d < train_cut else "dev" if d < dev_cut else "test" for d in draws]
    bad = ~frame["split"].isin(["train", "dev", "test"])
    if bad.any():
        raise ConfigError(
            f"dataset '{dataset}': split must be train, dev or test, got {frame.loc[bad, 'split'].iloc[0]!r}"
        )
    return frame
