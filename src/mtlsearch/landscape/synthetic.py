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

The families above share one way of drawing effects, and a strategy or a stopping rule tuned on
them can be tuned to that shape. ``GENERATORS`` are built apart from them, each from its own
code, and every one is observed with noise (``score`` noisy, ``true_score`` noiseless):

* ``independent``: helpful, neutral and harmful auxiliaries by kind, a few sparse pairs, a
  dilution that grows with the auxiliaries' total size, tanh saturation of the gains, and a small
  fixed noise (sd 0.003);
* ``real_shaped``: fitted to the recorded landscapes of the default mixture policy (``equal``) in
  docs/landscapes (``REAL_PROFILES``; not ``fixed-target-*``): the
  target-alone score, the fall of the mean score with the number of auxiliaries, the spread of
  the auxiliaries' effects and of what those leave unexplained, and the measured seed noise as
  the observation noise;
* ``target_alone``: every auxiliary hurts, and the target alone beats every combination by 1 to
  3 points;
* ``late``: a group of five to seven auxiliaries (at most N - 3) that each hurt alone and in
  pairs but pay off together (pairwise synergies), so that the optimum is a large combination a
  search reaches late, behind a decoy auxiliary that helps a little on its own;
* ``skills``: held out for benchmarks, never for tuning: the target needs a few skills, each
  auxiliary teaches some of them partly, a skill's coverage grows as a noisy-OR of what the
  mixture teaches (redundancy of every order, not pairs), and every auxiliary costs domain
  mismatch and a share of the mixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.combinations import SEPARATOR
from mtlsearch.errors import ConfigError

FAMILIES = ("additive", "pairwise", "dilution", "saturation", "mixed", "noisy")
GENERATORS = ("independent", "real_shaped", "target_alone", "late", "skills")
HELD_OUT = ("skills",)
ALL_FAMILIES = FAMILIES + GENERATORS
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


# The generators below share no code with the families above: each draws its own effects.
_GENERATOR_SEEDS = {name: 101 + k for k, name in enumerate(GENERATORS)}
INDEPENDENT_NOISE_SD = 0.003


