"""Planted functional landscapes: the exact optimum against brute force, determinism, and the
``python`` evaluator contract."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mtlsearch import landscapes
from mtlsearch.errors import ConfigError
from mtlsearch.landscape.functional import FunctionalLandscape


@pytest.mark.parametrize("kind", landscapes.KINDS)
@pytest.mark.parametrize("n, seed", [(6, 0), (9, 1), (13, 2), (16, 3), (16, 4)])
def test_planted_optimum_matches_brute_force(kind, n, seed):
    landscape = FunctionalLandscape(n, seed, kind)
    _, score = landscape.brute_force_optimum()
    datasets, planted = landscape.optimum
    assert planted == pytest.approx(score, abs=1e-12)
    assert landscape.true_score(landscape.optimum_combination) == pytest.approx(score, abs=1e-12)
    assert datasets == tuple(sorted(["target", *(landscape.candidates[i] for i in landscape.optimum_combination)]))


@pytest.mark.parametrize("kind", landscapes.KINDS)
def test_optimum_is_not_a_trivial_corner(kind):
    # Over several seeds the optimum is neither the target alone nor the whole pool, and it beats
    # both by a margin a search has to find.
    for seed in range(5):
        landscape = FunctionalLandscape(24, seed, kind)
        best = landscape.true_score(landscape.optimum_combination)
        assert 0 < len(landscape.optimum_combination) < 24
        assert best - landscape.true_score(()) > 0.01
        assert best - landscape.true_score(range(24)) > 0.01


def test_kinds_are_built_differently():
    additive = FunctionalLandscape(40, 0, "additive")
    groups = FunctionalLandscape(40, 0, "groups")
    assert additive.interacting and not hasattr(additive, "groups")
    assert groups.groups and any(groups.group_threshold) and not all(groups.group_threshold)


def test_landscape_is_deterministic_and_seeded():
    first, second = FunctionalLandscape(40, 3, "groups"), FunctionalLandscape(40, 3, "groups")
    other = FunctionalLandscape(40, 4, "groups")
    rng = np.random.default_rng(0)
    combos = [frozenset(np.flatnonzero(rng.random(40) < 0.3).tolist()) for _ in range(20)]
    assert [first.true_score(c) for c in combos] == [second.true_score(c) for c in combos]
    assert [first.true_score(c) for c in combos] != [other.true_score(c) for c in combos]
    assert first.optimum == second.optimum


def test_noise_is_fixed_per_combination():
    noisy = FunctionalLandscape(24, 1, "additive", noise_sd=0.005)
    clean = FunctionalLandscape(24, 1, "additive")
    members = ("a01", "a05", "target")
    assert noisy(members) == noisy(members)
    differences = [noisy.score(c) - clean.score(c) for c in itertools.combinations(range(24), 2)]
    assert 0.003 < np.std(differences) < 0.007
    assert noisy.optimum == clean.optimum  # the optimum is the noiseless one


def test_callable_contract():
    landscape = landscapes.pool40
    assert landscape.target == "target" and landscape.ids[0] == "target"
    assert landscape.candidates[0] == "a00" and landscape.candidates[-1] == "a39"
    members = tuple(sorted(["target", "a03", "a17"]))
    scores = landscape(members)
    assert set(scores) == {"target"} and isinstance(scores["target"], float)
    assert scores["target"] == landscape.true_score({3, 17})
    assert landscape(("target",))["target"] == landscape.true_score(())
    datasets, score = landscape.optimum
    assert landscape(datasets)["target"] == pytest.approx(score)
    with pytest.raises(ValueError, match="target"):
        landscape(("a01",))
    with pytest.raises(ValueError, match="not candidates"):
        landscape(("a99", "target"))


def test_ready_made_pools_and_factory():
    assert (landscapes.pool24.n, landscapes.pool40.n, landscapes.pool64.n) == (24, 40, 64)
    assert len(landscapes.pool64.candidates) == 64 and landscapes.pool64.candidates[-1] == "a63"
    made = landscapes.functional_landscape(64, seed=64, kind="additive")
    assert made.optimum == landscapes.pool64.optimum
    with pytest.raises(ConfigError, match="kind"):
        landscapes.functional_landscape(10, kind="cubic")
    with pytest.raises(ConfigError, match="positive integer"):
        landscapes.functional_landscape(0)
