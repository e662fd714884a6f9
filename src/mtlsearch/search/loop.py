"""The combination search loop: propose, evaluate, record, repeat.

It knows nothing of Kedro or MLflow. The strategy decides what to evaluate, ``evaluate`` runs one
fine-tune (or looks a score up), the ledger persists every finished evaluation the moment it
finishes, and an executor decides how a batch's evaluations are run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from mtlsearch.errors import UserError
from mtlsearch.strategies.base import Observation, Strategy

T = TypeVar("T")
R = TypeVar("R")

STOPPING_RULES = ("auto", "patience", "model")


@dataclass(frozen=True)
class Objective:
    """What the search maximises: the score of one target, or the weighted mean of the scores of
    several targets (one model that serves them all, every combination holding each of them).

    ``weights`` default to equal; they need not sum to 1 (the mean divides by their sum)."""

    targets: tuple[str, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self):
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        if not targets or len(set(targets)) != len(targets):
            raise ValueError(f"an objective needs distinct targets, got {targets}")
        weights = tuple(float(w) for w in self.weights) if self.weights is not None else (1.0,) * len(targets)
        if len(weights) != len(targets) or any(not w > 0 for w in weights):
            raise ValueError(f"need one positive weight per target {targets}, got {weights}")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "weights", weights)

    @classmethod
    def of(cls, target: str | Objective) -> Objective:
        return target if isinstance(target, Objective) else cls((target,))

    @property
    def name(self) -> str:
        """The targets joined by '+' (for one target, the target itself)."""
        return "+".join(self.targets)

    @property
    def single(self) -> bool:
        return len(self.targets) == 1

    def covers(self, scores: Mapping[str, float]) -> bool:
        """Whether ``scores`` has every target's score."""
        return all(t in scores for t in self.targets)

    def __call__(self, scores: Mapping[str, float]) -> float:
        if self.single:
            return scores[self.targets[0]]
        total = sum(self.weights)
        return float(sum(w * float(scores[t]) for t, w in zip(self.targets, self.weights, strict=True)) / total)

    def describe(self) -> str:
        """``t`` for one target; ``weighted mean of a (0.75), b (0.25)`` for several."""
        if self.single:
            return self.targets[0]
        total = sum(self.weights)
        return "weighted mean of " + ", ".join(
            f"{t} ({w / total:.3g})" for t, w in zip(self.targets, self.weights, strict=True)
        )


class ConstraintViolation(ValueError):
    """A combination outside the constraints reached the point of being evaluated: a strategy
    (or a caller) ignored them. Raised, never skipped: such a search answers another question."""


@dataclass(frozen=True)
class Constraints:
    """Which combinations a search may evaluate: ``required`` auxiliaries in every one,
    ``excluded`` ones in none, between ``min_datasets`` and ``max_datasets`` auxiliaries (None: no
    upper bound), counting the required ones."""

    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    min_datasets: int = 0
    max_datasets: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "required", tuple(sorted(self.required)))
        object.__setattr__(self, "excluded", tuple(sorted(self.excluded)))

    @property
    def active(self) -> bool:
        return bool(self.required or self.excluded or self.min_datasets or self.max_datasets is not None)

    def size_bounds(self, n_free: int) -> tuple[int, int | None] | None:
        """The bounds on how many of the ``n_free`` candidates (required ones left out) a
        strategy chooses; None when there is no bound on that number."""
        low = max(self.min_datasets - len(self.required), 0)
        high = None if self.max_datasets is None else self.max_datasets - len(self.required)
        if high is not None and high >= n_free:
            high = None
        return None if low == 0 and high is None else (low, high)

    def violation(self, datasets: Iterable[str], targets: Iterable[str]) -> str | None:
        """Why the combination ``datasets`` (targets included) breaks the constraints, or None."""
        members, targets = set(datasets), set(targets)
        missing = sorted(targets - members)
        if missing:
            return f"it lacks the target(s) {missing}"
        missing = sorted(set(self.required) - members)
        if missing:
            return f"it lacks the required dataset(s) {missing}"
        banned = sorted(set(self.excluded) & members)
        if banned:
            return f"it holds the excluded dataset(s) {banned}"
        size = len(members - targets)
        if size < self.min_datasets:
            return f"it has {size} auxiliaries, fewer than min_datasets {self.min_datasets}"
        if self.max_datasets is not None and size > self.max_datasets:
            return f"it has {size} auxiliaries, more than max_datasets {self.max_datasets}"
        return None

    def describe(self) -> str:
        """One line: ``required a; excluded b; 1 to 3 auxiliaries`` (``none`` without constraints)."""
        parts = []
        if self.required:
            parts.append("required " + "+".join(self.required))
        if self.excluded:
            parts.append("excluded " + "+".join(self.excluded))
        if self.max_datasets is None and self.min_datasets:
            parts.append(f"at least {self.min_datasets} auxiliaries")
        elif self.max_datasets is not None:
            low = f"{self.min_datasets} to " if self.min_datasets else "at most "
            parts.append(f"{low}{self.max_datasets} auxiliaries")
        return "; ".join(parts) or "none"

    def to_dict(self) -> dict:
        return {"required": list(self.required), "excluded": list(self.excluded),
                "min_datasets": self.min_datasets, "max_datasets": self.max_datasets}


