"""Reference strategies: exhaustive enumeration, random sampling, greedy forward selection and a
linear surrogate fitted on random subsets."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    Combination,
    Observation,
    Proposal,
    SizeBounds,
    Strategy,
    inclusion_matrix,
    predictions_by_combination,
    to_combination,
    to_mask,
)


class ExhaustiveStrategy(Strategy):
    """Every feasible combination, smallest first (target alone, then each single auxiliary,
    ...)."""

    name = "exhaustive"
    # Every combination is the point of it: beyond 2**16 it would never finish.
    enumerates = True

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        chosen: list[Proposal] = []
        for mask in self.feasible_in_order():
            if len(chosen) >= n:
                break
            if mask not in seen:
                chosen.append(Proposal(to_combination(mask)))
        return chosen


class ListedStrategy(Strategy):
    """The given combinations, in the given order: a fixed design (a landscape's noise checks,
    or a user's own list). ``combinations`` holds lists of candidate positions."""

    name = "listed"

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        combinations: Sequence[Sequence[int]] = (),
        *,
        size_bounds: SizeBounds | None = None,
    ):
        super().__init__(n_candidates, seed, size_bounds)
        self.masks: list[int] = []
        for combination in combinations:
            positions = [int(i) for i in combination]
            if any(not 0 <= i < self.n_candidates for i in positions):
                raise ConfigError(
                    f"strategy 'listed': combination {positions} has positions outside "
                    f"0..{self.n_candidates - 1}"
                )
            if not self.is_feasible(to_mask(positions)):
                raise ConfigError(
                    f"strategy 'listed': combination {positions} has {len(set(positions))} "
                    f"auxiliaries, outside the size bounds {self.size_bounds}"
                )
            if to_mask(positions) not in self.masks:
                self.masks.append(to_mask(positions))

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        return [Proposal(to_combination(m)) for m in self.masks if m not in seen][:n]


class RandomStrategy(Strategy):
    """Uniformly random unevaluated feasible combinations (drawn, never listed, for large N)."""

    name = "random"

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        return [Proposal(to_combination(m)) for m in self.random_unevaluated(set(seen), n)]


class GreedyStrategy(Strategy):
    """Forward selection: from the target alone, add the auxiliary that helps most; stop when
    no single addition improves on the current combination (or the largest feasible size is
    reached).

    With a lower size bound (``low`` > 0) the target alone is infeasible and the path starts
    from the best of a first layer of combinations of ``low`` auxiliaries: all of them where
    there are at most 2N, otherwise the auxiliaries shuffled and split into groups of ``low``
    (the last topped up), so that every auxiliary is seen once; ``low`` = 1 is every single.

    The path is recomputed from the history on every call, so it resumes from evaluations made
    elsewhere and skips the ones it can reuse.
    """

    name = "greedy"

    _start: list[int] | None = None  # drawn once, on first use

    def _first_layer(self) -> list[int]:
        if self._start is None:
            n, low = self.n_candidates, self.min_size
            if low == 0:
                self._start = [0]
            elif math.comb(n, low) <= 2 * n:
                self._start = [to_mask(c) for c in itertools.combinations(range(n), low)]
            else:
                order = [int(i) for i in self.rng.permutation(n)]
                groups = [order[k : k + low] for k in range(0, n, low)]
                if len(groups[-1]) < low:
                    rest = [i for i in order if i not in groups[-1]]
                    groups[-1] += rest[: low - len(groups[-1])]
                self._start = [to_mask(g) for g in groups]
        return self._start

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        start = self._first_layer()
        missing = [m for m in start if m not in seen]
        if missing:
            return [Proposal(to_combination(m)) for m in missing[:n]]
        current = max(start, key=lambda m: (seen[m], -m))
        while True:
            if current.bit_count() >= self.max_size:
                return []
            neighbours = [
                current | (1 << i) for i in range(self.n_candidates) if not current >> i & 1
            ]
            pending = [m for m in neighbours if m not in seen]
            if pending:
                return [Proposal(to_combination(m)) for m in pending[:n]]
            if not neighbours:
                return []
            best = max(neighbours, key=lambda m: (seen[m], -m))
            if seen[best] <= seen[current]:
                return []
            current = best


class LinearStrategy(Strategy):
    """Linear surrogate of the target score in the inclusion indicators, fitted on random subsets
    of a fixed size and then exploited (after Li, Nguyen and Zhang, TMLR 2023).

    Batch members after the first come from fits on bootstrap resamples of the history, so that a
    batch spreads over the combinations the data cannot yet tell apart.
    """

    name = "linear"
    enumerates = True

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        n_random: int | None = None,
        subset_size: int | None = None,
        ridge: float = 1e-3,
        *,
        size_bounds: SizeBounds | None = None,
    ):
        super().__init__(n_candidates, seed, size_bounds)
        self.n_random = n_candidates + 1 if n_random is None else int(n_random)
        if subset_size is None:
            self.subset_size = min(max(n_candidates // 2, self.min_size), self.max_size)
        else:
            self.subset_size = int(subset_size)
        if not 0 <= self.subset_size <= n_candidates:
            raise ConfigError(f"subset_size must be within 0..{n_candidates}, got {subset_size}")
        if not self.is_feasible((1 << self.subset_size) - 1):
            raise ConfigError(
                f"strategy 'linear': subset_size {self.subset_size} is outside the size bounds "
                f"{self.size_bounds}"
            )
        self.ridge = float(ridge)

    def _fit(self, masks: np.ndarray, scores: np.ndarray) -> np.ndarray:
        x = inclusion_matrix(self.n_candidates)[masks]
        design = np.hstack([np.ones((len(x), 1)), x])
        penalty = self.ridge * np.eye(design.shape[1])
        penalty[0, 0] = 0.0
        return np.linalg.solve(design.T @ design + penalty, design.T @ scores)

    def _predict(self, coef: np.ndarray) -> np.ndarray:
        return coef[0] + inclusion_matrix(self.n_candidates) @ coef[1:]

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        chosen: list[Proposal] = []
        excluded = set(seen)
        # Evaluations of the design size count towards the random phase whoever made them.
        n_sampled = sum(1 for m in seen if m.bit_count() == self.subset_size)
        while len(chosen) < n and n_sampled + len(chosen) < self.n_random:
            free = [
                to_mask(c)
                for c in itertools.combinations(range(self.n_candidates), self.subset_size)
                if to_mask(c) not in excluded
            ]
            if not free:
                break
            mask = int(self.rng.choice(free))
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask)))
        if chosen:
            return chosen
        if not seen:
            return [Proposal(to_combination(m)) for m in self.random_unevaluated(excluded, n)]
        masks = np.fromiter(seen, dtype=np.int64)
        scores = np.fromiter(seen.values(), dtype=float)
        fitted = self._predict(self._fit(masks, scores))
        infeasible = ~self.feasible_array()
        for k in range(n):
            if k == 0:
                prediction = fitted.copy()
            else:
                rows = self.rng.integers(0, len(masks), size=len(masks))
                prediction = self._predict(self._fit(masks[rows], scores[rows]))
            prediction[list(excluded)] = -np.inf
            prediction[infeasible] = -np.inf
            mask = int(np.argmax(prediction))
            if not np.isfinite(prediction[mask]):
                break
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask), float(fitted[mask])))
        return chosen

    def predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        seen = self.observed(history)
        if not seen:
            return None
        coef = self._fit(np.fromiter(seen, dtype=np.int64), np.fromiter(seen.values(), dtype=float))
        return predictions_by_combination(self._predict(coef), self.feasible_array())
