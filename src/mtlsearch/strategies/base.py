"""The interface every combination-search strategy implements, and helpers they share.

A combination is the set of indices (0..N-1) of the auxiliary datasets mixed with the target; the
target itself is implicit. A strategy sees the history of finished evaluations (in the order they
finished, possibly including evaluations it did not propose) and proposes combinations to
evaluate next.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from mtlsearch.errors import ConfigError

Combination = frozenset[int]

# Strategies that score every combination hold a 2**N table; beyond this it stops being cheap.
MAX_ENUMERATED_CANDIDATES = 16


@dataclass(frozen=True)
class SizeBounds:
    """How many auxiliaries (indices) a combination may hold, both ends inclusive; ``high`` None:
    no upper bound. ``low`` > 0 makes the target alone (the empty combination) infeasible."""

    low: int = 0
    high: int | None = None

    def __post_init__(self):
        for name, value in (("low", self.low), ("high", self.high)):
            if value is None and name == "high":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ConfigError(
                    f"size bounds: {name} must be a non-negative integer, got {value!r}"
                )
        if self.high is not None and self.low > self.high:
            raise ConfigError(
                f"size bounds: low ({self.low}) must not exceed high ({self.high})"
            )

    def contains(self, size: int) -> bool:
        return self.low <= size and (self.high is None or size <= self.high)

    def upper(self, n: int) -> int:
        """The largest feasible size among ``n`` candidates."""
        return n if self.high is None else min(self.high, n)

    def check(self, n: int) -> SizeBounds:
        """These bounds, after a ConfigError if no combination of ``n`` candidates fits them."""
        if self.low > n:
            raise ConfigError(
                f"size bounds: low ({self.low}) exceeds the number of candidates ({n})"
            )
        return self

    def count(self, n: int) -> int:
        """The number of feasible combinations of ``n`` candidates (a Python int, exact)."""
        return sum(math.comb(n, k) for k in range(self.low, self.upper(n) + 1))

    @property
    def unbounded(self) -> bool:
        return self.low == 0 and self.high is None

    def __str__(self) -> str:
        return f"{self.low}..{'N' if self.high is None else self.high} auxiliaries"


UNBOUNDED = SizeBounds()


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

    ``size_bounds`` restricts the combinations it may propose to those whose number of
    auxiliaries lies within the bounds (the feasible ones); a history may still hold infeasible
    combinations (evaluations made elsewhere), which inform a model but are never proposed and do
    not count towards "everything evaluated".
    """

    name: ClassVar[str] = ""
    enumerates: ClassVar[bool] = False
    # The most candidates the strategy supports (None: any), for strategies that do not
    # enumerate but still cost more than linear in N.
    max_candidates: ClassVar[int | None] = None

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        size_bounds: SizeBounds | None = None,
        **options,
    ):
        if options:
            raise ConfigError(f"strategy {self.name!r}: unknown option(s) {sorted(options)}")
        if int(n_candidates) != n_candidates or n_candidates < 0:
            raise ConfigError(f"n_candidates must be a non-negative integer, got {n_candidates!r}")
        if self.enumerates and n_candidates > MAX_ENUMERATED_CANDIDATES:
            raise ConfigError(
                f"strategy {self.name!r} scores all 2**N combinations and supports at most "
                f"{MAX_ENUMERATED_CANDIDATES} candidates, got {n_candidates}"
            )
        if self.max_candidates is not None and n_candidates > self.max_candidates:
            raise ConfigError(
                f"strategy {self.name!r} supports at most {self.max_candidates} candidates, "
                f"got {n_candidates}"
            )
        if size_bounds is None:
            size_bounds = UNBOUNDED
        if not isinstance(size_bounds, SizeBounds):
            raise ConfigError(f"size_bounds must be a SizeBounds, got {size_bounds!r}")
        self.n_candidates = int(n_candidates)
        self.size_bounds = size_bounds.check(self.n_candidates)
        self.min_size = int(self.size_bounds.low)
        self.max_size = int(self.size_bounds.upper(self.n_candidates))
        self.n_combinations = 2**self.n_candidates
        self.n_feasible = self.size_bounds.count(self.n_candidates)
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
        """The surrogate's prediction for every feasible combination, or None without a
        surrogate."""
        return None

    def prior_weight(self, history: Sequence[Observation]) -> float | None:
        """How much the strategy's model believes its relatedness prior after ``history`` (the
        posterior mean weight of the prior direction, 0 when the evidence shrank it away), or
        None without a prior or before any observation."""
        return None

    def improvement_probability(
        self, history: Sequence[Observation], min_gain: float
    ) -> float | None:
        """The probability that some feasible combination not in ``history`` beats the best
        observed one by more than ``min_gain`` (score units), or None where the strategy cannot
        say.

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

    def is_feasible(self, mask: int) -> bool:
        """Whether the combination with bitmask ``mask`` is within the size bounds."""
        return self.min_size <= int(mask).bit_count() <= self.max_size

    def feasible_array(self) -> np.ndarray:
        """Per bitmask (index), whether it is feasible; only for enumerable N."""
        return feasible_sizes(self.n_candidates, self.min_size, self.max_size)

    def n_free(self, excluded: Iterable[int]) -> int:
        """The number of feasible combinations outside ``excluded`` (bitmasks)."""
        return self.n_feasible - sum(1 for m in set(excluded) if self.is_feasible(m))

    def exhausted(self, excluded: Iterable[int]) -> bool:
        """Whether every feasible combination is in ``excluded`` (bitmasks)."""
        return self.n_free(excluded) <= 0

    def feasible_in_order(self) -> Iterator[int]:
        """Every feasible bitmask, smallest combinations first (lazily)."""
        for size in range(self.min_size, self.max_size + 1):
            for combination in itertools.combinations(range(self.n_candidates), size):
                yield to_mask(combination)

    def random_feasible_rows(self, k: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """``k`` inclusion vectors (bool rows) drawn uniformly from the feasible combinations,
        with replacement: a size in proportion to how many combinations have it, then a uniform
        subset of that size."""
        rng = self.rng if rng is None else rng
        sizes = np.arange(self.min_size, self.max_size + 1)
        counts = np.array([float(math.comb(self.n_candidates, int(s))) for s in sizes])
        drawn = rng.choice(sizes, size=k, p=counts / counts.sum())
        ranks = rng.random((k, self.n_candidates)).argsort(1).argsort(1)
        return ranks < drawn[:, None]

    def random_unevaluated(
        self, excluded: set[int], n: int, rng: np.random.Generator | None = None
    ) -> list[int]:
        """Up to ``n`` distinct feasible bitmasks drawn uniformly from those not in ``excluded``."""
        rng = self.rng if rng is None else rng
        free = self.n_free(excluded)
        if free <= 0 or n <= 0:
            return []
        if self.n_candidates <= MAX_ENUMERATED_CANDIDATES:
            feasible = np.flatnonzero(self.feasible_array())
            pool = np.setdiff1d(feasible, np.fromiter(excluded, np.int64, len(excluded)))
            return [int(m) for m in rng.choice(pool, size=min(n, len(pool)), replace=False)]
        if free <= 4 * n and self.n_feasible <= ENUMERATION_LIMIT:
            pool = [m for m in self.feasible_in_order() if m not in excluded]
            picks = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
            return [pool[int(i)] for i in picks]
        chosen: list[int] = []
        while len(chosen) < min(n, free):
            for row in self.random_feasible_rows(max(8, 2 * n), rng):
                mask = rows_to_masks(row[None, :])[0]
                if mask not in excluded and mask not in chosen:
                    chosen.append(mask)
                    if len(chosen) >= min(n, free):
                        break
        return chosen


# Beyond this many feasible combinations, drawing at random beats listing them.
ENUMERATION_LIMIT = 200_000


@lru_cache(maxsize=16)
def feasible_sizes(n: int, low: int, high: int) -> np.ndarray:
    """Per bitmask of ``n`` candidates, whether its size lies within ``low..high`` (read-only)."""
    sizes = inclusion_matrix(n).sum(1)
    flags = (sizes >= low) & (sizes <= high)
    flags.setflags(write=False)
    return flags


_BITS = np.uint64(1) << np.arange(64, dtype=np.uint64)


def rows_to_masks(rows: np.ndarray) -> list[int]:
    """Bitmasks (Python ints) of inclusion vectors (rows).

    Up to 64 candidates summed as unsigned 64-bit integers: distinct bits never carry, so all 64 fit (a signed
    int64 would overflow at the 64th)."""
    rows = np.asarray(rows, dtype=bool)
    if rows.shape[1] > 64:
        return [to_mask(np.flatnonzero(row).tolist()) for row in rows]
    return [int(v) for v in (rows.astype(np.uint64) * _BITS[: rows.shape[1]]).sum(1, dtype=np.uint64)]


def masks_to_rows(masks: Iterable[int], n: int) -> np.ndarray:
    """Inclusion vectors (float rows) of bitmasks (Python ints, any size)."""
    masks = [int(m) for m in masks]
    if n <= 64:
        packed = np.array(masks, dtype=np.uint64).reshape(-1, 1)
        return ((packed >> np.arange(n, dtype=np.uint64)) & np.uint64(1)).astype(np.float64)
    rows = np.zeros((len(masks), n))
    for k, mask in enumerate(masks):
        for i in range(n):
            if (mask >> i) & 1:
                rows[k, i] = 1.0
    return rows


def predictions_by_combination(
    values: np.ndarray, feasible: np.ndarray | None = None
) -> dict[Combination, float]:
    """Map per-bitmask values (index = bitmask) to combinations, the feasible ones only where
    ``feasible`` (per bitmask) is given."""
    return {
        to_combination(mask): float(v)
        for mask, v in enumerate(values)
        if feasible is None or feasible[mask]
    }
