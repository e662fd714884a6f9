"""The search loop: budget, patience, no repeats, reuse of finished evaluations, batches."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mtlsearch.search.loop import Evaluation, InMemoryLedger, SearchResult, run_search
from mtlsearch.strategies import Observation, Proposal, Strategy, make_strategy

TARGET = "t"
CANDIDATES = ("a", "b", "c", "d")
EFFECTS = {"a": 0.03, "b": -0.01, "c": 0.02, "d": -0.02}


class CountingEvaluator:
    def __init__(self, effects=EFFECTS):
        self.effects = effects
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, datasets: tuple[str, ...]) -> dict[str, float]:
        self.calls.append(datasets)
        score = 0.5 + sum(self.effects.get(d, 0.0) for d in datasets)
        return {TARGET: score, **{d: 0.9 for d in datasets if d != TARGET}}


def search(
    strategy="exhaustive", budget=8, patience=None, ledger=None, evaluate=None, **kwargs
) -> SearchResult:
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, len(CANDIDATES), seed=0)
    return run_search(
        TARGET,
        CANDIDATES,
        strategy,
        evaluate or CountingEvaluator(),
        ledger if ledger is not None else InMemoryLedger(),
        budget=budget,
        patience=patience,
        progress=kwargs.pop("progress", None),
        **kwargs,
    )


@pytest.mark.parametrize("strategy", ["exhaustive", "random", "surrogate", "tpe", "linear"])
def test_budget_is_respected_and_nothing_repeats(strategy):
    evaluate, ledger = CountingEvaluator(), InMemoryLedger()
    result = search(strategy, budget=7, evaluate=evaluate, ledger=ledger)
    assert result.n_new == 7 and result.n_reused == 0 and result.stop_reason == "budget"
    assert len(evaluate.calls) == 7 and len(set(evaluate.calls)) == 7
    assert [e.datasets for e in ledger.finished()] == evaluate.calls
    assert all(TARGET in d and list(d) == sorted(d) for d in evaluate.calls)


def test_patience_stops_after_evaluations_without_improvement():
    # Everything hurts: the target alone (first, in exhaustive order) stays the best.
    evaluate = CountingEvaluator({c: -0.01 for c in CANDIDATES})
    result = search("exhaustive", budget=16, patience=3, evaluate=evaluate)
    assert result.stop_reason == "patience"
    assert result.n_new == 4
    assert result.best == (("t",), pytest.approx(0.5))


def test_strategy_that_runs_dry_ends_the_search():
    result = search("exhaustive", budget=100)
    assert result.n_new == 16 and result.stop_reason.startswith("strategy")
    assert result.best == (("a", "c", "t"), pytest.approx(0.55))


class StubbornStrategy(Strategy):
    """Keeps proposing combinations already evaluated, and the same one twice in a batch."""

    name = "stubborn"

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        if not history:
            return [Proposal(frozenset()), Proposal(frozenset())]
        return [Proposal(o.combination) for o in history]


def test_loop_never_evaluates_a_combination_twice():
    evaluate = CountingEvaluator()
    result = search(StubbornStrategy(len(CANDIDATES)), budget=5, evaluate=evaluate, batch_size=3)
    assert evaluate.calls == [("t",)]
    assert result.n_new == 1 and result.stop_reason.startswith("strategy")


def test_finished_evaluations_are_reused_not_reevaluated():
    ledger = InMemoryLedger(
        [
            Evaluation(("t",), {TARGET: 0.5}, run_id="r1"),
            Evaluation(("a", "t"), {TARGET: 0.53, "a": 0.9}, run_id="r2"),
        ]
    )
    evaluate = CountingEvaluator()
    result = search("exhaustive", budget=3, ledger=ledger, evaluate=evaluate)
    assert result.n_reused == 2 and result.n_new == 3
    assert [e.reused for e in result.history] == [True, True, False, False, False]
    assert {("t",), ("a", "t")}.isdisjoint(evaluate.calls)
    assert result.history[1].run_id == "r2" and result.history[1].iteration == 0
    assert len(ledger.finished()) == 5  # the reused ones are not recorded again


def test_evaluations_made_for_another_target_are_reused():
    ledger = InMemoryLedger(
        [
            # Made when searching for "a": includes "t", and "a" is one of our candidates.
            Evaluation(("a", "t"), {"a": 0.7, TARGET: 0.61}),
            # Includes a dataset that is not our candidate: not comparable, not reused.
            Evaluation(("t", "x"), {"x": 0.7, TARGET: 0.9}),
            # Does not include the target at all.
            Evaluation(("a", "b"), {"a": 0.7, "b": 0.8}),
            # Includes the target but has no score for it.
            Evaluation(("b", "t"), {"b": 0.6}),
        ]
    )
    evaluate = CountingEvaluator()
    result = search("exhaustive", budget=2, ledger=ledger, evaluate=evaluate)
    reused = [e for e in result.history if e.reused]
    assert [e.datasets for e in reused] == [("a", "t")]
    # Smallest first, skipping the reused ("a", "t"); ("t", "x") and ("b", "t") do not count.
    assert evaluate.calls == [("t",), ("b", "t")]
    assert result.best == (("a", "t"), pytest.approx(0.61))


def test_repeated_ledger_entries_count_once_with_their_mean():
    ledger = InMemoryLedger(
        [Evaluation(("a", "t"), {TARGET: 0.60, "a": 0.8}), Evaluation(("a", "t"), {TARGET: 0.64})]
    )
    result = search("exhaustive", budget=0, ledger=ledger)
    assert result.n_reused == 1 and result.n_new == 0 and result.stop_reason == "budget"
    assert result.history[0].scores == {TARGET: pytest.approx(0.62), "a": 0.8}


def test_each_evaluation_is_recorded_before_the_next_starts():
    events = []

    class LoggingLedger(InMemoryLedger):
        def record(self, evaluation):
            events.append(("record", evaluation.datasets))
            super().record(evaluation)

    def evaluate(datasets):
        events.append(("evaluate", datasets))
        return {TARGET: 0.5}

    search("exhaustive", budget=3, ledger=LoggingLedger(), evaluate=evaluate, batch_size=3)
    assert [kind for kind, _ in events] == ["evaluate", "record"] * 3
    assert [d for _, d in events[::2]] == [d for _, d in events[1::2]]


def test_batches_share_an_iteration_number():
    result = search("surrogate", budget=9, batch_size=4)
    iterations = [e.iteration for e in result.history]
    assert iterations == sorted(iterations) and iterations[0] == 1
    assert max(iterations.count(i) for i in set(iterations)) <= 4
    assert len({e.datasets for e in result.history}) == 9


def test_results_arrive_through_the_executor_in_its_order():
    class NewestFirstPool:
        def __init__(self, fn):
            self.fn, self.items = fn, []

        def submit(self, item):
            self.items.append(item)

        def next_finished(self):
            item = self.items.pop()
            return item, self.fn(item)

        def close(self):
            self.items.clear()

    class NewestFirstExecutor:
        def start(self, fn):
            return NewestFirstPool(fn)

    evaluate = CountingEvaluator()
    result = search(
        "exhaustive", budget=3, batch_size=3, evaluate=evaluate, executor=NewestFirstExecutor()
    )
    assert [e.datasets for e in result.history] == evaluate.calls
    assert evaluate.calls[-1] == ("t",)


def test_a_finished_evaluation_is_replaced_at_once_not_after_its_batch():
    """With batch_size 3, the fourth proposal is made as soon as the first result is in, from
    that result, while the other two are still in flight."""
    submitted, finished_before = [], []

    class RecordingPool:
        def __init__(self, fn):
            self.fn, self.queue = fn, []

        def submit(self, item):
            submitted.append(item)
            finished_before.append(len(done))
            self.queue.append(item)

        def next_finished(self):
            item = self.queue.pop(0)
            done.append(item)
            return item, self.fn(item)

        def close(self):
            self.queue.clear()

    class RecordingExecutor:
        def start(self, fn):
            return RecordingPool(fn)

    done: list = []
    seen_by_strategy = []

    class Recording(Strategy):
        name = "recording"

        def __init__(self, n):
            super().__init__(n)
            self.inner = make_strategy("exhaustive", n)

        def propose(self, history, n=1):
            seen_by_strategy.append((len(history), n))
            return self.inner.propose(history, n)

    result = search(Recording(len(CANDIDATES)), budget=6, batch_size=3, executor=RecordingExecutor())
    assert result.n_new == 6 and len(set(submitted)) == 6
    # three submitted up front, then one after each of the first three results
    assert finished_before == [0, 0, 0, 1, 2, 3]
    # each refill saw every finished result and asked past the two still in flight
    assert seen_by_strategy[:4] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [e.iteration for e in result.history] == [1, 1, 1, 2, 3, 4]


def test_progress_line_per_evaluation_and_predictions_by_datasets():
    lines = []
    result = search("surrogate", budget=6, progress=lines.append)
    per_evaluation = [line for line in lines if line.startswith("[")]
    assert len(per_evaluation) == 6
    assert per_evaluation[-1].startswith("[6/6] ") and "best" in per_evaluation[-1]
    assert len(result.predictions) == 16
    assert ("a", "c", "t") in result.predictions and ("t",) in result.predictions


def test_missing_target_score_is_a_failed_evaluation_and_mismatched_strategy_an_error():
    result = search("exhaustive", budget=2, evaluate=lambda datasets: {"a": 0.1})
    assert result.history == [] and len(result.failures) == 2
    assert all("no score for the target" in f.reason for f in result.failures)
    with pytest.raises(ValueError, match="built for 3 candidates"):
        search(make_strategy("random", 3), budget=2)
