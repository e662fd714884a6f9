"""Optuna's TPE sampler over one binary inclusion parameter per auxiliary."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from contextlib import contextmanager

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from mtlsearch.strategies.base import Observation, Proposal, Strategy, to_combination, to_mask


@contextmanager
def _quiet_optuna():
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)


class TPEStrategy(Strategy):
    """Tree-structured Parzen estimator (Optuna's ``TPESampler``) through ask/tell.

    The history is replayed into a fresh in-memory study on every call (``add_trial``), so
    evaluations made elsewhere count the same as its own. A batch is asked while earlier members
    are still running, which the sampler's constant-liar mode spreads apart. An asked combination
    that is already evaluated or already in the batch is marked failed and asked again; after
    ``max_retries`` such answers in a row it takes the unevaluated combination nearest (fewest
    flipped inclusions) to the sampler's last answer.
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
        self._distributions = {
            self._param(i): CategoricalDistribution([0, 1]) for i in range(n_candidates)
        }
        with _quiet_optuna():
            # One sampler for the whole search: its random state advances from call to call.
            self.sampler = optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=n_startup_trials,
                multivariate=multivariate,
                constant_liar=True,
            )

    @staticmethod
    def _param(index: int) -> str:
        return f"x{index:02d}"

    def _nearest_unevaluated(self, mask: int, excluded: set[int]) -> int:
        for distance in range(1, self.n_candidates + 1):
            flips = [to_mask(c) for c in itertools.combinations(range(self.n_candidates), distance)]
            free = [mask ^ f for f in flips if mask ^ f not in excluded]
            if free:
                return int(self.rng.choice(free))
        raise RuntimeError("no unevaluated combination left")  # the caller checks before asking

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        excluded = set(seen)
        chosen: list[Proposal] = []
        if len(excluded) >= self.n_combinations:
            return chosen
        with _quiet_optuna():
            study = optuna.create_study(direction="maximize", sampler=self.sampler)
            for mask, score in seen.items():
                study.add_trial(
                    optuna.trial.create_trial(
                        params={
                            self._param(i): int(mask >> i & 1) for i in range(self.n_candidates)
                        },
                        distributions=self._distributions,
                        value=score,
                    )
                )
            retries = 0
            while len(chosen) < n and len(excluded) < self.n_combinations:
                trial = study.ask(self._distributions)
                mask = to_mask(i for i in range(self.n_candidates) if trial.params[self._param(i)])
                if mask in excluded:
                    study.tell(trial, state=TrialState.FAIL)
                    retries += 1
                    if retries < self.max_retries:
                        continue
                    # The sampler has settled on known combinations: take the nearest new one.
                    mask = self._nearest_unevaluated(mask, excluded)
                retries = 0
                excluded.add(mask)
                chosen.append(Proposal(to_combination(mask)))
        return chosen
