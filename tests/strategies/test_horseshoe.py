"""The default strategy's model beyond 16 candidates: a horseshoe-shrunk quadratic regression
sampled by Gibbs (mtlsearch.strategies.horseshoe)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.landscape.functional import FunctionalLandscape
from mtlsearch.strategies import Observation, make_strategy
from mtlsearch.strategies.horseshoe import N_FIXED, HorseshoeQuadraticSurrogate
from mtlsearch.strategies.surrogate import BayesianLinearSurrogate, standardised_direction

N = 20


def sparse_scores(rows: np.ndarray, mains: np.ndarray) -> np.ndarray:
    """Main effects plus two large pairs among 190: (2, 7) pays only together, (4, 5) conflict."""
    return 0.6 + rows @ mains + 0.03 * rows[:, 2] * rows[:, 7] - 0.02 * rows[:, 4] * rows[:, 5]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    mains = rng.normal(0.0, 0.004, N)
    mains[[2, 7]] = -0.008  # each hurts alone
    rows = (rng.random((90, N)) < 0.5).astype(float)
    test = (rng.random((300, N)) < 0.5).astype(float)
    return mains, rows, sparse_scores(rows, mains), test, sparse_scores(test, mains)


def pair_weight(model: HorseshoeQuadraticSurrogate, i: int, j: int) -> float:
    k = next(k for k, pair in enumerate(zip(*model._pairs)) if pair == (i, j))
    return float(model.beta[N_FIXED + model.n + k].mean() * model.scale)


def test_few_large_pairs_are_found_among_many(data):
    mains, rows, scores, test, truth = data
    model = HorseshoeQuadraticSurrogate(N, seed=1)
    model.fit_rows(rows, scores)
    assert pair_weight(model, 2, 7) == pytest.approx(0.03, abs=0.006)
    assert pair_weight(model, 4, 5) == pytest.approx(-0.02, abs=0.006)
    others = [abs(pair_weight(model, i, j)) for i, j in itertools.combinations(range(N), 2)
              if (i, j) not in {(2, 7), (4, 5)}]
    assert np.max(others) < 0.006 and np.mean(others) < 0.001
    mean, var = model.predict_rows(test)
    error = np.sqrt(np.mean((mean - truth) ** 2))
    # the Gaussian model, one variance for all 190 pairs, spreads the two over all of them
    gaussian = BayesianLinearSurrogate(N)
    gaussian.fit_rows(rows, scores)
    gaussian_error = np.sqrt(np.mean((gaussian.predict_rows(test)[0] - truth) ** 2))
    assert error < 0.003 and error < 0.5 * gaussian_error, (error, gaussian_error)
    assert np.all(var > 0)


def test_a_fit_on_the_same_observations_is_reused_and_fantasies_do_not_stay(data):
    _, rows, scores, test, _ = data
    model = HorseshoeQuadraticSurrogate(N, seed=1)
    model.fit_rows(rows, scores)
    before = model.predict_rows(test)[0]
    model.fit_rows(rows.copy(), scores.copy())
    assert np.array_equal(model.predict_rows(test)[0], before)
    model.condition_on_row(test[0])
    model.condition_on_row(test[1])
    assert len(model._observed) == len(rows) + 2
    # a fantasy at the predicted mean leaves that mean about where it was, and shrinks its spread
    assert not np.array_equal(model.predict_rows(test)[0], before)
    model.fit_rows(rows, scores)
    assert np.array_equal(model.predict_rows(test)[0], before)


def test_the_prior_direction_weight_is_learnt_and_never_negative(data):
    mains, rows, scores, test, truth = data
    few = slice(0, 15)  # fewer observations than candidates: where a prior can pay

    def fitted(direction):
        model = HorseshoeQuadraticSurrogate(N, direction, seed=1)
        model.fit_rows(rows[few], scores[few])
        return model, np.sqrt(np.mean((model.predict_rows(test)[0] - truth) ** 2))

    (right, right_error), (wrong, _), (none, none_error) = (
        fitted(standardised_direction(mains, N)), fitted(standardised_direction(-mains, N)), fitted(None)
    )
    assert np.all(right.lam >= 0) and np.all(wrong.lam >= 0)
    assert right.prior_weight() > 0.2
    assert wrong.prior_weight() < 0.1 * right.prior_weight(), (wrong.prior_weight(), right.prior_weight())
    assert none.prior_weight() == 0.0
    assert right_error < 0.7 * none_error, (right_error, none_error)


def test_asking_the_model_never_changes_what_it_proposes():
    landscape = FunctionalLandscape(24, seed=5, kind="groups")

    def search(ask: bool) -> list[frozenset[int]]:
        strategy = make_strategy("surrogate", 24, seed=4)
        history: list[Observation] = []
        while len(history) < 30:
            combination = strategy.propose(history, 1)[0].combination
            history.append(Observation(combination, landscape.score(combination)))
            if ask:
                strategy.improvement_probability(history, 0.002)
                strategy.predict_all(history)
        return [o.combination for o in history]

    assert search(ask=True) == search(ask=False)


def test_the_model_option():
    assert make_strategy("surrogate", 17).model_name == "horseshoe"
    assert make_strategy("surrogate", 16).model_name == "gaussian"
    assert make_strategy("surrogate", 40, model="gaussian").model_name == "gaussian"
    assert make_strategy("surrogate", 40, pairwise=False).model_name == "gaussian"
    with pytest.raises(ConfigError, match="model 'horseshoe' is the model for more than 16 candidates"):
        make_strategy("surrogate", 12, model="horseshoe")
    with pytest.raises(ConfigError, match=r"option model must be one of \('auto', 'gaussian', 'horseshoe'\), got 'lasso'"):
        make_strategy("surrogate", 40, model="lasso")


def test_horseshoe_beats_the_gaussian_model_on_planted_landscapes():
    # N = 24, both kinds: threshold groups and pairs that pay only together are what the one
    # shared pair variance cannot hold.
    regret = {"horseshoe": [], "gaussian": []}
    for kind in ("additive", "groups"):
        landscape = FunctionalLandscape(24, seed=1, kind=kind)
        optimum = landscape.true_score(landscape.optimum_combination)
        for model, found in regret.items():
            strategy = make_strategy("surrogate", 24, seed=1001, model=model)
            history: list[Observation] = []
            while len(history) < 60:
                combination = strategy.propose(history, 1)[0].combination
                history.append(Observation(combination, landscape.score(combination)))
            best = max(history, key=lambda o: o.score)
            found.append(100 * (optimum - landscape.true_score(best.combination)))
    assert np.mean(regret["horseshoe"]) < 0.3, regret
    assert np.mean(regret["horseshoe"]) < np.mean(regret["gaussian"]), regret