@dataclass
class Evaluation:
    """One finished evaluation."""

    datasets: tuple[str, ...]  # sorted member ids, target included
    scores: dict[str, float]  # member -> score
    # member -> score on the test split, never read by a strategy or a stopping rule: the search
    # selects on its own split and reports the test score of what it selected
    test_scores: dict[str, float] = field(default_factory=dict)
    predicted: float | None = None
    reused: bool = False
    iteration: int = 0
    run_id: str | None = None


@dataclass
class Failure:
    """One evaluation that did not finish: a data point (the combination is infeasible for this
    fingerprint), not the end of the search."""

    datasets: tuple[str, ...]
    reason: str
    iteration: int = 0
    reused: bool = False  # failed in an earlier search of the same fingerprint
    after: int = 0  # how many finished evaluations the history held when it failed
    run_id: str | None = None


@dataclass
class Guarded:
    """``fn`` with its exceptions returned as a :class:`Failure` instead of raised, so that a
    failing evaluation (in this process or on a Ray worker) comes back to the loop as a result.

    Only ``Exception`` is caught: an interrupt still stops the search, and a Ray worker that dies
    is the executor's to retry."""

    fn: Callable

    def __call__(self, item):
        try:
            return self.fn(item)
        except Exception as exc:  # noqa: BLE001 - any evaluator's failure is a data point
            return Failure(tuple(item), f"{type(exc).__name__}: {exc}")


class Ledger(Protocol):
    def finished(self) -> list[Evaluation]:
        """All finished evaluations of this fingerprint (any target)."""
        ...

    def record(self, evaluation: Evaluation) -> None:
        """Persist one evaluation the moment it finishes."""
        ...

    # Optional (a ledger without them forgets failures between searches):
    # failed() -> list[Failure]: the failed evaluations of this fingerprint;
    # record_failure(failure) -> None: persist one failure.


class InMemoryLedger:
    """A ledger that lives as long as the object (benchmarks, tests)."""

    def __init__(self, evaluations: Iterable[Evaluation] = ()):
        self._evaluations = list(evaluations)
        self._failures: list[Failure] = []

    def finished(self) -> list[Evaluation]:
        return list(self._evaluations)

    def record(self, evaluation: Evaluation) -> None:
        self._evaluations.append(evaluation)

    def failed(self) -> list[Failure]:
        return list(self._failures)

    def record_failure(self, failure: Failure) -> None:
        self._failures.append(failure)


class TooManyFailures(UserError, RuntimeError):
    """More than ``max_failures`` evaluations in a row failed: the evaluator itself is broken."""


class Pool(Protocol):
    """Evaluations in flight: submitted ones run (or wait their turn) until collected."""

    def submit(self, item: T) -> None:
        """Start (or queue) ``fn(item)``."""
        ...

    def next_finished(self) -> tuple[T, R]:
        """Block until one submitted item is done; return ``(item, fn(item))``."""
        ...

    def close(self) -> None:
        """Drop what is still queued or running (the search stopped)."""
        ...


