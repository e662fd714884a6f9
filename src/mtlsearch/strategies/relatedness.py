"""Strategies led by a relatedness signal (:mod:`mtlsearch.relatedness`), one value per candidate.

* ``gradts`` (Ma et al., EMNLP 2021), from each candidate's Kendall tau with the target's head
  importance: ``variant: thres`` evaluates the combination of every candidate with
  tau >= ``threshold`` (0.47), and the target alone as the baseline; ``variant: trial`` evaluates
  the target alone, then adds candidates in decreasing tau one at a time, each prefix an
  evaluation, and stops at the first prefix that scores below the one before.
* ``pvi`` (Li, Miller, Bethard and Savova, JBI 2025): evaluates the target alone and the
  target's PVI group, then refines the group by backward elimination: every combination with one
  member dropped is evaluated, the best is kept while it beats the current one.

Both recompute their path from the history on every call (as greedy does), so they resume from
evaluations made elsewhere and reuse what the ledger holds; the best evaluated combination is
the answer, as for every strategy. Combinations outside ``size_bounds`` are skipped (a PVI
group larger than the bounds allow is never evaluated, so neither is its refinement).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    Observation,
    Proposal,
    SizeBounds,
    Strategy,
    to_combination,
    to_mask,
)

GRADTS_VARIANTS = ("thres", "trial")
GRADTS_THRESHOLD = 0.47
# the strategies that need a signal table (the search pipeline computes one when none is given)
SIGNAL_STRATEGIES = ("gradts", "pvi")


def _signal(name: str, option: str, values, n: int, kind) -> list:
    if values is None:
        raise ConfigError(
            f"strategy {name!r}: needs the relatedness signals (option {option}): set search.relatedness_path "
            "to a signal table, or leave it null to have the search compute them"
        )
    values = list(values)
    if len(values) != n:
        raise ConfigError(f"strategy {name!r}: option {option} has {len(values)} values for {n} candidates")
    try:
        return [kind(v) for v in values]
    except (TypeError, ValueError):
        raise ConfigError(f"strategy {name!r}: option {option} expected {kind.__name__} values, got {values!r}") from None


class _SignalStrategy(Strategy):
    def _feasible(self, mask: int) -> bool:
        return self.size_bounds.contains(int(mask).bit_count())


class GradTSStrategy(_SignalStrategy):
    """GradTS-thres or GradTS-trial over the candidates' Kendall tau (``tau``)."""

    name = "gradts"

    def __init__(self, n_candidates: int, seed: int = 0, tau: Sequence[float] | None = None,
                 variant: str = "thres", threshold: float = GRADTS_THRESHOLD,
                 size_bounds: SizeBounds | None = None):
        super().__init__(n_candidates, seed, size_bounds=size_bounds)
        if variant not in GRADTS_VARIANTS:
            raise ConfigError(f"search.strategy_options.variant: expected one of {', '.join(GRADTS_VARIANTS)}, "
                              f"got {variant!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
            raise ConfigError(f"search.strategy_options.threshold: expected a number in [-1, 1], got {threshold!r}")
        self.tau = np.array(_signal(self.name, "tau", tau, self.n_candidates, float))
        self.variant = variant
        self.threshold = float(threshold)

    def selection(self) -> list[int]:
        """GradTS-thres's candidates."""
        from mtlsearch.relatedness.gradts import thres_selection

        return thres_selection(self.tau, self.threshold)

    def prefixes(self) -> list[int]:
        """GradTS-trial's combinations in order (as bitmasks): the target alone, then one more
        candidate at a time by decreasing tau."""
        from mtlsearch.relatedness.gradts import trial_order

        masks, mask = [0], 0
        for i in trial_order(self.tau):
            mask |= 1 << i
            masks.append(mask)
        return masks

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        if self.variant == "thres":
            wanted = [to_mask(self.selection()), 0]
            return [Proposal(to_combination(m)) for m in dict.fromkeys(wanted)
                    if m not in seen and self._feasible(m)][:n]
        previous = None
        for mask in self.prefixes():
            if not self._feasible(mask):
                continue
            if mask not in seen:
                return [Proposal(to_combination(mask))][:n]
            if previous is not None and seen[mask] < seen[previous]:
                return []
            previous = mask
        return []


class PVIStrategy(_SignalStrategy):
    """The target alone and the target's PVI group (``in_group``), then the group refined by
    dropping members one at a time while the score improves."""

    name = "pvi"

    def __init__(self, n_candidates: int, seed: int = 0, in_group: Sequence[bool] | None = None,
                 size_bounds: SizeBounds | None = None):
        super().__init__(n_candidates, seed, size_bounds=size_bounds)
        self.in_group = _signal(self.name, "in_group", in_group, self.n_candidates, bool)

    def group(self) -> int:
        return to_mask(i for i, member in enumerate(self.in_group) if member)

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        start = [m for m in dict.fromkeys([0, self.group()]) if self._feasible(m)]
        pending = [m for m in start if m not in seen]
        if pending:
            return [Proposal(to_combination(m)) for m in pending[:n]]
        current = self.group()
        if current not in seen:
            return []
        while True:
            smaller = [current & ~(1 << i) for i in range(self.n_candidates) if current >> i & 1]
            smaller = [m for m in smaller if self._feasible(m)]
            if not smaller:
                return []
            missing = [m for m in smaller if m not in seen]
            if missing:
                return [Proposal(to_combination(m)) for m in missing[:n]]
            best = max(smaller, key=lambda m: (seen[m], -m))
            if seen[best] <= seen[current]:
                return []
            current = best
