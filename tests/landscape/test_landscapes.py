"""Synthetic landscapes: shape, determinism and the structure each family documents."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.landscape.synthetic import (
    ALL_FAMILIES,
    FAMILIES,
    GENERATORS,
    HELD_OUT,
    REAL_PROFILES,
    all_masks,
    dilution_penalty,
    fit_real_profile,
    generate_landscape,
    saturating_gain,
    write_table,
)

N = 5
NAMES = ["a", "b", "c", "d", "e"]


def lookup(table, members) -> float:
    scores = dict(zip(table["datasets"], table.get("true_score", table["score"])))
    return scores["+".join(sorted(["t", *members]))]


def test_documented_families():
    assert set(FAMILIES) == {"additive", "pairwise", "dilution", "saturation", "mixed", "noisy"}


@pytest.mark.parametrize("family", FAMILIES)
def test_table_has_every_combination_once(family):
    table = generate_landscape(family, N, seed=1, candidates=NAMES)
    assert len(table) == 2**N
    assert table["datasets"].is_unique
    members = [d.split("+") for d in table["datasets"]]
    assert all("t" in m and m == sorted(m) for m in members)
    assert {frozenset(m) - {"t"} for m in members} == {
        frozenset(c) for k in range(N + 1) for c in itertools.combinations(NAMES, k)
    }
    assert table["score"].between(0, 1).all()
    assert ("true_score" in table) == (family == "noisy")


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_table_other_seed_other_table(family):
    first = generate_landscape(family, N, seed=7)
    assert first.equals(generate_landscape(family, N, seed=7))
    assert not np.allclose(first["score"], generate_landscape(family, N, seed=8)["score"])


def test_additive_family_is_exactly_additive():
    table = generate_landscape("additive", N, seed=2, candidates=NAMES)
    base = lookup(table, [])
    singles = {name: lookup(table, [name]) - base for name in NAMES}
    for k in range(2, N + 1):
        for combo in itertools.combinations(NAMES, k):
            assert lookup(table, combo) == pytest.approx(
                base + sum(singles[c] for c in combo), abs=1e-12
            )


def interaction(table, i, j, context=()) -> float:
    return (
        lookup(table, [*context, i, j])
        - lookup(table, [*context, i])
        - lookup(table, [*context, j])
        + lookup(table, context)
    )


def test_pairwise_family_has_interactions_of_second_order_only():
    table = generate_landscape("pairwise", N, seed=3, candidates=NAMES)
    pairs = [interaction(table, i, j) for i, j in itertools.combinations(NAMES, 2)]
    assert any(abs(p) > 1e-6 for p in pairs)
    # A pair's interaction does not depend on what else is in the mixture.
    for i, j in itertools.combinations(NAMES, 2):
        others = [n for n in NAMES if n not in (i, j)]
        assert interaction(table, i, j, others[:2]) == pytest.approx(
            interaction(table, i, j), abs=1e-12
        )


def test_dilution_penalty_grows_with_every_addition():
    x = all_masks(6)
    penalty = dilution_penalty(np.random.default_rng(0), x, strength=0.03)
    assert penalty[0] == 0.0
    assert np.all(penalty[1:] < 0) and np.all(penalty > -0.03)
    for mask in range(2**6):
        for i in range(6):
            if not mask >> i & 1:
                assert penalty[mask | 1 << i] < penalty[mask]


def test_saturation_makes_helpful_auxiliaries_pay_less_together():
    x = all_masks(4)
    effects = np.array([0.02, 0.03, -0.004, 0.0])
    gain = saturating_gain(np.random.default_rng(0), x, effects)
    assert gain[0] == 0.0
    # Two helpful auxiliaries (bits 0 and 1) together gain less than the sum of their gains.
    assert gain[0b11] < gain[0b01] + gain[0b10]
    assert gain[0b11] < effects[0] + effects[1]


@pytest.mark.parametrize("family", ["dilution", "saturation", "mixed"])
def test_non_additive_families_are_not_additive(family):
    table = generate_landscape(family, 6, seed=4)
    names = [f"aux{i:02d}" for i in range(6)]
    assert max(abs(interaction(table, i, j)) for i, j in itertools.combinations(names, 2)) > 1e-5


def test_most_auxiliaries_do_not_help_on_their_own():
    helping = []
    for seed in range(10):
        table = generate_landscape("additive", 11, seed=seed)
        base = lookup(table, [])
        helping += [lookup(table, [f"aux{i:02d}"]) - base > 0.005 for i in range(11)]
    assert 0 < np.mean(helping) < 0.4


def test_noisy_family_keeps_the_noiseless_truth():
    table = generate_landscape("noisy", 8, seed=5, noise_sd=0.01)
    residual = table["score"] - table["true_score"]
    assert residual.std() == pytest.approx(0.01, rel=0.2)
    assert abs(residual.mean()) < 0.003


def test_unknown_family_and_bad_candidates_are_rejected():
    with pytest.raises(ConfigError, match="unknown landscape family 'cubic'"):
        generate_landscape("cubic", N, seed=0)
    with pytest.raises(ConfigError, match="candidate ids"):
        generate_landscape("additive", 2, seed=0, candidates=["t", "x"])
    with pytest.raises(ConfigError, match="2 candidate ids given for n=3"):
        generate_landscape("additive", 3, seed=0, candidates=["x", "y"])
    with pytest.raises(ConfigError, match="must not contain"):
        generate_landscape("additive", 1, seed=0, candidates=["x+y"])


def test_written_table_reads_back_through_the_table_evaluator(tmp_path):
    table = generate_landscape("mixed", N, seed=6, target="bc2gm", candidates=NAMES)
    path = write_table(table, tmp_path / "sub" / "landscape.csv")
    evaluator = TableEvaluator(path, "bc2gm")
    assert set(evaluator.ids) == {"bc2gm", *NAMES}
    assert evaluator.evaluate(["c", "a"])["bc2gm"] == pytest.approx(
        lookup_target(table, ["a", "c"])
    )
    best = table.loc[table["score"].idxmax()]
    assert evaluator.optimum(NAMES) == (
        tuple(best["datasets"].split("+")),
        pytest.approx(best["score"]),
    )


def lookup_target(table, members) -> float:
    return dict(zip(table["datasets"], table["score"]))["+".join(sorted(["bc2gm", *members]))]


RECORDED = Path(__file__).resolve().parents[2] / "docs" / "landscapes"


def true_of(table) -> dict[str, float]:
    return dict(zip(table["datasets"], table["true_score"]))


def test_generators_are_apart_from_the_families_and_one_is_held_out():
    assert set(GENERATORS) == {"independent", "real_shaped", "target_alone", "late", "skills"}
    assert set(HELD_OUT) <= set(GENERATORS) and not set(GENERATORS) & set(FAMILIES)
    assert ALL_FAMILIES == FAMILIES + GENERATORS


@pytest.mark.parametrize("family", GENERATORS)
def test_generator_tables_are_complete_noisy_and_reproducible(family):
    table = generate_landscape(family, N, seed=1, candidates=NAMES)
    assert len(table) == 2**N and table["datasets"].is_unique
    assert table["score"].between(0, 1).all() and table["true_score"].between(0, 1).all()
    assert not np.allclose(table["score"], table["true_score"])
    assert table.equals(generate_landscape(family, N, seed=1, candidates=NAMES))
    other = generate_landscape(family, N, seed=2, candidates=NAMES)
    assert not np.allclose(table["true_score"], other["true_score"])
    quiet = generate_landscape(family, N, seed=1, candidates=NAMES, noise_sd=0.0)
    np.testing.assert_allclose(quiet["score"], quiet["true_score"])
    np.testing.assert_allclose(quiet["true_score"], table["true_score"])


def test_independent_generator_has_helpful_neutral_and_harmful_auxiliaries():
    effects = []
    for seed in range(10):
        table = generate_landscape("independent", 10, seed=seed)
        truth = true_of(table)
        effects += [truth[f"aux{i:02d}+t"] - truth["t"] for i in range(10)]
    effects = np.array(effects)
    assert np.mean(effects > 0.005) > 0.1
    assert np.mean(effects < -0.005) > 0.2
    assert np.mean(np.abs(effects) < 0.004) > 0.15  # neutral, but for a little dilution


@pytest.mark.parametrize("seed", range(6))
def test_target_alone_beats_every_combination_by_a_clear_margin(seed):
    truth = true_of(generate_landscape("target_alone", 9, seed=seed))
    alone = truth.pop("t")
    assert alone - max(truth.values()) >= 0.01 - 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_late_optimum_is_large_but_not_the_whole_pool(seed):
    n = 8 + seed % 4
    truth = true_of(generate_landscape("late", n, seed=seed))
    optimum = max(truth, key=truth.get)
    assert 5 <= optimum.count("+") < n
    members = [m for m in optimum.split("+") if m != "t"]
    # most of its members hurt on their own
    assert sum(truth["+".join(sorted(["t", m]))] < truth["t"] for m in members) >= 4


def test_real_profiles_are_the_fit_of_the_recorded_landscapes():
    fitted = []
    for path in sorted(RECORDED.rglob("*.csv")):
        if path.stem.endswith("noise"):
            continue
        if path.parent.name.startswith("fixed-target"):
            continue  # the profiles imitate the default mixture policy (equal), as searches meet it
        noise = json.loads(path.with_name(path.stem + ".summary.json").read_text())["noise_sd"]
        if noise > 0:  # the flat landscape (F1 0 everywhere) has no shape to fit
            name = path.relative_to(RECORDED).with_suffix("").as_posix()
            fitted.append(fit_real_profile(pd.read_csv(path), noise, name))
    assert [f.name for f in fitted] == [p.name for p in REAL_PROFILES]
    for fit, profile in zip(fitted, REAL_PROFILES):
        assert fit.alone == pytest.approx(profile.alone, abs=1e-4)
        assert fit.drop == pytest.approx(profile.drop, abs=1e-4)
        assert fit.ratio == pytest.approx(profile.ratio, abs=1e-6)
        assert fit.effects == pytest.approx(profile.effects, abs=1e-4)
        assert fit.interaction_sd == pytest.approx(profile.interaction_sd, abs=1e-4)
        assert fit.noise_sd == pytest.approx(profile.noise_sd, abs=1e-4)


def test_real_shaped_landscapes_carry_a_recorded_profile_and_its_noise():
    for seed in range(6):
        table = generate_landscape("real_shaped", 8, seed=seed)
        truth = true_of(table)
        profile = next(p for p in REAL_PROFILES if truth["t"] == pytest.approx(p.alone))
        residual = table["score"] - table["true_score"]
        inside = (table["score"] > 0) & (table["score"] < 1)  # clipping shrinks the noise
        assert residual[inside].std() == pytest.approx(profile.noise_sd, rel=0.3)