class Executor(Protocol):
    def start(self, fn: Callable[[T], R]) -> Pool:
        """A pool that runs ``fn`` on the items submitted to it.

        The search loop passes its ``evaluate`` as ``fn`` and member tuples as items, keeps up to
        ``batch_size`` of them in flight, and submits the next proposal as soon as one finishes.
        """
        ...


class InProcessPool:
    """Runs each submitted evaluation in this process when it is collected, oldest first."""

    def __init__(self, fn: Callable[[T], R]):
        self._fn = fn
        self._queue: deque = deque()

    def submit(self, item: T) -> None:
        self._queue.append(item)

    def next_finished(self) -> tuple[T, R]:
        item = self._queue.popleft()
        return item, self._fn(item)

    def close(self) -> None:
        self._queue.clear()


class InProcessExecutor:
    """Evaluations one after the other in this process."""

    def start(self, fn: Callable[[T], R]) -> InProcessPool:
        return InProcessPool(fn)


@dataclass
class SearchResult:
    history: list[Evaluation]
    best: tuple[tuple[str, ...], float] | None  # None when nothing was evaluated
    n_new: int
    n_reused: int
    predictions: dict[tuple[str, ...], float] | None = None
    stop_reason: str = ""
    target: str = ""  # the objective's name: the target, or the targets joined by '+'
    candidates: tuple[str, ...] = field(default_factory=tuple)  # those the strategy chose among
    failures: list[Failure] = field(default_factory=list)
    objective: Objective | None = None
    constraints: Constraints = field(default_factory=Constraints)
    # the model's belief in a relatedness prior at the end (None: no prior)
    prior_weight: float | None = None


def _check_scores(
    datasets: tuple[str, ...], scores: Mapping[str, float], target: str | Objective
) -> dict[str, float]:
    for name in Objective.of(target).targets:
        if name not in scores:
            raise ValueError(
                f"the evaluation of {'+'.join(datasets)} returned no score for the target {name!r}: "
                f"{dict(scores)}"
            )
    return {str(k): float(v) for k, v in scores.items()}


def reusable_evaluations(
    ledger: Ledger, target: str | Objective, candidates: Iterable[str], constraints: Constraints | None = None
) -> list[Evaluation]:
    """Finished evaluations that can stand for combinations of this search, marked reused.

    An evaluation qualifies when its members include the target(s), lie within the targets and
    the candidates (and the ``constraints``' required datasets), keep to the constraints, and it
    has a score for every target, whichever target it was made for. A combination evaluated more
    than once appears once, with each member's mean score and the latest evaluation's other fields.
    """
    objective = Objective.of(target)
    constraints = constraints or Constraints()
    allowed = set(candidates) | set(objective.targets) | set(constraints.required)
    groups: dict[tuple[str, ...], list[Evaluation]] = {}
    for evaluation in ledger.finished():
        members = set(evaluation.datasets)
        if (members <= allowed and objective.covers(evaluation.scores)
                and constraints.violation(members, objective.targets) is None):
            groups.setdefault(tuple(sorted(members)), []).append(evaluation)
    reused = []
    for datasets, group in groups.items():
        names = dict.fromkeys(m for e in group for m in e.scores)
        scores = {}
        for member in names:
            values = [e.scores[member] for e in group if member in e.scores]
            scores[member] = sum(values) / len(values)
        reused.append(
            replace(group[-1], datasets=datasets, scores=scores, reused=True, iteration=0)
        )
    return reused


