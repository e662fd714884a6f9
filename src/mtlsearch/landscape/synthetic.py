"""Synthetic score landscapes over all combinations of auxiliary datasets.

A landscape is the full table a search would see if it could afford every fine-tune: one row per
combination (the target always included) with the target's score. The families mimic what
multi-task transfer looks like in practice:

* most auxiliaries are neutral or slightly harmful (negative transfer is the common case), a few
  help by 0.5 to 3.5 points;
* ``additive``: every auxiliary adds its own effect, independently of the others;
* ``pairwise``: additive plus sparse pairwise interactions (synergies and conflicts between two
  auxiliaries, and redundancy between two helpful ones that teach the same thing);
* ``dilution``: additive plus a penalty that grows as the target's share of the training mixture
  shrinks (examples-proportional mixing, auxiliaries of varied size);
* ``saturation``: the helpful auxiliaries' gains saturate (diminishing returns) while each
  auxiliary still costs a little, so only the best few are worth adding;
* ``mixed``: pairwise interactions, dilution and saturation together;
* ``noisy``: a ``mixed`` landscape observed with Gaussian noise (seed-to-seed variance of a
  fine-tune). Its ``score`` column holds the noisy observation and ``true_score`` the noiseless
  value; the true optimum is the noiseless one.

Scores are fractions (an F1 of 0.71 is 0.71).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.errors import ConfigError

FAMILIES = ("additive", "pairwise", "dilution", "saturation", "mixed", "noisy")
SEPARATOR = "+"
DEFAULT_NOISE_SD = 0.004


def default_candidates(n: int) -> list[str]:
    return [f"aux{i:02d}" for i in range(n)]


def all_masks(n: int) -> np.ndarray:
    """Inclusion matrix of every combination: row ``m`` has bit ``i`` of ``m`` in column ``i``."""
    masks = np.arange(2**n, dtype=np.int64)
    return ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)


def _main_effects(rng: np.random.Generator, n: int) -> np.ndarray:
    effects = rng.normal(-0.004, 0.004, size=n)
    n_helpful = min(n, int(rng.integers(1, 5)))
    helpful = rng.choice(n, size=n_helpful, replace=False)
    effects[helpful] = rng.uniform(0.005, 0.035, size=n_helpful)
    return effects


def _pair_effects(rng: np.random.Generator, effects: np.ndarray, density: float) -> np.ndarray:
    n = len(effects)
    pairs = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if effects[i] > 0 and effects[j] > 0 and rng.random() < 0.5:
                # Two helpful auxiliaries often teach overlapping things: the second adds less.
                pairs[i, j] = -0.5 * min(effects[i], effects[j]) * rng.uniform(0.5, 1.0)
            elif rng.random() < density:
                pairs[i, j] = rng.normal(0.0, 0.006)
    return pairs


def dilution_penalty(rng: np.random.Generator, x: np.ndarray, strength: float) -> np.ndarray:
    """Score lost as the target's share of an examples-proportional mixture shrinks.

    Auxiliaries get random sizes relative to the target; the penalty is ``strength`` times the
    share of the mixture that is not the target, so every addition costs, the big ones most.
    """
    sizes = np.exp(rng.normal(0.0, 0.8, size=x.shape[1]))  # relative to the target's size
    share = 1.0 / (1.0 + x @ sizes)
    return -strength * (1.0 - share)


def saturating_gain(rng: np.random.Generator, x: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Helpful effects that saturate, harmful ones that add up, and a small cost per auxiliary."""
    gains = np.clip(effects, 0.0, None)
    # The cap sits below the sum of all gains, so that stacking every helpful auxiliary pays
    # clearly less than its parts while a single one keeps most of its gain.
    cap = max(gains.sum(), 1e-3) * rng.uniform(0.4, 0.9)
    cost = rng.uniform(0.0, 0.002)
    return (
        cap * (1.0 - np.exp(-(x @ gains) / cap)) + x @ np.clip(effects, None, 0.0) - cost * x.sum(1)
    )


def _true_scores(family: str, rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    base = rng.uniform(0.55, 0.85)
    effects = _main_effects(rng, n)
    if family == "additive":
        delta = x @ effects
    elif family == "pairwise":
        pairs = _pair_effects(rng, effects, density=0.15)
        delta = x @ effects + np.einsum("mi,ij,mj->m", x, pairs, x)
    elif family == "dilution":
        delta = x @ effects + dilution_penalty(rng, x, strength=rng.uniform(0.01, 0.03))
    elif family == "saturation":
        delta = saturating_gain(rng, x, effects)
    else:  # mixed, and the noiseless part of noisy
        pairs = _pair_effects(rng, effects, density=0.1)
        delta = (
            saturating_gain(rng, x, effects)
            + np.einsum("mi,ij,mj->m", x, pairs, x)
            + dilution_penalty(rng, x, strength=rng.uniform(0.005, 0.02))
        )
    return np.clip(base + delta, 0.0, 1.0)


def generate_landscape(
    family: str,
    n: int,
    seed: int,
    target: str = "t",
    candidates: Sequence[str] | None = None,
    noise_sd: float = DEFAULT_NOISE_SD,
) -> pd.DataFrame:
    """The full table of a synthetic landscape: 2**n rows with ``datasets`` and ``score``.

    ``datasets`` joins the sorted member ids with '+' (the target is always a member). The
    ``noisy`` family adds ``true_score``, the noiseless value, and uses ``noise_sd``.
    """
    if family not in FAMILIES:
        raise ConfigError(f"unknown landscape family {family!r}; expected one of {FAMILIES}")
    if n < 0:
        raise ConfigError(f"the number of candidates must be >= 0, got {n}")
    names = list(candidates) if candidates is not None else default_candidates(n)
    if len(names) != n:
        raise ConfigError(f"{len(names)} candidate ids given for n={n}")
    if len(set(names) | {target}) != n + 1:
        raise ConfigError(f"candidate ids must be distinct and differ from the target: {names}")
    if any(SEPARATOR in name for name in [*names, target]):
        raise ConfigError(f"dataset ids must not contain {SEPARATOR!r}: {[*names, target]}")

    # The family name is part of the seed so that families with the same seed are unrelated.
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    x = all_masks(n)
    scores = _true_scores(family, rng, x)
    members = [
        SEPARATOR.join(sorted([target, *(names[i] for i in np.flatnonzero(row))])) for row in x
    ]
    table = pd.DataFrame({"datasets": members, "score": scores})
    if family == "noisy":
        table["true_score"] = scores
        table["score"] = np.clip(scores + rng.normal(0.0, noise_sd, size=len(scores)), 0.0, 1.0)
    order = np.lexsort((table["datasets"].to_numpy(), x.sum(1)))
    return table.iloc[order].reset_index(drop=True)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a landscape table as CSV (the format ``TableEvaluator`` reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path
