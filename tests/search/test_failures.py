"""A failed evaluation is a data point: recorded, never proposed again, and the search goes on."""

from __future__ import annotations

import pytest

from mtlsearch.search.loop import InMemoryLedger, TooManyFailures, run_search
from mtlsearch.strategies import make_strategy

TARGET = "t"
CANDIDATES = ("a", "b", "c", "d")


class FlakyEvaluator:
    """Fails for every combination holding one of ``broken``; scores the rest."""

    def __init__(self, broken=("b",)):
        self.broken = set(broken)
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, datasets):
        self.calls.append(tuple(datasets))
        bad = self.broken & set(datasets)
        if bad:
            raise ValueError(f"dataset(s) {sorted(bad)} have no training examples")
        return {TARGET: 0.5 + 0.01 * len(datasets)}


def search(evaluate, ledger=None, strategy="surrogate", budget=16, **kwargs):
    return run_search(
        TARGET, CANDIDATES, make_strategy(strategy, len(CANDIDATES), seed=0), evaluate,
        ledger if ledger is not None else InMemoryLedger(), budget=budget, patience=None,
        stopping="patience", progress=None, **kwargs,
    )


@pytest.mark.parametrize("strategy", ["surrogate", "exhaustive", "greedy", "random", "tpe", "linear", "paper"])
def test_failures_are_recorded_never_repeated_and_the_search_goes_on(strategy):
    evaluate = FlakyEvaluator(broken=("b",))
    ledger = InMemoryLedger()
    result = search(evaluate, ledger, strategy=strategy, max_failures=8)
    assert len(evaluate.calls) == len(set(evaluate.calls))  # nothing asked twice
    failed = {f.datasets for f in result.failures}
    assert failed and all("b" in d for d in failed)
    assert all("b" not in e.datasets for e in result.history)
    assert {f.datasets for f in ledger.failed()} == failed
    assert all("ValueError: dataset(s) ['b'] have no training examples" == f.reason for f in result.failures)
    # failures count against the budget like any evaluation
    assert result.n_new + len(result.failures) <= 16


def test_exhaustive_search_covers_every_feasible_combination_despite_failures():
    evaluate = FlakyEvaluator(broken=("b",))
    result = search(evaluate, strategy="exhaustive", max_failures=16)
    assert result.n_new == 8 and len(result.failures) == 8
    assert result.best[0] == ("a", "c", "d", "t")


def test_a_rerun_skips_what_failed_unless_retry_failed():
    ledger = InMemoryLedger()
    search(FlakyEvaluator(), ledger, strategy="exhaustive", max_failures=16)
    again = FlakyEvaluator()
    result = search(again, ledger, strategy="exhaustive", max_failures=16)
    assert again.calls == []  # all 16 known: 8 finished, 8 failed
    assert len(result.failures) == 8 and all(f.reused for f in result.failures)
    retried = FlakyEvaluator()
    result = search(retried, ledger, strategy="exhaustive", max_failures=16, retry_failed=True)
    assert len(retried.calls) == 8 and all("b" in c for c in retried.calls)


def test_more_than_max_failures_in_a_row_stops_the_search_listing_them():
    evaluate = FlakyEvaluator(broken=CANDIDATES + (TARGET,))
    ledger = InMemoryLedger()
    with pytest.raises(TooManyFailures) as caught:
        search(evaluate, ledger, max_failures=3)
    assert len(evaluate.calls) == 4
    message = str(caught.value)
    assert "4 evaluations in a row failed (search.max_failures is 3)" in message
    for call in evaluate.calls:
        assert "+".join(call) in message
    assert len(ledger.failed()) == 4  # recorded before the search gave up


def test_a_success_resets_the_count_of_failures_in_a_row():
    calls = []

    def every_other_fails(datasets):
        calls.append(datasets)
        if len(calls) % 2 == 0:
            raise RuntimeError("out of memory")
        return {TARGET: 0.5}

    result = search(every_other_fails, strategy="exhaustive", max_failures=1)
    assert len(calls) == 16 and len(result.failures) == 8 and result.n_new == 8
    with pytest.raises(TooManyFailures):
        calls.clear()
        search(lambda d: (calls.append(d), every_other_fails(d) if len(calls) < 3 else 1 / 0)[1],
               strategy="exhaustive", max_failures=1)


def test_a_score_without_the_target_is_a_failure_too():
    def evaluate(datasets):
        return {"a": 0.3} if "a" in datasets else {TARGET: 0.5}

    result = search(evaluate, strategy="exhaustive", max_failures=16)
    assert len(result.failures) == 8
    assert "no score for the target" in result.failures[0].reason


def test_an_interrupt_is_not_a_failure():
    def evaluate(datasets):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(evaluate)
