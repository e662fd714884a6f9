"""Size bounds: every strategy proposes only combinations with a feasible number of auxiliaries,
counts "every feasible combination evaluated" as done, and its model ranges over feasible ones."""

from __future__ import annotations

import itertools

import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.landscape.functional import FunctionalLandscape
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import ListedStrategy, Observation, SizeBounds, make_strategy

N = 6
FAST = {"paper": {"epochs": 40, "stop_on_no_improvement": False}}
BOUNDS = [SizeBounds(1), SizeBounds(2, 3), SizeBounds(0, 2), SizeBounds(3, 3), SizeBounds(4)]
# The strategies of this package's own modules (a strategy registered elsewhere may need inputs
# these tests do not give).
NAMES = ["exhaustive", "greedy", "linear", "paper", "random", "surrogate", "tpe"]


def search(strategy, landscape, budget):
    return run_search(
        landscape.target, landscape.candidates, strategy, landscape, InMemoryLedger(),
        budget=budget, patience=None, progress=None, stopping="patience",
    )


def feasible(bounds: SizeBounds, n: int = N) -> list[frozenset[int]]:
    return [frozenset(c) for k in range(n + 1) if bounds.contains(k) for c in itertools.combinations(range(n), k)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bounds", BOUNDS, ids=str)
def test_every_strategy_keeps_to_the_bounds_in_a_full_search(name, bounds):
    landscape = FunctionalLandscape(N, seed=3, kind="groups")
    strategy = make_strategy(name, N, seed=1, size_bounds=bounds, **FAST.get(name, {}))
    result = search(strategy, landscape, budget=80)
    sizes = [len(e.datasets) - 1 for e in result.history]
    assert sizes and all(bounds.contains(k) for k in sizes), sizes
    assert len({e.datasets for e in result.history}) == len(result.history)
    if name in ("exhaustive", "random", "surrogate", "tpe"):
        # These never stop on their own: every feasible combination, then nothing more.
        assert len(result.history) == len(feasible(bounds))
        assert result.stop_reason == "strategy has nothing more to propose"
    predictions = strategy.predict_all([Observation(frozenset(c), 0.5) for c in feasible(bounds)[:6]])
    if predictions is not None:
        assert set(predictions) == set(feasible(bounds))


@pytest.mark.parametrize("bounds", BOUNDS, ids=str)
@pytest.mark.parametrize("kind", ["additive", "groups"])
def test_exhaustive_finds_the_best_feasible_combination(bounds, kind):
    landscape = FunctionalLandscape(N, seed=5, kind=kind)
    result = search(make_strategy("exhaustive", N, size_bounds=bounds), landscape, budget=100)
    best = max(feasible(bounds), key=landscape.true_score)
    assert result.best[1] == pytest.approx(landscape.true_score(best))
    # the bounds bind: the unconstrained optimum is infeasible for some of them
    if not bounds.contains(len(landscape.optimum_combination)):
        assert result.best[1] < landscape.optimum[1]


def test_surrogate_with_bounds_finds_the_best_feasible_and_reports_feasible_only():
    landscape = FunctionalLandscape(N, seed=5, kind="additive")
    bounds = SizeBounds(2, 3)
    strategy = make_strategy("surrogate", N, seed=0, size_bounds=bounds)
    history: list[Observation] = []
    while proposals := strategy.propose(history, 2):
        assert all(bounds.contains(len(p.combination)) for p in proposals)
        history += [Observation(p.combination, landscape.score(p.combination)) for p in proposals]
        chance = strategy.improvement_probability(history, 0.002)
        assert chance is None or 0.0 <= chance <= 1.0
    assert {o.combination for o in history} == set(feasible(bounds))
    assert strategy.improvement_probability(history, 0.002) == 0.0
    assert set(strategy.predict_all(history)) == set(feasible(bounds))


def test_a_foreign_infeasible_evaluation_informs_but_does_not_count():
    bounds = SizeBounds(1, 1)
    history = [Observation(frozenset(), 0.5), Observation(frozenset({0, 1}), 0.6)]
    history += [Observation(frozenset({i}), 0.4) for i in range(N - 1)]
    for name in ("surrogate", "random", "exhaustive", "greedy", "tpe"):
        proposals = make_strategy(name, N, size_bounds=bounds).propose(history, 3)
        assert [p.combination for p in proposals] == [frozenset({N - 1})], name


def test_greedy_starts_from_feasible_sets_and_stops_at_the_upper_bound():
    strategy = make_strategy("greedy", N, size_bounds=SizeBounds(2, 3))
    first = strategy.propose([], 100)
    # C(6, 2) = 15 > 2N: a partition into pairs, every auxiliary once
    assert all(len(p.combination) == 2 for p in first)
    assert sorted(i for p in first for i in p.combination) == list(range(N))
    landscape = FunctionalLandscape(N, seed=2, kind="additive")
    result = search(strategy, landscape, budget=200)
    assert max(len(e.datasets) - 1 for e in result.history) <= 3
    singles = make_strategy("greedy", N, size_bounds=SizeBounds(1)).propose([], 100)
    assert {p.combination for p in singles} == {frozenset({i}) for i in range(N)}


def test_surrogate_design_keeps_to_the_bounds():
    strategy = make_strategy("surrogate", 11, seed=3, size_bounds=SizeBounds(3, 5))
    design = [p.combination for p in strategy.propose([], 30)]
    assert frozenset() not in design
    assert all(3 <= len(c) <= 5 for c in design)
    assert set().union(*design) == set(range(11))  # every auxiliary seen
    assert any(len(c) == 5 for c in design)  # the largest feasible mixture stands for the pool


def test_listed_rejects_an_infeasible_combination():
    with pytest.raises(ConfigError, match=r"\[0, 1, 2\].*size bounds"):
        ListedStrategy(4, combinations=[[0], [0, 1, 2]], size_bounds=SizeBounds(1, 2))
    listed = ListedStrategy(4, combinations=[[0], [1, 2]], size_bounds=SizeBounds(1, 2))
    assert [p.combination for p in listed.propose([], 5)] == [frozenset({0}), frozenset({1, 2})]


def test_size_bounds_validation():
    assert SizeBounds().contains(0) and SizeBounds().contains(100)
    assert SizeBounds(2, 4).contains(4) and not SizeBounds(2, 4).contains(1)
    assert SizeBounds(2, 4).count(5) == 10 + 10 + 5
    with pytest.raises(ConfigError, match="low \\(3\\) must not exceed high \\(2\\)"):
        SizeBounds(3, 2)
    with pytest.raises(ConfigError, match="low must be a non-negative integer"):
        SizeBounds(-1)
    with pytest.raises(ConfigError, match="exceeds the number of candidates"):
        make_strategy("random", 4, size_bounds=SizeBounds(5))
    with pytest.raises(ConfigError, match="singles"):
        make_strategy("surrogate", 4, design="singles", size_bounds=SizeBounds(2))
    with pytest.raises(ConfigError, match="subset_size"):
        make_strategy("linear", 6, subset_size=1, size_bounds=SizeBounds(2))
