"""Mechanics of the combination-search strategies (small N, no benchmark figures)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.strategies import (
    STRATEGIES,
    Observation,
    Proposal,
    make_strategy,
    to_combination,
)
from mtlsearch.strategies.surrogate import BayesianLinearSurrogate

N = 5
# Keep the reference MLP cheap in tests; its training is the same code path.
FAST = {"paper": {"epochs": 60}, "gradts": {"tau": [0.9, 0.1, 0.5, 0.6, 0.2]}, "pvi": {"in_group": [True, False, True, True, False]}}


def landscape(combination: frozenset[int]) -> float:
    """A small additive-plus-dilution landscape: 1 and 3 help, the others hurt a little."""
    effects = {0: -0.01, 1: 0.04, 2: -0.02, 3: 0.03, 4: -0.005, 5: 0.002, 6: -0.01}
    return 0.6 + sum(effects[i] for i in combination) - 0.01 * len(combination) ** 2 / 10


def build(name: str, n: int = N, seed: int = 0):
    return make_strategy(name, n, seed=seed, **FAST.get(name, {}))


def check_batch(
    proposals: list[Proposal], history: list[Observation], n: int, n_candidates: int = N
):
    assert len(proposals) <= n
    combos = [p.combination for p in proposals]
    assert all(isinstance(c, frozenset) for c in combos)
    assert len(set(combos)) == len(combos), "a batch repeats a combination"
    seen = {o.combination for o in history}
    assert not seen & set(combos), "proposed an evaluated combination"
    assert all(0 <= i < n_candidates for c in combos for i in c)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("n", [1, 4])
def test_proposals_are_valid_distinct_and_new(name, n):
    strategy = build(name)
    history: list[Observation] = []
    for _ in range(6):
        proposals = strategy.propose(history, n=n)
        check_batch(proposals, history, n)
        if not proposals:
            break
        history += [Observation(p.combination, landscape(p.combination)) for p in proposals]
    assert history, "the strategy proposed nothing at all"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("n", [1, 4])
def test_proposals_with_foreign_history_in_any_order(name, n):
    rng = np.random.default_rng(3)
    masks = [int(m) for m in rng.choice(2**N, size=9, replace=False)]
    foreign = [Observation(to_combination(m), landscape(to_combination(m))) for m in masks]
    # A repeated evaluation of one combination, as a noisy ledger may hold.
    foreign.append(Observation(foreign[2].combination, foreign[2].score + 0.001))
    history = list(reversed(foreign))
    strategy = build(name, seed=1)
    for _ in range(3):
        proposals = strategy.propose(history, n=n)
        check_batch(proposals, history, n)
        if not proposals:
            break
        history += [Observation(p.combination, landscape(p.combination)) for p in proposals]


def test_exhaustive_covers_every_combination_smallest_first():
    strategy = make_strategy("exhaustive", 4)
    history: list[Observation] = []
    while proposals := strategy.propose(history, n=3):
        history += [Observation(p.combination, 0.0) for p in proposals]
    combos = [o.combination for o in history]
    assert len(combos) == 16 and len(set(combos)) == 16
    sizes = [len(c) for c in combos]
    assert sizes == sorted(sizes)


def test_surrogate_does_not_stop_before_everything_is_evaluated():
    strategy = make_strategy("surrogate", 3)
    history: list[Observation] = []
    for _ in range(20):
        proposals = strategy.propose(history, n=1)
        if not proposals:
            break
        history += [Observation(p.combination, landscape(p.combination)) for p in proposals]
    assert len({o.combination for o in history}) == 8
    assert strategy.propose(history, n=2) == []


def test_random_stops_only_when_exhausted():
    strategy = make_strategy("random", 3, seed=5)
    history = [Observation(to_combination(m), 0.0) for m in range(7)]
    assert [p.combination for p in strategy.propose(history, n=4)] == [to_combination(7)]


def test_paper_stops_when_its_last_proposal_did_not_improve():
    strategy = build("paper")
    history = [
        Observation(to_combination(m), landscape(to_combination(m))) for m in (0, 3, 10, 17, 31)
    ]
    first = strategy.propose(history, n=1)
    assert len(first) == 1 and first[0].predicted is not None
    best = max(o.score for o in history)
    history.append(Observation(first[0].combination, best - 0.05))
    assert strategy.propose(history, n=1) == []


def test_paper_continues_while_proposals_improve():
    strategy = build("paper")
    history = [
        Observation(to_combination(m), landscape(to_combination(m))) for m in (0, 3, 10, 17, 31)
    ]
    first = strategy.propose(history, n=1)
    history.append(Observation(first[0].combination, 1.0))
    assert len(strategy.propose(history, n=1)) == 1


def test_paper_starts_with_random_initial_design():
    strategy = make_strategy("paper", N, n_initial=5)
    proposals = strategy.propose([], n=8)
    assert len(proposals) == 5 and all(p.predicted is None for p in proposals)


def test_greedy_follows_forward_selection_and_stops():
    strategy = make_strategy("greedy", 4)
    history: list[Observation] = []
    while proposals := strategy.propose(history, n=4):
        history += [Observation(p.combination, landscape(p.combination)) for p in proposals]
    combos = [o.combination for o in history]
    # Round 0: target alone; round 1: the four singles; round 2: {1} plus each other; round 3:
    # {1, 3} plus each other; none of those beats {1, 3}.
    assert combos[0] == frozenset()
    assert set(combos[1:5]) == {frozenset({i}) for i in range(4)}
    assert set(combos[5:8]) == {frozenset({1, i}) for i in (0, 2, 3)}
    assert set(combos[8:]) == {frozenset({1, 3, i}) for i in (0, 2)}
    best = max(history, key=lambda o: o.score)
    assert best.combination == frozenset({1, 3})


def test_greedy_resumes_from_foreign_history():
    strategy = make_strategy("greedy", 3)
    history = [Observation(to_combination(m), landscape(to_combination(m))) for m in (0, 1, 2, 4)]
    proposals = strategy.propose(history, n=5)
    # The best single is {1}; its extensions come next.
    assert {p.combination for p in proposals} == {frozenset({0, 1}), frozenset({1, 2})}


def test_surrogate_batch_is_spread_by_fantasies():
    model = BayesianLinearSurrogate(N)
    masks = np.array([0, 1, 2, 4, 8, 16, 3, 12, 31])
    scores = np.array([landscape(to_combination(int(m))) for m in masks])
    model.fit(masks, scores)
    mean, var = model.predict()
    pick = int(np.argmax(np.where(np.isin(np.arange(2**N), masks), -np.inf, mean)))
    model.condition_on_mean(pick)
    mean_after, var_after = model.predict()
    np.testing.assert_allclose(mean_after, mean, atol=1e-9)
    # Nine observations cannot rule out a sizeable noise level, and a fantasy observation is as
    # noisy as a real one, so the pick keeps part of its variance.
    assert var_after[pick] < 0.9 * var[pick]
    assert np.all(var_after <= var + 1e-12)


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "thompson", "mean"])
@pytest.mark.parametrize("design", ["partition", "random", "singles"])
def test_surrogate_options_propose_valid_batches(acquisition, design):
    strategy = make_strategy("surrogate", N, seed=6, acquisition=acquisition, design=design)
    history: list[Observation] = []
    for _ in range(4):
        proposals = strategy.propose(history, n=3)
        check_batch(proposals, history, 3)
        history += [Observation(p.combination, landscape(p.combination)) for p in proposals]
    assert len(history) >= 8


def test_surrogate_initial_design_sees_every_auxiliary_once():
    strategy = make_strategy("surrogate", 11, seed=3)
    design = strategy.propose([], n=20)
    assert design[0].combination == frozenset()
    # Small groups, then the whole pool (one large mixture anchors the model there).
    groups = [p.combination for p in design[1:-1]]
    assert design[-1].combination == frozenset(range(11))
    assert sorted(i for g in groups for i in g) == list(range(11))
    assert all(2 <= len(g) <= 3 for g in groups)
    # The design is what is left of it: evaluations already made count towards it.
    history = [Observation(frozenset(), 0.5), Observation(groups[0], 0.4)]
    rest = [p.combination for p in strategy.propose(history, n=20)]
    assert rest == [*groups[1:], frozenset(range(11))]


def test_surrogate_is_reproducible_for_a_seed():
    history = [Observation(to_combination(m), landscape(to_combination(m))) for m in (0, 5, 9)]
    first = make_strategy("surrogate", N, seed=4).propose(history, n=3)
    second = make_strategy("surrogate", N, seed=4).propose(history, n=3)
    assert first == second


@pytest.mark.parametrize("name", ["surrogate", "paper", "linear"])
def test_predict_all_covers_every_combination(name):
    strategy = build(name)
    history = [
        Observation(to_combination(m), landscape(to_combination(m))) for m in (0, 1, 6, 9, 30, 17)
    ]
    predictions = strategy.predict_all(history)
    assert set(predictions) == {to_combination(m) for m in range(2**N)}
    assert all(np.isfinite(v) for v in predictions.values())


@pytest.mark.parametrize("name", ["random", "exhaustive", "greedy", "tpe"])
def test_strategies_without_a_surrogate_predict_nothing(name):
    assert build(name).predict_all([Observation(frozenset(), 0.5)]) is None


def test_surrogate_learns_an_additive_landscape():
    strategy = make_strategy("surrogate", N)
    history = [
        Observation(frozenset(c), landscape(frozenset(c)))
        for size in range(3)
        for c in itertools.combinations(range(N), size)
    ]
    predictions = strategy.predict_all(history)
    truth = {to_combination(m): landscape(to_combination(m)) for m in range(2**N)}
    assert max(predictions, key=predictions.get) == max(truth, key=truth.get)


def test_make_strategy_rejects_unknown_names_and_options():
    with pytest.raises(ConfigError, match="unknown search strategy 'bayes'"):
        make_strategy("bayes", 4)
    with pytest.raises(ConfigError, match="surrogate"):
        make_strategy("surrogate", 4, acquisiton="ei")
    with pytest.raises(ConfigError, match="random"):
        make_strategy("random", 4, n_initial=3)
    with pytest.raises(ConfigError, match="acquisition"):
        make_strategy("surrogate", 4, acquisition="pi")
    with pytest.raises(ConfigError, match="at most"):
        make_strategy("surrogate", 65)


def test_history_with_out_of_range_indices_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        make_strategy("random", 3).propose([Observation(frozenset({5}), 0.1)])


def test_listed_strategy_proposes_its_list_in_order_once():
    from mtlsearch.strategies import ListedStrategy

    strategy = ListedStrategy(3, combinations=[[2], [], [0, 1], [1, 0]])
    first = strategy.propose([], n=2)
    assert [p.combination for p in first] == [frozenset({2}), frozenset()]
    history = [Observation(frozenset({2}), 0.5)]
    assert [p.combination for p in strategy.propose(history, n=5)] == [frozenset(), frozenset({0, 1})]
    done = history + [Observation(frozenset(), 0.4), Observation(frozenset({0, 1}), 0.6)]
    assert strategy.propose(done, n=5) == []
    with pytest.raises(ConfigError, match="outside 0..2"):
        ListedStrategy(3, combinations=[[3]])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_proposals_beside_running_evaluations_avoid_them(name):
    strategy = build(name, seed=2)
    history: list[Observation] = []
    running: list = []
    for _ in range(12):
        proposals = strategy.propose_pending(history, 1, running)
        check_batch(proposals, history, 1)
        if proposals:
            assert proposals[0].combination not in running
            running.append(proposals[0].combination)
        elif not running:
            break
        # the oldest finishes once three are running, or when the strategy waits for it (greedy
        # cannot choose its next step before the current one is scored)
        if len(running) == 3 or not proposals:
            done = running.pop(0)
            history.append(Observation(done, landscape(done)))
    assert len(history) >= 2