def _independent_scores(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    n = x.shape[1]
    base = rng.uniform(0.45, 0.85)
    kind = rng.choice(3, size=n, p=(0.25, 0.35, 0.40))  # helpful, neutral, harmful
    effect = np.select(
        [kind == 0, kind == 1],
        [rng.gamma(2.0, 0.008, size=n), rng.normal(0.0, 0.0015, size=n)],
        -rng.gamma(2.0, 0.005, size=n),
    )
    gains = np.clip(effect, 0.0, None)
    ceiling = max(gains.sum() * rng.uniform(0.35, 0.8), 1e-4)
    delta = ceiling * np.tanh((x @ gains) / ceiling) + x @ (effect - gains)
    for _ in range(rng.poisson(n / 2)):
        i, j = rng.choice(n, size=2, replace=False)
        delta += rng.laplace(0.0, 0.006) * x[:, i] * x[:, j]
    load = x @ rng.lognormal(0.0, 0.7, size=n)
    delta -= rng.uniform(0.005, 0.03) * load / (load + rng.uniform(1.0, 4.0))
    return np.clip(base + delta, 0.0, 1.0), INDEPENDENT_NOISE_SD


@dataclass(frozen=True)
class RealProfile:
    """The shape of one recorded landscape, as ``fit_real_profile`` reads it.

    The mean score falls (or rises) with the number of auxiliaries k as ``drop * (1 - ratio**k) /
    (1 - ratio)`` (``drop * k`` at ratio 1); ``effects`` are each auxiliary's deviation from that
    trend; ``interaction_sd`` is what both leave unexplained, net of the noise; ``noise_sd`` is
    the measured seed noise.
    """

    name: str
    alone: float
    drop: float
    ratio: float
    effects: tuple[float, ...]
    interaction_sd: float
    noise_sd: float


def _size_trend(drop: float, ratio: float, k: np.ndarray) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    if ratio >= 1.0:
        return drop * k
    return drop * (1.0 - ratio**k) / (1.0 - ratio)


def fit_real_profile(table: pd.DataFrame, noise_sd: float, name: str = "") -> RealProfile:
    """Read a recorded landscape's shape: every subset of a small pool, one row each."""
    members = [frozenset(d.split(SEPARATOR)) for d in table["datasets"]]
    (target,) = frozenset.intersection(*members)
    pool = sorted(frozenset.union(*members) - {target})
    x = np.array([[a in m for a in pool] for m in members], dtype=float)
    y = table["score"].to_numpy(dtype=float)
    k = x.sum(1).astype(int)
    alone = float(y[k == 0].mean())
    trend = np.array([y[k == j].mean() - alone for j in range(1, len(pool) + 1)])
    effects = np.array([y[x[:, i] == 1].mean() - y[x[:, i] == 0].mean() for i in range(len(pool))])
    effects -= effects.mean()  # the trend by size carries the average effect
    best = (np.inf, 0.0, 0.0)
    steps = np.arange(1, len(pool) + 1)
    for ratio in np.linspace(0.0, 1.0, 101):
        shape = _size_trend(1.0, ratio, steps)
        drop = float(shape @ trend / (shape @ shape))
        error = float(((trend - drop * shape) ** 2).sum())
        if error < best[0]:
            best = (error, drop, float(ratio))
    design = np.hstack([np.eye(len(pool) + 1)[k], x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    dof = len(y) - np.linalg.matrix_rank(design)
    # One recorded evaluation per combination: part of the residual is the seed noise itself.
    unexplained = residual.var() - noise_sd**2 * dof / len(y)
    return RealProfile(
        name, alone, best[1], best[2], tuple(float(e) for e in effects),
        float(np.sqrt(max(unexplained, 0.0))), float(noise_sd),
    )


# fit_real_profile on the recorded landscapes with a spread (docs/landscapes; the flat ddi
# landscape, F1 0 everywhere, is left out), rounded; tests/landscape checks they still agree.
REAL_PROFILES = (
    RealProfile(
        "lr-1e-3/genia2011", 0.0134, 0.0345, 0.0,
        (-0.0269, -0.0177, 0.0459, -0.0012), 0.0, 0.0358,
    ),
    RealProfile(
        "lr-1e-3/healthadvice", 0.7804, -0.0497, 1.0,
        (-0.0183, 0.0206, -0.0247, 0.0224), 0.0109, 0.0203,
    ),
    RealProfile(
        "lr-1e-3-steps-800/bc5cdr", 0.0674, -0.0473, 0.19,
        (-0.0008, 0.0041, -0.0026, -0.0008), 0.0, 0.0055,
    ),
    RealProfile(
        "lr-1e-3-steps-800/genia2011", 0.0914, 0.0115, 0.42,
        (-0.04, -0.0122, 0.0572, -0.0051), 0.0211, 0.0243,
    ),
    RealProfile(
        "lr-3e-3/bc5cdr", 0.0487, -0.0426, 0.06,
        (0.0008, 0.0042, -0.0028, -0.0022), 0.0, 0.0071,
    ),
    RealProfile(
        "lr-3e-3/genia2011", 0.0, 0.0492, 0.0,
        (-0.014, -0.0273, 0.0467, -0.0055), 0.0, 0.0604,
    ),
    RealProfile(
        "lr-3e-3/healthadvice", 0.7241, -0.0611, 0.69,
        (-0.0076, 0.0221, -0.0154, 0.0009), 0.0246, 0.0346,
    ),
)


def _real_shaped_scores(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    n = x.shape[1]
    profile = REAL_PROFILES[int(rng.integers(len(REAL_PROFILES)))]
    recorded = np.asarray(profile.effects)
    # A larger pool is drawn from the recorded auxiliaries' effects, with jitter of a third of
    # their spread, so that a profile with one clear helper keeps about one helper in four.
    effects = rng.choice(recorded, size=n) + rng.normal(0.0, recorded.std() / 3, size=n)
    effects -= effects.mean()
    k = x.sum(1)
    delta = _size_trend(profile.drop, profile.ratio, k) + x @ effects
    if profile.interaction_sd > 0 and n > 1:
        pairs = np.triu(rng.normal(size=(n, n)), 1)
        rough = np.einsum("mi,ij,mj->m", x, pairs, x)
        design = np.hstack([np.eye(n + 1)[k.astype(int)], x])
        rough -= design @ np.linalg.lstsq(design, rough, rcond=None)[0]
        delta += rough * profile.interaction_sd / max(rough.std(), 1e-12)
    return np.clip(profile.alone + delta, 0.0, 1.0), profile.noise_sd


def _target_alone_scores(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    n = x.shape[1]
    delta = x @ -rng.uniform(0.003, 0.03, size=n)
    for _ in range(rng.poisson(n / 3)):
        i, j = rng.choice(n, size=2, replace=False)
        delta += rng.laplace(0.0, 0.004) * x[:, i] * x[:, j]
    load = x @ rng.lognormal(0.0, 0.5, size=n)
    delta -= rng.uniform(0.0, 0.02) * load / (load + 2.0)
    margin = rng.uniform(0.01, 0.03)
    if n:
        delta[1:] -= max(0.0, delta[1:].max() + margin)  # row 0 is the target alone
    return np.clip(rng.uniform(0.45, 0.85) + delta, 0.0, 1.0), INDEPENDENT_NOISE_SD


def _late_scores(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    n = x.shape[1]
    effects = -rng.gamma(2.0, 0.003, size=n)
    # At least three auxiliaries stay outside (a decoy and two that hurt), so that the optimum
    # is a large combination but never simply the whole pool.
    size = max(0, min(n - 3, int(rng.integers(5, 8))))
    group = rng.choice(n, size=size, replace=False)
    effects[group] = -rng.uniform(0.002, 0.008, size=size)
    synergy = np.zeros((n, n))
    if size > 1:
        weights = rng.uniform(0.5, 1.5, size=(size, size))
        together = rng.uniform(0.02, 0.04)  # what the whole group gains
        pairs = np.triu(weights, 1)
        pairs *= (together - effects[group].sum()) / pairs.sum()
        synergy[np.ix_(group, group)] = pairs
    others = np.setdiff1d(np.arange(n), group)
    if len(others):
        effects[rng.choice(others)] = rng.uniform(0.005, 0.012)  # the decoy
    delta = x @ effects + np.einsum("mi,ij,mj->m", x, synergy, x)
    delta -= rng.uniform(0.0, 0.005) * x.sum(1) / (x.sum(1) + 2.0)
    return np.clip(rng.uniform(0.45, 0.85) + delta, 0.0, 1.0), INDEPENDENT_NOISE_SD


def _skills_scores(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    n = x.shape[1]
    n_skills = int(rng.integers(2, 6))
    worth = rng.dirichlet(np.ones(n_skills)) * rng.uniform(0.01, 0.05)
    teaches = (rng.random((n, n_skills)) < 0.3) * rng.uniform(0.2, 0.9, size=(n, n_skills))
    coverage = 1.0 - np.exp(x @ np.log1p(-teaches))
    mismatch = rng.exponential(0.006, size=n)
    load = x @ rng.lognormal(0.0, 0.6, size=n)
    dilution = rng.uniform(0.0, 0.025) * (1.0 - 1.0 / (1.0 + load / rng.uniform(1.0, 5.0)))
    delta = coverage @ worth - x @ mismatch - dilution
    return np.clip(rng.uniform(0.45, 0.85) + delta, 0.0, 1.0), 0.004


_GENERATOR_SCORES = {
    "independent": _independent_scores,
    "real_shaped": _real_shaped_scores,
    "target_alone": _target_alone_scores,
    "late": _late_scores,
    "skills": _skills_scores,
}


def generate_landscape(
    family: str,
    n: int,
    seed: int,
    target: str = "t",
    candidates: Sequence[str] | None = None,
    noise_sd: float | None = None,
) -> pd.DataFrame:
    """The full table of a synthetic landscape: 2**n rows with ``datasets`` and ``score``.

    ``datasets`` joins the sorted member ids with '+' (the target is always a member). The
    ``noisy`` family and the ``GENERATORS`` add ``true_score``, the noiseless value; their noise
    sd is ``noise_sd``, or by default the family's own (``DEFAULT_NOISE_SD`` for ``noisy``).
    """
    if family not in ALL_FAMILIES:
        raise ConfigError(f"unknown landscape family {family!r}; expected one of {ALL_FAMILIES}")
    if n < 0:
        raise ConfigError(f"the number of candidates must be >= 0, got {n}")
    names = list(candidates) if candidates is not None else default_candidates(n)
    if len(names) != n:
        raise ConfigError(f"{len(names)} candidate ids given for n={n}")
    if len(set(names) | {target}) != n + 1:
        raise ConfigError(f"candidate ids must be distinct and differ from the target: {names}")
    if any(SEPARATOR in name for name in [*names, target]):
        raise ConfigError(f"dataset ids must not contain {SEPARATOR!r}: {[*names, target]}")

    x = all_masks(n)
    # The family name is part of the seed so that families with the same seed are unrelated.
    if family in FAMILIES:
        rng = np.random.default_rng([seed, FAMILIES.index(family)])
        scores = _true_scores(family, rng, x)
        own_noise = DEFAULT_NOISE_SD if family == "noisy" else None
    else:
        rng = np.random.default_rng([seed, _GENERATOR_SEEDS[family]])
        scores, own_noise = _GENERATOR_SCORES[family](rng, x)
    members = [
        SEPARATOR.join(sorted([target, *(names[i] for i in np.flatnonzero(row))])) for row in x
    ]
    table = pd.DataFrame({"datasets": members, "score": scores})
    if own_noise is not None:
        sd = own_noise if noise_sd is None else float(noise_sd)
        table["true_score"] = scores
        table["score"] = np.clip(scores + rng.normal(0.0, sd, size=len(scores)), 0.0, 1.0)
    order = np.lexsort((table["datasets"].to_numpy(), x.sum(1)))
    return table.iloc[order].reset_index(drop=True)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a landscape table as CSV (the format ``TableEvaluator`` reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path
