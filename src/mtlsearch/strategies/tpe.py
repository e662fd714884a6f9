"""Optuna's TPE sampler over one binary inclusion parameter per auxiliary."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import optuna

from mtlsearch.strategies.base import Observation, Proposal, Strategy, to_combination, to_mask
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
    """

    name = "tpe"

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        n_startup_trials: int = 10,
        multivariate: bool | None = None,
        max_retries: int = 20,
    ):
        super().__init__(n_candidates, seed)
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

    def _nearest_unevaluated(self, mask: int, excluded: set[int]) -> int:
        for distance in range(1, self.n_candidates + 1):
            flips = [to_mask(c) for c in itertools.combinations(range(self.n_candidates), distance)]
            free = [mask ^ f for f in flips if mask ^ f not in excluded]
            if free:
                return int(self.rng.choice(free))
        raise RuntimeError("no unevaluated combination left")  # the caller checks before asking

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
        while len(chosen) < n and len(excluded) < self.n_combinations:
            trial, combination = self.study.ask()
            mask = to_mask(combination)
            if mask in excluded:
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
