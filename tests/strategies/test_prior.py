"""The default strategy with a prior from a relatedness signal (``prior``, ``prior_effects``):
validation, no change without one, evaluations saved with a right one, and a wrong one shrunk
away by the evidence."""

from __future__ import annotations

import numpy as np
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.landscape.functional import FunctionalLandscape
from mtlsearch.strategies import Observation, SizeBounds, make_strategy


def one_helper(n: int, seed: int) -> tuple[np.ndarray, frozenset[int]]:
    """Main effects where one auxiliary helps and every other hurts a little: the optimum is
    that auxiliary alone."""
    rng = np.random.default_rng(seed)
    effects = -rng.uniform(0.002, 0.008, n)
    helper = int(rng.integers(n))
    effects[helper] = 0.03
    return effects, frozenset({helper})


def search(strategy, score, budget, optimum=None, batch=1):
    """Propose and evaluate until ``budget`` evaluations or ``optimum`` is evaluated; the
    history and the number of evaluations it took (budget + 1: never)."""
    history: list[Observation] = []
    while len(history) < budget:
        proposals = strategy.propose(history, batch)
        if not proposals:
            break
        for p in proposals:
            history.append(Observation(p.combination, score(p.combination)))
            if p.combination == optimum:
                return history, len(history)
    return history, budget + 1


def additive(effects):
    return lambda c: 0.6 + float(sum(effects[i] for i in c))


@pytest.mark.parametrize(
    "options, match",
    [
        ({"prior": "tau"}, r"option prior must be one of \('none', 'gradts', 'pvi'\), got 'tau'"),
        ({"prior": "gradts"}, r"prior 'gradts' needs option prior_effects, one number per candidate \(4\), got None"),
        ({"prior": "gradts", "prior_effects": [0.1, 0.2, 0.3]}, r"prior_effects has 3 values, expected one per candidate \(4\)"),
        ({"prior": "gradts", "prior_effects": [0.1, float("nan"), 0.3, 0.0]}, r"prior_effects expected finite numbers, got \[0.1, nan"),
        ({"prior": "gradts", "prior_effects": [0.1, float("inf"), 0.3, 0.0]}, r"expected finite numbers, got .*inf"),
        ({"prior": "gradts", "prior_effects": ["high", 0.2, 0.3, 0.0]}, r"prior_effects expected 4 numbers, got \['high'"),
        ({"prior": "gradts", "prior_effects": "0.1,0.2"}, r"needs option prior_effects.*got '0.1,0.2'"),
        ({"prior": "pvi", "prior_effects": [1.0, -1.0, 0.5, 1.0]}, r"prior 'pvi' is a grouping.*two values at most"),
        ({"prior_effects": [0.1, 0.2, 0.3, 0.0]}, r"prior_effects given .* but prior is 'none'"),
    ],
)
def test_bad_prior_options_are_one_clear_config_error(options, match):
    with pytest.raises(ConfigError, match=match) as caught:
        make_strategy("surrogate", 4, **options)
    assert "strategy 'surrogate'" in str(caught.value)


def test_pvi_groupings_and_numpy_values_are_accepted():
    make_strategy("surrogate", 4, prior="pvi", prior_effects=[True, False, True, True])
    strategy = make_strategy("surrogate", 4, prior="gradts", prior_effects=np.array([0.3, -0.1, 0.0, 0.2]))
    assert strategy.prior_effects == (0.3, -0.1, 0.0, 0.2)


@pytest.mark.parametrize("bounds", [None, SizeBounds(1, 4)], ids=str)
def test_no_prior_and_a_flat_prior_change_nothing(bounds):
    effects, _ = one_helper(8, seed=1)
    runs = [
        search(make_strategy("surrogate", 8, seed=3, size_bounds=bounds, **options), additive(effects), 16, batch=2)[0]
        for options in ({}, {"prior": "none"}, {"prior": "gradts", "prior_effects": [0.2] * 8})
    ]
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0]) >= 16


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_right_prior_reaches_the_only_helper_sooner(seed):
    effects, optimum = one_helper(10, seed)
    _, without = search(make_strategy("surrogate", 10, seed=seed), additive(effects), 40, optimum)
    strategy = make_strategy("surrogate", 10, seed=seed, prior="gradts", prior_effects=effects)
    _, with_prior = search(strategy, additive(effects), 40, optimum)
    assert with_prior < without <= 40
    # Found after the two design evaluations, before the evidence has weighed the signal; a
    # dozen evaluations that agree with it raise its weight above the prior's mean.
    believed = make_strategy("surrogate", 10, seed=seed, prior="gradts", prior_effects=effects)
    search(believed, additive(effects), 12)
    assert believed.model.prior_weight() > 0.4


