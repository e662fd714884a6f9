"""The interface every combination-search strategy implements, and helpers they share.

A combination is the set of indices (0..N-1) of the auxiliary datasets mixed with the target; the
target itself is implicit. A strategy sees the history of finished evaluations (in the order they
finished, possibly including evaluations it did not propose) and proposes combinations to
evaluate next.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from mtlsearch.errors import ConfigError

Combination = frozenset[int]

# Strategies that score every combination hold a 2**N table; beyond this it stops being cheap.
MAX_ENUMERATED_CANDIDATES = 16


@dataclass(frozen=True)
class Observation:
    combination: Combination
    score: float


@dataclass(frozen=True)
class Proposal:
    combination: Combination
    predicted: float | None = None


@lru_cache(maxsize=8)
def inclusion_matrix(n: int) -> np.ndarray:
    """Row ``m`` is the inclusion vector of the combination with bitmask ``m`` (read-only)."""
    masks = np.arange(2**n, dtype=np.int64)
    matrix = ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)
    matrix.setflags(write=False)
    return matrix


def to_mask(combination: Iterable[int]) -> int:
    mask = 0
    for index in combination:
        mask |= 1 << int(index)
    return mask


def to_combination(mask: int) -> Combination:
    return frozenset(i for i in range(int(mask).bit_length()) if (int(mask) >> i) & 1)


class Strategy(ABC):
    """Proposes which combinations to evaluate next.

    ``propose`` returns up to ``n`` distinct combinations that are not in the history; an empty
    list means the strategy has nothing more to propose (or its own stopping rule fired).
    """

    name: ClassVar[str] = ""
    enumerates: ClassVar[bool] = False

    def __init__(self, n_candidates: int, seed: int = 0, **options):
        if options:
            raise ConfigError(f"strategy {self.name!r}: unknown option(s) {sorted(options)}")
        if int(n_candidates) != n_candidates or n_candidates < 0:
            raise ConfigError(f"n_candidates must be a non-negative integer, got {n_candidates!r}")
        if self.enumerates and n_candidates > MAX_ENUMERATED_CANDIDATES:
            raise ConfigError(
                f"strategy {self.name!r} scores all 2**N combinations and supports at most "
                f"{MAX_ENUMERATED_CANDIDATES} candidates, got {n_candidates}"
            )
        self.n_candidates = int(n_candidates)
        self.n_combinations = 2**self.n_candidates
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        """Up to ``n`` distinct combinations to evaluate next, none of them in ``history``."""

    def propose_pending(
        self, history: Sequence[Observation], n: int, pending: Collection[Combination]
    ) -> list[Proposal]:
        """Up to ``n`` proposals while the ``pending`` combinations are still being evaluated:
        none of them, none in ``history``.

        By default the strategy is asked for ``n + len(pending)`` and the pending ones are
        skipped; a strategy with a model overrides this to condition on them.
        """
        pending = {frozenset(c) for c in pending}
        fresh = [p for p in self.propose(history, n + len(pending)) if frozenset(p.combination) not in pending]
        return fresh[:n]

    def predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        """The surrogate's prediction for every combination, or None without a surrogate."""
        return None

    def improvement_probability(
        self, history: Sequence[Observation], min_gain: float
    ) -> float | None:
        """The probability that some combination not in ``history`` beats the best observed one
        by more than ``min_gain`` (score units), or None where the strategy cannot say.

        A strategy without a probabilistic model keeps this default; one with a model may still
        answer None while its model is not yet in charge (an initial design).
        """
        return None

    @property
    def has_model(self) -> bool:
        """Whether ``improvement_probability`` can answer (the search loop's "auto" stopping)."""
        return type(self).improvement_probability is not Strategy.improvement_probability

    # Helpers for subclasses.

    def observed(self, history: Sequence[Observation]) -> dict[int, float]:
        """Mean score per evaluated bitmask, in order of first evaluation.

        A combination evaluated more than once (a noisy evaluator reused from several searches)
        counts once, with its mean.
        """
        sums: dict[int, list[float]] = {}
        for observation in history:
            combination = observation.combination
            if any(not 0 <= int(i) < self.n_candidates for i in combination):
                last = self.n_candidates - 1
                raise ValueError(f"combination {sorted(combination)} has indices outside 0..{last}")
            sums.setdefault(to_mask(combination), []).append(float(observation.score))
        return {mask: float(np.mean(scores)) for mask, scores in sums.items()}

    def random_unevaluated(self, excluded: set[int], n: int) -> list[int]:
        """Up to ``n`` distinct bitmasks drawn uniformly from those not in ``excluded``."""
        free = self.n_combinations - len(excluded)
        if free <= 0 or n <= 0:
            return []
        if free <= 4 * n or self.n_candidates <= MAX_ENUMERATED_CANDIDATES:
            pool = np.setdiff1d(
                np.arange(self.n_combinations), np.fromiter(excluded, int, len(excluded))
            )
            return [int(m) for m in self.rng.choice(pool, size=min(n, len(pool)), replace=False)]
        chosen: list[int] = []
        while len(chosen) < n:
            mask = int(self.rng.integers(0, self.n_combinations))
            if mask not in excluded and mask not in chosen:
                chosen.append(mask)
        return chosen


def predictions_by_combination(values: np.ndarray) -> dict[Combination, float]:
    """Map per-bitmask values (index = bitmask) to combinations."""
    return {to_combination(mask): float(v) for mask, v in enumerate(values)}