def run_search(
    target: str | Objective,
    candidates: Sequence[str],
    strategy: Strategy,
    evaluate: Callable[[tuple[str, ...]], Mapping[str, float]],
    ledger: Ledger,
    budget: int,
    patience: int | None,
    batch_size: int = 1,
    progress: Callable[[str], None] | None = print,
    executor: Executor | None = None,
    *,
    stopping: str = "auto",
    min_gain: float = 0.002,
    stop_probability: float = 0.05,
    stop_after: int = 3,
    max_failures: int = 3,
    retry_failed: bool = False,
    on_result: Callable[[int, Evaluation | Failure, float], None] | None = None,
    constraints: Constraints | None = None,
) -> SearchResult:
    """Search the combinations of ``target`` with ``candidates`` for the best target score.

    ``target`` is one dataset id or an :class:`Objective` (several targets, every combination
    holding all of them, their weighted mean maximised). ``constraints`` bound the combinations:
    their required datasets are in every combination beside the targets (not among
    ``candidates``, which are what the strategy chooses from), their excluded ones must not be
    among ``candidates``; the strategy is expected to keep to the size bounds (built with
    ``size_bounds``), and a proposal that breaks any constraint raises
    :class:`ConstraintViolation` before it is evaluated.

    Finished evaluations in the ledger whose members include the target and lie within the
    target and the candidates seed the history (``reused``, not counted against ``budget``).
    Then up to ``batch_size`` proposals of the strategy are evaluated at a time; each is
    recorded and added to the history the moment it finishes, and the strategy proposes its
    replacement from everything known by then. The search stops when ``budget`` new
    evaluations are spent, when the strategy proposes nothing, or by the ``stopping`` rule:

    * "patience": after ``patience`` new evaluations in a row that do not improve the best
      score (None: never);
    * "model": when the strategy's ``improvement_probability`` (the chance that some
      unevaluated combination beats the best observed by more than ``min_gain``) stays below
      ``stop_probability`` for ``stop_after`` proposals in a row; ``patience`` is not used;
    * "auto" (default): "model" for a strategy with a model (``strategy.has_model``),
      "patience" otherwise.

    An evaluation that raises is a :class:`Failure`: recorded in the ledger, shown to the
    strategy as a combination never to propose again, counted against ``budget``, and the search
    goes on; failures of an earlier search of the same fingerprint are known from the start
    (unless ``retry_failed``). More than ``max_failures`` failures in a row raise
    :class:`TooManyFailures` listing them (what finished is already in the ledger).

    ``on_result(n, evaluation_or_failure, best_score)`` is called after each new evaluation,
    ``n`` counting from 1 (a convergence curve for whoever tracks the search), and with ``n`` 0
    for each reused one before the first proposal.
    """
    candidates = tuple(candidates)
    objective = Objective.of(target)
    target = objective.name
    constraints = constraints or Constraints()
    fixed = (*objective.targets, *constraints.required)
    if len(set(candidates)) != len(candidates) or set(fixed) & set(candidates):
        raise ValueError(
            f"candidates must be distinct and exclude the target(s) {list(objective.targets)} "
            f"and the required datasets {list(constraints.required)}: {candidates}"
        )
    if set(fixed) & set(constraints.excluded) or set(candidates) & set(constraints.excluded):
        raise ValueError(
            f"the excluded datasets {list(constraints.excluded)} must be neither targets, required nor "
            f"candidates: targets {list(objective.targets)}, required {list(constraints.required)}, "
            f"candidates {candidates}"
        )
    if strategy.n_candidates != len(candidates):
        raise ValueError(
            f"the strategy was built for {strategy.n_candidates} candidates, "
            f"the search has {len(candidates)}"
        )
    if budget < 0 or batch_size < 1 or (patience is not None and patience < 1):
        raise ValueError(
            "need budget >= 0, batch_size >= 1, patience >= 1 or None; "
            f"got {budget}, {batch_size}, {patience}"
        )
    if stopping not in STOPPING_RULES:
        raise ValueError(f"stopping must be one of {STOPPING_RULES}, got {stopping!r}")
    if max_failures < 0:
        raise ValueError(f"need max_failures >= 0, got {max_failures}")
    if min_gain < 0 or not 0 <= stop_probability <= 1 or stop_after < 1:
        raise ValueError(
            "need min_gain >= 0, 0 <= stop_probability <= 1, stop_after >= 1; "
            f"got {min_gain}, {stop_probability}, {stop_after}"
        )
    if stopping == "model" and not strategy.has_model:
        raise ValueError(
            f"stopping='model' needs a strategy with a model; {type(strategy).__name__} has none"
        )
    by_model = stopping == "model" or (stopping == "auto" and strategy.has_model)
    executor = executor or InProcessExecutor()
    say = progress or (lambda _line: None)
    index = {name: i for i, name in enumerate(candidates)}

    def combination_of(datasets: Iterable[str]) -> frozenset[int]:
        return frozenset(index[d] for d in datasets if d in index)

    def datasets_of(combination: Iterable[int]) -> tuple[str, ...]:
        return tuple(sorted([*fixed, *(candidates[i] for i in combination)]))

    history = reusable_evaluations(ledger, objective, candidates, constraints)
    observations = [Observation(combination_of(e.datasets), objective(e.scores)) for e in history]
    evaluated = {o.combination for o in observations}

    failures: list[Failure] = []
    infeasible: set[frozenset[int]] = set()
    if not retry_failed and hasattr(ledger, "failed"):
        allowed = set(candidates) | set(fixed)
        for failure in ledger.failed():
            members = set(failure.datasets)
            feasible = members <= allowed and constraints.violation(members, objective.targets) is None
            combination = combination_of(members) if feasible else None
            if combination is None or combination in evaluated or combination in infeasible:
                continue
            infeasible.add(combination)
            failures.append(replace(failure, datasets=tuple(sorted(members)), reused=True, after=len(history)))
        if failures:
            say(f"skipping {len(failures)} combination(s) that failed before with this fingerprint "
                "(search.retry_failed: true evaluates them again)")

    best_score = max((o.score for o in observations), default=float("-inf"))
    best_datasets = next((e.datasets for e in history if objective(e.scores) == best_score), ())
    if on_result is not None:
        running_best = float("-inf")
        for evaluation in history:
            running_best = max(running_best, objective(evaluation.scores))
            on_result(0, evaluation, running_best)
    if history:
        say(
            f"reusing {len(history)} finished evaluation(s) for {target}; "
            f"best so far {best_score:.4f} ({'+'.join(best_datasets)})"
        )

    n_new = 0
    n_failed = 0  # new evaluations that failed (they count against the budget)
    failed_in_a_row: list[Failure] = []
    since_improvement = 0
    unlikely = 0  # proposals in a row with P(gain > min_gain) < stop_probability
    iteration = 0
    stop_reason = "budget" if budget == 0 else ""
    # Up to batch_size evaluations are in flight; whenever one finishes, the strategy proposes
    # a replacement from everything known by then, so a free worker never waits for the slowest
    # evaluation of a batch. With batch_size 1 this is plain propose-evaluate-repeat.
    in_flight: dict[frozenset[int], tuple[float | None, int]] = {}
    pool = executor.start(Guarded(evaluate))
    try:
        while not stop_reason:
            room = min(batch_size, budget - n_new - n_failed) - len(in_flight)
            if room > 0:
                # infeasible combinations are shown as pending: never proposed, never waited for
                proposals = strategy.propose_pending(observations, room, [*in_flight, *infeasible])
                fresh: dict[frozenset[int], float | None] = {}
                for proposal in proposals:
                    combination = frozenset(proposal.combination)
                    if any(not 0 <= i < len(candidates) for i in combination):
                        raise ValueError(f"strategy proposed invalid indices {sorted(combination)}")
                    if (combination in evaluated or combination in in_flight or combination in fresh
                            or combination in infeasible):
                        continue  # never evaluate a combination twice, whatever the strategy says
                    if len(fresh) < room:
                        broken = constraints.violation(datasets_of(combination), objective.targets)
                        if broken is not None:
                            raise ConstraintViolation(
                                f"{type(strategy).__name__} proposed {'+'.join(datasets_of(combination))}, "
                                f"outside the search's constraints ({constraints.describe()}): {broken}"
                            )
                        fresh[combination] = proposal.predicted
                if fresh:
                    iteration += 1
                    for combination, predicted_score in fresh.items():
                        in_flight[combination] = (predicted_score, iteration)
                        pool.submit(datasets_of(combination))
            if not in_flight:
                stop_reason = "strategy has nothing more to propose"
                break
            members, scores = pool.next_finished()
            datasets = tuple(members)
            combination = combination_of(datasets)
            predicted_score, proposed_in = in_flight.pop(combination)
            if not isinstance(scores, Failure):
                try:
                    _check_scores(datasets, scores, objective)
                except ValueError as exc:
                    scores = Failure(datasets, f"{type(exc).__name__}: {exc}")
            if isinstance(scores, Failure):
                failure = replace(scores, datasets=datasets, iteration=proposed_in, after=len(history))
                if hasattr(ledger, "record_failure"):
                    ledger.record_failure(failure)
                failures.append(failure)
                infeasible.add(combination)
                n_failed += 1
                failed_in_a_row.append(failure)
                if on_result is not None:
                    on_result(n_new + n_failed, failure, best_score)
                say(f"[{n_new + n_failed}/{budget}] {'+'.join(datasets)}: FAILED ({failure.reason}); "
                    "the combination is left out")
                if len(failed_in_a_row) > max_failures:
                    listed = "; ".join(f"{'+'.join(f.datasets)}: {f.reason}" for f in failed_in_a_row)
                    raise TooManyFailures(
                        f"{len(failed_in_a_row)} evaluations in a row failed (search.max_failures is "
                        f"{max_failures}): {listed}"
                    )
                if n_new + n_failed >= budget:
                    stop_reason = "budget"
                continue
            failed_in_a_row = []
            evaluation = Evaluation(
                datasets=datasets,
                scores=_check_scores(datasets, scores, objective),
                predicted=predicted_score,
                iteration=proposed_in,
            )
            ledger.record(evaluation)
            history.append(evaluation)
            score = objective(evaluation.scores)
            observations.append(Observation(combination, score))
            evaluated.add(combination)
            n_new += 1
            if score > best_score:
                best_score, best_datasets = score, datasets
                since_improvement = 0
            else:
                since_improvement += 1
            if on_result is not None:
                on_result(n_new + n_failed, evaluation, best_score)
            chance = None
            if by_model and n_new + n_failed < budget:
                # asked before each replacement proposal, from everything finished by then
                chance = strategy.improvement_probability(observations, min_gain)
                unlikely = unlikely + 1 if chance is not None and chance < stop_probability else 0
            say(
                f"[{n_new + n_failed}/{budget}] {'+'.join(datasets)}: {score:.4f}"
                + (
                    f" (predicted {evaluation.predicted:.4f})"
                    if evaluation.predicted is not None
                    else ""
                )
                + f"; best {best_score:.4f} ({'+'.join(best_datasets)})"
                + (f"; P(gain > {min_gain:g}) = {chance:.3f}" if chance is not None else "")
            )
            if n_new + n_failed >= budget:
                stop_reason = "budget"
            elif by_model and unlikely >= stop_after:
                stop_reason = (
                    f"converged: P(gain > {min_gain:g}) < {stop_probability:g} "
                    f"for {stop_after} proposals"
                )
            elif not by_model and patience is not None and since_improvement >= patience:
                stop_reason = "patience"
    finally:
        pool.close()  # a stopped search drops what is still queued or running

    summary = (
        f"search stopped ({stop_reason}) after {n_new} new and "
        f"{len(history) - n_new} reused evaluation(s)"
        + (f", {len(failures)} failed" if failures else "")
    )
    say(summary + (f"; best {best_score:.4f} ({'+'.join(best_datasets)})" if history else ""))
    raw = strategy.predict_all(observations)
    # a surrogate may predict every combination; those outside the size bounds are not answers
    predictions = None if raw is None else {
        datasets_of(c): v for c, v in raw.items()
        if constraints.violation(datasets_of(c), objective.targets) is None
    }
    return SearchResult(
        history=history,
        best=(best_datasets, best_score) if history else None,
        n_new=n_new,
        n_reused=len(history) - n_new,
        predictions=predictions,
        stop_reason=stop_reason,
        target=target,
        candidates=candidates,
        failures=failures,
        objective=objective,
        constraints=constraints,
        prior_weight=strategy.prior_weight(observations),
    )
