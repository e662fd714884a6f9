"""Strategies on pools too large to list (N = 40 and 64): valid, new, feasible proposals, a model
that still answers, and a local search that finds good combinations."""

from __future__ import annotations

import numpy as np
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.landscape.functional import FunctionalLandscape
from mtlsearch.strategies import Observation, SizeBounds, make_strategy


def run(strategy, landscape, budget, batch=1, check=None):
    history: list[Observation] = []
    while len(history) < budget:
        proposals = strategy.propose(history, batch)
        if check:
            check(proposals, history)
        if not proposals:
            break
        history += [Observation(p.combination, landscape.score(p.combination)) for p in proposals]
    return history


def checker(n, bounds):
    def check(proposals, history):
        combos = [p.combination for p in proposals]
        assert len(set(combos)) == len(combos)
        assert not {o.combination for o in history} & set(combos)
        assert all(isinstance(c, frozenset) and all(0 <= i < n for i in c) for c in combos)
        assert all(bounds.contains(len(c)) for c in combos), [len(c) for c in combos]

    return check


@pytest.mark.parametrize("n", [40, 64])
@pytest.mark.parametrize("name", ["surrogate", "random", "greedy", "tpe"])
@pytest.mark.parametrize("bounds", [SizeBounds(), SizeBounds(3, 8)], ids=str)
def test_large_pool_proposals_are_valid_new_and_feasible(n, name, bounds):
    landscape = FunctionalLandscape(n, seed=1, kind="groups")
    strategy = make_strategy(name, n, seed=2, size_bounds=bounds)
    budget = 36 if name == "surrogate" else 60
    history = run(strategy, landscape, budget, batch=3, check=checker(n, bounds))
    assert len(history) >= budget
    if name == "surrogate":
        chance = strategy.improvement_probability(history, 0.002)
        assert 0.0 <= chance <= 1.0
        predictions = strategy.predict_all(history)
        assert {o.combination for o in history} <= set(predictions)
        assert len(predictions) > len(history) and all(np.isfinite(list(predictions.values())))
        assert all(bounds.contains(len(c)) for c in predictions)


def test_surrogate_at_64_candidates_handles_the_top_bits():
    # Indices 62 and 63 overflow a signed 64-bit bitmask: they must come back intact.
    strategy = make_strategy("surrogate", 64, seed=0)
    landscape = FunctionalLandscape(64, seed=2, kind="additive")
    history = [Observation(frozenset({62, 63}), 0.7), Observation(frozenset(range(64)), 0.6)]
    history += [Observation(frozenset(range(k, k + 3)), landscape.score(range(k, k + 3))) for k in range(0, 60, 3)]
    strategy._design = []  # the design is done: the model proposes
    proposals = strategy.propose(history, 4)
    assert len(proposals) == 4 and all(p.predicted is not None for p in proposals)
    assert not {p.combination for p in proposals} & {o.combination for o in history}
    predictions = strategy.predict_all(history)
    assert predictions[frozenset({62, 63})] == pytest.approx(0.7, abs=0.1)


def test_a_tight_bound_at_64_is_exhausted_exactly():
    bounds = SizeBounds(63)
    strategy = make_strategy("surrogate", 64, seed=0, size_bounds=bounds)
    history = run(strategy, FunctionalLandscape(64, seed=3), budget=100, check=checker(64, bounds))
    assert len(history) == 65  # the 64 combinations of 63 and the whole pool, then nothing
    assert strategy.improvement_probability(history, 0.0) == 0.0


def test_surrogate_beats_random_on_planted_landscapes():
    # The local search has to find what the model knows: with random proposals (a broken search)
    # the regret stays at the random strategy's.
    regrets = {"surrogate": [], "random": []}
    for seed in (1, 2):
        landscape = FunctionalLandscape(40, seed=seed, kind="additive")
        optimum = landscape.true_score(landscape.optimum_combination)
        for name, found in regrets.items():
            history = run(make_strategy(name, 40, seed=seed), landscape, budget=60)
            best = max(history, key=lambda o: o.score)
            found.append(100 * (optimum - landscape.true_score(best.combination)))
    assert np.mean(regrets["surrogate"]) < 1.5, regrets
    assert np.mean(regrets["surrogate"]) < 0.4 * np.mean(regrets["random"]), regrets


def test_strategies_that_list_every_combination_refuse_large_pools():
    for name in ("exhaustive", "linear", "paper"):
        with pytest.raises(ConfigError, match=f"strategy '{name}'.*at most 16 candidates"):
            make_strategy(name, 17)
    with pytest.raises(ConfigError, match="strategy 'surrogate' supports at most 64 candidates"):
        make_strategy("surrogate", 65)
    assert make_strategy("random", 200).propose([], 2)