@pytest.mark.parametrize("bounds", [None, SizeBounds(0, 5)], ids=str)
def test_with_a_prior_the_design_is_the_target_alone_and_the_whole_pool(bounds):
    # The prior mean stands in for the groups' first look at the main effects: with a prior the
    # model takes over after the target alone and the largest feasible mixture (groups of at
    # most ``high`` first where ``high`` cannot hold the pool).
    n = 9
    effects = np.array([0.0, 0.5, -0.2, 0.9, 0.1, -0.4, 0.3, 0.2, -0.1])
    plain = make_strategy("surrogate", n, seed=0, size_bounds=bounds).propose([], 10)
    guided = make_strategy("surrogate", n, seed=0, size_bounds=bounds, prior="gradts", prior_effects=effects)
    design = guided.propose([], 10)
    assert all(p.predicted is None for p in plain) and len(plain) >= 5
    assert all(p.predicted is None for p in design)
    combos = [p.combination for p in design]
    high = n if bounds is None else bounds.high
    assert combos[0] == frozenset()
    assert max(len(c) for c in combos) == high
    if bounds is None:
        assert combos == [frozenset(), frozenset(range(n))]
    else:
        groups = combos[1:-1]
        assert len(groups) == 2 and sorted(i for g in groups for i in g) == list(range(n))
        assert all(len(g) <= high for g in groups)
    # After the design the model proposes (a prediction comes with each proposal).
    history = [Observation(c, 0.5 + 0.01 * len(c)) for c in combos]
    assert guided.propose(history, 1)[0].predicted is not None
    # An explicit n_initial is kept, prior or not.
    explicit = make_strategy("surrogate", n, seed=0, size_bounds=bounds, n_initial=4, prior="gradts", prior_effects=effects)
    assert [p.combination for p in explicit.propose([], 10)] == [p.combination for p in make_strategy("surrogate", n, seed=0, size_bounds=bounds, n_initial=4).propose([], 10)]


def test_singles_are_evaluated_in_decreasing_prior():
    effects = np.array([0.0, 0.5, -0.2, 0.9, 0.1])
    design = make_strategy("surrogate", 5, seed=0, design="singles", prior="gradts", prior_effects=effects).propose([], 6)
    assert [p.combination for p in design] == [frozenset(), *(frozenset({i}) for i in (3, 1, 4, 0, 2))]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_reversed_prior_is_shrunk_and_the_optimum_still_found(seed):
    effects, optimum = one_helper(10, seed)
    strategy = make_strategy("surrogate", 10, seed=seed, prior="gradts", prior_effects=-effects)
    _, evaluations = search(strategy, additive(effects), 40, optimum)
    assert evaluations <= 40
    assert strategy.model.prior_weight() < 0.05


@pytest.mark.parametrize("bounds", [SizeBounds(), SizeBounds(2, 8)], ids=str)
def test_large_pools_take_the_prior(bounds):
    n = 24
    landscape = FunctionalLandscape(n, seed=4, kind="additive")
    effects = np.asarray(landscape.main)
    runs = {}
    for name, options in {
        "none": {},
        "right": {"prior": "gradts", "prior_effects": effects},
        "reversed": {"prior": "gradts", "prior_effects": -effects},
    }.items():
        strategy = make_strategy("surrogate", n, seed=2, size_bounds=bounds, **options)
        history, _ = search(strategy, landscape.true_score, 24, batch=3)
        combos = [o.combination for o in history]
        assert len(set(combos)) == len(combos) >= 24
        assert all(bounds.contains(len(c)) for c in combos)
        chance = strategy.improvement_probability(history, 0.002)
        assert 0.0 <= chance <= 1.0
        predictions = strategy.predict_all(history)
        assert set(combos) <= set(predictions) and all(np.isfinite(list(predictions.values())))
        runs[name] = (combos, strategy.model.prior_weight())
    assert runs["right"][0] != runs["none"][0]
    assert runs["right"][1] > 0.1, runs["right"][1]
    assert runs["reversed"][1] < 0.05, runs["reversed"][1]
