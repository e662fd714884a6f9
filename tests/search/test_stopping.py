"""The search loop's stopping rules: the model rule, patience, and which one "auto" picks."""

from __future__ import annotations

import pytest

from mtlsearch.landscape.synthetic import default_candidates, generate_landscape
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import STRATEGIES, Observation, make_strategy

TARGET = "t"


def table_lookup(table):
    observed = dict(zip(table["datasets"], table["score"]))
    return lambda datasets: {TARGET: observed["+".join(datasets)]}


def search(evaluate, n, strategy="surrogate", seed=0, budget=60, patience=6, **kwargs):
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, n, seed=seed)
    return run_search(
        TARGET, default_candidates(n), strategy, evaluate, InMemoryLedger(),
        budget=budget, patience=patience, progress=kwargs.pop("progress", None), **kwargs,
    )


def keys(result) -> list[str]:
    return ["+".join(e.datasets) for e in result.history]


def flat(datasets):
    return {TARGET: 0.6}


def test_model_rule_fires_on_a_flat_landscape():
    result = search(flat, 8)
    assert result.stop_reason == "converged: P(gain > 0.002) < 0.05 for 3 proposals"
    assert result.n_new <= 15


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_model_rule_stops_soon_when_the_target_alone_wins(seed):
    result = search(table_lookup(generate_landscape("target_alone", 8, seed)), 8, seed=seed)
    assert result.stop_reason.startswith("converged")
    assert result.n_new <= 20
    assert result.best[0] == (TARGET,)


def test_model_rule_keeps_going_to_a_late_optimum():
    table = generate_landscape("late", 8, seed=8)
    truth = dict(zip(table["datasets"], table["true_score"]))
    optimum = max(truth, key=truth.get)
    assert optimum.count("+") >= 5  # a large combination
    evaluate = table_lookup(table)
    # Six evaluations without improvement come before the optimum: patience gives up on it.
    before = search(evaluate, 8, seed=8, stopping="patience")
    assert before.stop_reason == "patience" and optimum not in keys(before)
    result = search(evaluate, 8, seed=8)
    assert result.stop_reason.startswith("converged")
    assert optimum in keys(result)
    assert "+".join(result.best[0]) == optimum


def test_asking_the_model_changes_nothing_that_is_proposed():
    evaluate = table_lookup(generate_landscape("independent", 8, seed=3))
    unstopped = search(evaluate, 8, seed=3, patience=None, stopping="patience")
    stopped = search(evaluate, 8, seed=3)
    assert unstopped.n_new == 60 and stopped.n_new < 60
    assert keys(stopped) == keys(unstopped)[: stopped.n_new]
    # a longer run of unlikely proposals to wait for never stops earlier
    sooner = search(evaluate, 8, seed=3, stop_after=1)
    assert sooner.n_new <= stopped.n_new and keys(sooner) == keys(unstopped)[: sooner.n_new]


def test_patience_rule_behaves_as_before():
    table = generate_landscape("mixed", 6, seed=2)
    evaluate = table_lookup(table)
    unstopped = search(evaluate, 6, seed=2, budget=40, patience=None, stopping="patience")
    scores = [e.scores[TARGET] for e in unstopped.history]
    best, since, expected = float("-inf"), 0, None
    for k, score in enumerate(scores, start=1):
        best, since = (score, 0) if score > best else (best, since + 1)
        if since >= 4:
            expected = k
            break
    assert expected is not None
    result = search(evaluate, 6, seed=2, budget=40, patience=4, stopping="patience")
    assert result.stop_reason == "patience" and result.n_new == expected
    assert keys(result) == keys(unstopped)[:expected]


def test_strategy_without_a_model_uses_patience_under_auto():
    # Everything hurts: the target alone (first, in exhaustive order) stays the best.
    def harmful(datasets):
        return {TARGET: 0.5 - 0.01 * (len(datasets) - 1)}

    result = search(harmful, 4, strategy="exhaustive", budget=16, patience=3)
    assert result.stop_reason == "patience" and result.n_new == 4
    with pytest.raises(ValueError, match="needs a strategy with a model"):
        search(harmful, 4, strategy="exhaustive", stopping="model")


def test_which_strategies_have_a_model():
    # the relatedness strategies cannot be built without their signals
    signals = {"gradts": {"tau": [0.9, 0.1, 0.5, -0.2]}, "pvi": {"in_group": [True, False, True, False]}}
    built = {name: cls(4, **signals.get(name, {})) for name, cls in STRATEGIES.items()}
    assert {name for name, strategy in built.items() if strategy.has_model} == {"surrogate"}


def test_improvement_probability_of_the_surrogate():
    strategy = make_strategy("surrogate", 5, seed=1)
    history: list[Observation] = []
    design = strategy.propose(history, n=20)
    assert strategy.improvement_probability(history, 0.002) is None
    history = [Observation(p.combination, 0.5 + 0.01 * len(p.combination)) for p in design]
    chance = strategy.improvement_probability(history, 0.002)
    assert chance is not None and 0.0 <= chance <= 1.0
    # asking twice gives the same answer, and the next proposal is the same as without asking
    assert strategy.improvement_probability(history, 0.002) == chance
    twin = make_strategy("surrogate", 5, seed=1)
    twin.propose([], n=20)
    assert strategy.propose(history, n=2) == twin.propose(history, n=2)
    # a larger gain is less likely
    assert strategy.improvement_probability(history, 0.05) <= chance
    everything = [Observation(frozenset(i for i in range(5) if m >> i & 1), 0.5) for m in range(32)]
    assert strategy.improvement_probability(everything, 0.002) == 0.0


def test_progress_lines_show_the_probability():
    lines = []
    search(flat, 8, progress=lines.append)
    assert any("P(gain > 0.002) = " in line for line in lines)
    assert lines[-1].startswith("search stopped (converged: P(gain > 0.002) < 0.05")


@pytest.mark.parametrize(
    "options",
    [
        {"stopping": "sometimes"},
        {"stop_after": 0},
        {"stop_probability": 1.5},
        {"min_gain": -0.01},
    ],
)
def test_invalid_stopping_options_are_rejected(options):
    with pytest.raises(ValueError):
        search(flat, 4, **options)
