"""The gradts and pvi strategies' paths, driven through the search loop on hand-made scores."""

from __future__ import annotations

import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.search.loop import run_search
from mtlsearch.strategies import SizeBounds, make_strategy

CANDIDATES = ("a", "b", "c", "d")


class Memory:
    def __init__(self):
        self.evaluations = []

    def finished(self):
        return list(self.evaluations)

    def record(self, evaluation):
        self.evaluations.append(evaluation)


def searched(strategy, scores: dict[frozenset, float], budget: int = 16) -> list[frozenset]:
    def evaluate(datasets):
        return {"t": scores[frozenset(d for d in datasets if d != "t")]}

    result = run_search("t", CANDIDATES, strategy, evaluate, Memory(), budget=budget, patience=None,
                        progress=None, stopping="patience")
    return [frozenset(d for d in e.datasets if d != "t") for e in result.history]


def score_of(helpful: dict[str, float]):
    import itertools

    return {frozenset(c): sum(helpful.get(x, -0.01) for x in c)
            for k in range(5) for c in itertools.combinations(CANDIDATES, k)}


def test_gradts_thres_evaluates_the_selection_and_the_target_alone():
    strategy = make_strategy("gradts", 4, tau=[0.5, 0.1, 0.47, 0.9])
    assert searched(strategy, score_of({})) == [frozenset("acd"), frozenset()]
    nothing = make_strategy("gradts", 4, tau=[0.1, 0.1, 0.1, 0.1])
    assert searched(nothing, score_of({})) == [frozenset()]


def test_gradts_trial_adds_by_tau_until_the_score_falls():
    strategy = make_strategy("gradts", 4, tau=[0.5, 0.1, 0.3, 0.9], variant="trial")
    # d then a help, c hurts: alone, +d, +a, +c (falls), stop
    order = searched(strategy, score_of({"d": 0.02, "a": 0.01, "c": -0.03}))
    assert order == [frozenset(), frozenset("d"), frozenset("ad"), frozenset("acd")]


def test_pvi_evaluates_the_group_then_drops_members_while_it_improves():
    strategy = make_strategy("pvi", 4, in_group=[True, True, True, False])
    # b hurts inside the group: drop each member once, keep abc - b = ac, then try a, c
    order = searched(strategy, score_of({"a": 0.02, "b": -0.03, "c": 0.01}))
    assert order[:2] == [frozenset(), frozenset("abc")]
    assert set(order[2:5]) == {frozenset("bc"), frozenset("ac"), frozenset("ab")}
    assert set(order[5:]) == {frozenset("a"), frozenset("c")}


def test_signals_are_required_and_checked():
    with pytest.raises(ConfigError, match="needs the relatedness signals"):
        make_strategy("gradts", 4)
    with pytest.raises(ConfigError, match="3 values for 4 candidates"):
        make_strategy("pvi", 4, in_group=[True, False, True])
    with pytest.raises(ConfigError, match="variant: expected one of thres, trial"):
        make_strategy("gradts", 4, tau=[0.0] * 4, variant="best")


def test_size_bounds_are_kept():
    # the target alone is ruled out: the group, then its subsets of one or two members
    strategy = make_strategy("pvi", 4, size_bounds=SizeBounds(1, 3), in_group=[True, True, True, False])
    order = searched(strategy, score_of({"a": 0.02, "b": -0.03, "c": 0.01}))
    assert order[0] == frozenset("abc") and frozenset() not in order and frozenset("ac") in order
    trial = make_strategy("gradts", 4, size_bounds=SizeBounds(0, 2), tau=[0.5, 0.1, 0.3, 0.9], variant="trial")
    assert searched(trial, score_of({"d": 0.02, "a": 0.01, "c": 0.01})) == [frozenset(), frozenset("d"),
                                                                           frozenset("ad")]
