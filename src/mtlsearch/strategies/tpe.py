"""Optuna's TPE sampler over one binary inclusion parameter per auxiliary."""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from mtlsearch.strategies.base import (
    Observation,
    Proposal,
    SizeBounds,
    Strategy,
    to_combination,
    to_mask,
)
from mtlsearch.study import SearchStudy, quiet_optuna


class TPEStrategy(Strategy):
    """Tree-structured Parzen estimator (Optuna's ``TPESampler``) through ask/tell.

    One study for the whole search (the search's own study in its storage once attached, see
    :mod:`mtlsearch.study`): each call first adds the evaluations the study has not seen
    (``add_trial``), so evaluations made elsewhere count the same as its own; a proposal is an
    asked trial, told when its evaluation is recorded. A batch is asked while earlier members are
    still running, which the sampler's constant-liar mode spreads apart. An asked combination
    that is already evaluated or already in the batch is told failed (marked ``duplicate``) and
    asked again; after ``max_retries`` such answers in a row it takes the unevaluated combination
    nearest (fewest flipped inclusions) to the sampler's last answer.

    With size bounds, an asked combination of infeasible size is told failed the same way and
    repaired: auxiliaries added or dropped at random until its size is feasible (then the
    nearest unevaluated one, if that is known), so that it never proposes an infeasible one and
    the sampler still learns from what is evaluated.

    Any number of candidates: nothing is enumerated (the nearest unevaluated combination is
    looked for among single flips and swaps, then drawn at random).
    """

    name = "tpe"

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        n_startup_trials: int = 10,
        multivariate: bool | None = None,
        max_retries: int = 20,
        *,
        size_bounds: SizeBounds | None = None,
    ):
        super().__init__(n_candidates, seed, size_bounds)
        self.max_retries = int(max_retries)
        with quiet_optuna():
            # One sampler for the whole search: its random state advances from call to call.
            self.sampler = optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=n_startup_trials,
                multivariate=multivariate,
                constant_liar=True,
            )
        # Until the search attaches its own study: candidates named by index
        self.study = SearchStudy.in_memory([f"x{i:02d}" for i in range(n_candidates)], self.sampler)

    def _repair(self, mask: int) -> int:
        """``mask`` with random auxiliaries added or dropped until its size is feasible."""
        members = [i for i in range(self.n_candidates) if mask >> i & 1]
        size = len(members)
        if size < self.min_size:
            others = [i for i in range(self.n_candidates) if not mask >> i & 1]
            for i in self.rng.choice(others, size=self.min_size - size, replace=False):
                mask |= 1 << int(i)
        elif size > self.max_size:
            for i in self.rng.choice(members, size=size - self.max_size, replace=False):
                mask &= ~(1 << int(i))
        return mask

    def _nearest_unevaluated(self, mask: int, excluded: set[int]) -> int:
        """A feasible unevaluated combination one flip or one swap away from ``mask``, else one
        drawn at random (the caller checks that one is left)."""
        n = self.n_candidates
        flips = [mask ^ (1 << i) for i in range(n)]
        free = [m for m in flips if m not in excluded and self.is_feasible(m)]
        if not free:
            inside = [i for i in range(n) if mask >> i & 1]
            outside = [i for i in range(n) if not mask >> i & 1]
            swaps = [mask ^ (1 << i) ^ (1 << j) for i in inside for j in outside]
            free = [m for m in swaps if m not in excluded and self.is_feasible(m)]
        if free:
            return int(free[int(self.rng.integers(len(free)))])
        return self.random_unevaluated(excluded, 1)[0]

    def attach_study(self, study: SearchStudy) -> None:
        """Ask from ``study`` (the search's study in its storage) instead of a study of its own."""
        study.study.sampler = self.sampler
        self.study = study

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        return self.propose_pending(history, n, ())

    def propose_pending(self, history: Sequence[Observation], n: int, pending) -> list[Proposal]:
        seen = self.observed(history)
        for mask, score in seen.items():  # evaluations the study has not seen yet (reused ones)
            self.study.record(to_combination(mask), score)
        excluded = set(seen) | {to_mask(c) for c in pending} | {to_mask(c) for c in self.study.known()}
        chosen: list[Proposal] = []
        retries = 0
        while len(chosen) < n and not self.exhausted(excluded):
            trial, combination = self.study.ask()
            mask = to_mask(combination)
            if not self.is_feasible(mask):
                self.study.reject(trial)
                mask = self._repair(mask)
                if mask in excluded:
                    mask = self._nearest_unevaluated(mask, excluded)
            elif mask in excluded:
                self.study.reject(trial)
                retries += 1
                if retries < self.max_retries:
                    continue
                # The sampler has settled on known combinations: take the nearest new one.
                mask = self._nearest_unevaluated(mask, excluded)
            else:
                self.study.keep(trial, combination)
            retries = 0
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask)))
        return chosen
