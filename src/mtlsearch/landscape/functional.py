"""Synthetic score landscapes given as functions, for any number of candidates, each with an
optimum known exactly.

The table generators (:mod:`mtlsearch.landscape.synthetic`) write every one of the 2**N
combinations out, which stops at about 16 candidates. A :class:`FunctionalLandscape` computes the
target's score of a combination when asked, so it serves pools of 24, 40 or 64 candidates, and it
still knows its optimum, because the structure is planted so that the maximum can be computed
exactly without listing the 2**N combinations:

* ``kind="additive"``: helpful, neutral and harmful main effects; sparse pairwise interactions
  (synergies, conflicts, and redundancy between two helpful auxiliaries) confined to an
  *interaction set* K of at most ``MAX_INTERACTING`` (12) auxiliaries; a dilution penalty that
  depends only on the mixture's size (the target's share falls as 1/(1+k), plus a quadratic
  term). Exact optimum: outside K an auxiliary only adds its main effect, so for a fixed part
  T of K and a fixed number m of auxiliaries from outside K the best choice is the m with the
  largest main effects (the dilution depends on |T| + m only). The maximum over all T (at most
  2**12) and all m is therefore the maximum over all combinations.
* ``kind="groups"``: the auxiliaries that help come in disjoint groups (skills), each worth a
  gain once covered: a *saturating* group covers its skill as a noisy-OR of its members
  (diminishing returns, redundancy of every order), a *threshold* group pays only when at least
  ``t`` of its members are in (each alone costs, together they pay); every auxiliary costs domain
  mismatch, the ungrouped ones help or hurt a little on their own; and the same size-only
  dilution. Exact optimum: the score is a sum over the groups and the ungrouped auxiliaries plus
  a function of the total size, so for each group and each number j of its members the best j
  members are found by listing the group's subsets (groups hold at most 6), the ungrouped by
  their effects, and a dynamic programme over the groups combines them for every total size.

Both are checked against brute force over all combinations for small N in the tests.

Scores are fractions (an F1 of 0.71 is 0.71). Ids: the target is ``target``, the candidates
``a00``, ``a01``, ... A landscape is a callable for a ``python`` evaluator: given the sorted
tuple of member ids (the target included) it returns ``{"target": score}``; ``noise_sd`` > 0
adds Gaussian noise fixed per combination (seeded by the landscape's seed and the combination,
as a fine-tune with a fixed seed would be), so that asking twice gives the same answer.

``pool24``, ``pool40`` and ``pool64`` are ready-made landscapes with fixed seeds
(``mtlsearch.landscapes:pool40`` in a configuration); :func:`functional_landscape` makes others.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property

import numpy as np

from mtlsearch.errors import ConfigError

KINDS = ("additive", "groups")
TARGET = "target"
MAX_INTERACTING = 12
MAX_GROUP = 6


def candidate_ids(n: int) -> tuple[str, ...]:
    width = max(2, len(str(max(n - 1, 0))))
    return tuple(f"a{i:0{width}d}" for i in range(n))


class FunctionalLandscape:
    """A planted landscape over ``n`` candidates (see the module); ``seed`` draws its effects."""

    def __init__(self, n: int, seed: int = 0, kind: str = "additive", noise_sd: float = 0.0):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"landscape size n must be a positive integer, got {n!r}")
        if kind not in KINDS:
            raise ConfigError(f"landscape kind must be one of {KINDS}, got {kind!r}")
        if not noise_sd >= 0:
            raise ConfigError(f"landscape noise_sd must be >= 0, got {noise_sd!r}")
        self.n = int(n)
        self.seed = int(seed)
        self.kind = kind
        self.noise_sd = float(noise_sd)
        self.target = TARGET
        self.candidates = candidate_ids(self.n)
        self.ids = (self.target, *self.candidates)
        self._index = {name: i for i, name in enumerate(self.candidates)}
        rng = np.random.default_rng([self.seed, self.n, KINDS.index(kind), 0xF0C])
        self.base = float(rng.uniform(0.55, 0.7))
        # Dilution by size only: the target's share of an equal-sized mixture falls as 1/(1+k),
        # and a quadratic term for the large mixtures that crowd it out.
        self.share_cost = float(rng.uniform(0.004, 0.012))
        self.crowd_cost = float(rng.uniform(0.01, 0.03))
        if kind == "additive":
            self._draw_additive(rng)
        else:
            self._draw_groups(rng)

    def __repr__(self) -> str:
        return f"FunctionalLandscape(n={self.n}, seed={self.seed}, kind={self.kind!r})"

    @property
    def name(self) -> str:
        return f"{self.kind}-n{self.n}-s{self.seed}"

    # Drawing the structure.

    def _draw_additive(self, rng: np.random.Generator) -> None:
        n = self.n
        order = rng.permutation(n)
        n_help = int(np.clip(np.round(0.15 * n), 1, 8))
        n_harm = round(0.3 * n)
        helpful, harmful = order[:n_help], order[n_help : n_help + n_harm]
        neutral = order[n_help + n_harm :]
        main = np.zeros(n)
        main[helpful] = rng.uniform(0.006, 0.03, len(helpful))
        main[harmful] = -rng.uniform(0.004, 0.02, len(harmful))
        main[neutral] = rng.normal(0.0, 0.0015, len(neutral))
        # The interaction set: the helpful ones and a few others, at most MAX_INTERACTING.
        others = [int(i) for i in order[n_help:]]
        extra = rng.permutation(others)[: max(0, min(MAX_INTERACTING, n) - n_help)]
        interacting = sorted([*(int(i) for i in helpful), *(int(i) for i in extra)])
        pairs = np.zeros((n, n))
        possible = list(itertools.combinations(interacting, 2))
        for k in rng.permutation(len(possible))[: len(interacting)]:
            i, j = possible[int(k)]
            if main[i] > 0 and main[j] > 0:
                value = -0.5 * min(main[i], main[j]) * rng.uniform(0.5, 1.0)  # redundancy
            elif rng.random() < 0.55:
                value = rng.uniform(0.005, 0.015)  # synergy
            else:
                value = -rng.uniform(0.004, 0.012)  # conflict
            pairs[i, j] = value
        self.main = main
        self.pairs = pairs
        self.interacting = tuple(interacting)

    def _draw_groups(self, rng: np.random.Generator) -> None:
        n = self.n
        order = [int(i) for i in rng.permutation(n)]
        n_groups = int(np.clip(n // 6, 1, 8))
        groups, start = [], 0
        for g in range(n_groups):
            size = int(rng.integers(3, MAX_GROUP + 1))
            if start + size > n - max(1, n // 3):
                break
            groups.append(tuple(sorted(order[start : start + size])))
            start += size
        self.ungrouped = tuple(sorted(order[start:]))
        self.groups = tuple(groups)
        self.group_gain = rng.uniform(0.01, 0.035, len(groups))
        # Alternating kinds, so that both occur whatever the number of groups.
        self.group_threshold = [
            0 if g % 2 == 0 else int(rng.integers(2, len(group))) for g, group in enumerate(groups)
        ]
        self.cover = np.zeros(n)
        self.cost = np.zeros(n)
        for group in groups:
            self.cover[list(group)] = rng.uniform(0.2, 0.7, len(group))
            self.cost[list(group)] = rng.uniform(0.001, 0.005, len(group))
        if self.ungrouped:
            # The ungrouped auxiliaries' own effect (a cost is a negative effect).
            self.cost[list(self.ungrouped)] = rng.normal(0.004, 0.004, len(self.ungrouped))

    # Scores.

    def dilution(self, size: np.ndarray | int) -> np.ndarray:
        size = np.asarray(size, dtype=float)
        return self.share_cost * (1.0 - 1.0 / (1.0 + size)) + self.crowd_cost * (size / self.n) ** 2

    def true_scores(self, rows: np.ndarray) -> np.ndarray:
        """Noiseless scores of the combinations with inclusion vectors ``rows``."""
        x = np.atleast_2d(np.asarray(rows, dtype=float))
        size = x.sum(1)
        if self.kind == "additive":
            value = x @ self.main + np.einsum("ki,ij,kj->k", x, self.pairs, x)
        else:
            value = -(x @ self.cost)
            for group, gain, threshold in zip(self.groups, self.group_gain, self.group_threshold):
                members = x[:, list(group)]
                value += gain * self._group_value(members, self.cover[list(group)], threshold)
        return self.base + value - self.dilution(size)

    @staticmethod
    def _group_value(members: np.ndarray, cover: np.ndarray, threshold: int) -> np.ndarray:
        if threshold:
            return (members.sum(1) >= threshold).astype(float)
        return 1.0 - np.prod(1.0 - members * cover, axis=1)

    def row(self, combination: Iterable[int]) -> np.ndarray:
        x = np.zeros(self.n)
        x[list(combination)] = 1.0
        return x

    def true_score(self, combination: Iterable[int]) -> float:
        """The noiseless score of the combination of candidate indices ``combination``."""
        return float(self.true_scores(self.row(combination)[None, :])[0])

    def combination_of(self, members: Sequence[str]) -> frozenset[int]:
        """Candidate indices of member ids (the target, required, left out)."""
        members = tuple(members)
        if self.target not in members:
            raise ValueError(f"members {members} do not include the target {self.target!r}")
        unknown = [m for m in members if m != self.target and m not in self._index]
        if unknown:
            raise ValueError(f"members {unknown} are not candidates of {self!r}")
        return frozenset(self._index[m] for m in members if m != self.target)

    def _noise(self, combination: frozenset[int]) -> float:
        if not self.noise_sd:
            return 0.0
        key = hashlib.blake2b(f"{self.seed}:{sorted(combination)}".encode(), digest_size=8)
        return float(np.random.default_rng(int.from_bytes(key.digest(), "big")).normal(0, self.noise_sd))

    def score(self, combination: Iterable[int]) -> float:
        """The observed score (noiseless plus the combination's fixed noise)."""
        combination = frozenset(int(i) for i in combination)
        return self.true_score(combination) + self._noise(combination)

    def __call__(self, members: Sequence[str]) -> Mapping[str, float]:
        return {self.target: self.score(self.combination_of(members))}

    # The exact optimum.

    @cached_property
    def optimum_combination(self) -> frozenset[int]:
        return self._additive_optimum() if self.kind == "additive" else self._groups_optimum()

    @property
    def optimum(self) -> tuple[tuple[str, ...], float]:
        """The best combination's member ids (sorted, target included) and noiseless score."""
        combination = self.optimum_combination
        datasets = tuple(sorted([self.target, *(self.candidates[i] for i in combination)]))
        return datasets, self.true_score(combination)

    def _additive_optimum(self) -> frozenset[int]:
        inside = list(self.interacting)
        outside = sorted(set(range(self.n)) - set(inside), key=lambda i: -self.main[i])
        prefix = np.concatenate([[0.0], np.cumsum(self.main[outside])])
        best, best_value = frozenset(), -np.inf
        subsets = np.array(list(itertools.product([0.0, 1.0], repeat=len(inside)))).reshape(-1, len(inside))
        x = np.zeros((len(subsets), self.n))
        x[:, inside] = subsets
        part = x @ self.main + np.einsum("ki,ij,kj->k", x, self.pairs, x)
        sizes = subsets.sum(1)
        # value[t, m] for part t of K and the m best auxiliaries outside K
        value = part[:, None] + prefix[None, :] - self.dilution(sizes[:, None] + np.arange(len(prefix))[None, :])
        t, m = np.unravel_index(int(np.argmax(value)), value.shape)
        best_value = value[t, m]
        best = frozenset([*(inside[k] for k in np.flatnonzero(subsets[t])), *outside[:m]])
        assert np.isclose(self.base + best_value, self.true_score(best))
        return best

    def _groups_optimum(self) -> frozenset[int]:
        # Per block (each group, then the ungrouped auxiliaries): the best value and members for
        # every number of members taken from it.
        blocks: list[list[tuple[float, tuple[int, ...]]]] = []
        for group, gain, threshold in zip(self.groups, self.group_gain, self.group_threshold):
            options = []
            for j in range(len(group) + 1):
                subsets = list(itertools.combinations(group, j))
                x = np.zeros((len(subsets), len(group)))
                for k, subset in enumerate(subsets):
                    x[k, [group.index(i) for i in subset]] = 1.0
                cover = self.cover[list(group)]
                values = gain * self._group_value(x, cover, threshold) - x @ self.cost[list(group)]
                k = int(np.argmax(values))
                options.append((float(values[k]), subsets[k]))
            blocks.append(options)
        loose = sorted(self.ungrouped, key=lambda i: self.cost[i])
        blocks.append([(-float(self.cost[loose[:j]].sum()), tuple(loose[:j])) for j in range(len(loose) + 1)])
        # best[k]: the best total over the blocks so far with k members in all
        best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
        for options in blocks:
            merged: dict[int, tuple[float, tuple[int, ...]]] = {}
            for k, (value, members) in best.items():
                for j, (extra, chosen) in enumerate(options):
                    candidate = (value + extra, members + chosen)
                    if k + j not in merged or candidate[0] > merged[k + j][0]:
                        merged[k + j] = candidate
            best = merged
        size = max(best, key=lambda k: best[k][0] - float(self.dilution(k)))
        combination = frozenset(best[size][1])
        assert np.isclose(self.base + best[size][0] - float(self.dilution(size)), self.true_score(combination))
        return combination

    def brute_force_optimum(self) -> tuple[frozenset[int], float]:
        """The best combination by scoring all 2**N of them (small N only: the tests' check)."""
        if self.n > 20:
            raise ValueError(f"brute force over 2**{self.n} combinations is not practical")
        masks = np.arange(2**self.n)
        rows = ((masks[:, None] >> np.arange(self.n)) & 1).astype(float)
        scores = self.true_scores(rows)
        k = int(np.argmax(scores))
        return frozenset(np.flatnonzero(rows[k]).tolist()), float(scores[k])


def functional_landscape(
    n: int, seed: int = 0, kind: str = "additive", noise_sd: float = 0.0
) -> FunctionalLandscape:
    """A planted landscape over ``n`` candidates (see :class:`FunctionalLandscape`)."""
    return FunctionalLandscape(n, seed, kind, noise_sd)


pool24 = FunctionalLandscape(24, seed=24, kind="additive")
pool40 = FunctionalLandscape(40, seed=40, kind="groups")
pool64 = FunctionalLandscape(64, seed=64, kind="additive")
