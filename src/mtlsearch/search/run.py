"""The search as the ``search`` pipeline runs it: settings, the tracked search, confirmation, outputs.

The evaluator (real fine-tunes or a score table, :mod:`mtlsearch.evaluation.evaluators`) is built
by its own node and handed in; the loop (:mod:`mtlsearch.search.loop`) decides nothing about
MLflow, which :mod:`mtlsearch.tracking` owns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd

from mtlsearch import tracking
from mtlsearch.combinations import combination_name
from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.evaluators import EvaluationCall, TrackedTable
from mtlsearch.search.confirm import confirm, extra_seeds, top_combinations
from mtlsearch.search.executors import make_executor
from mtlsearch.search.loop import (
    Constraints,
    ConstraintViolation,
    Evaluation,
    Failure,
    Guarded,
    Objective,
    SearchResult,
    run_search,
)
from mtlsearch.search.progress import SearchProgress
from mtlsearch.strategies import SizeBounds, make_strategy
from mtlsearch.study import SearchStudy, default_storage

log = logging.getLogger(__name__)

class SearchSettings(SimpleNamespace):
    """The ``search`` parameters as the search reads them: the values of
    :class:`mtlsearch.parameters.SearchParams`, which checks them (one place for their names,
    types, ranges and defaults)."""

    @classmethod
    def from_params(cls, params: Mapping) -> SearchSettings:
        from mtlsearch.parameters import SearchParams

        return cls(**SearchParams.from_params(params).to_dict())

    @property
    def confirms(self) -> bool:
        """Whether the search ends with a confirmation: a fine-tune's scores are noisy, and so
        are presumed those of the user's trainer (python, command); a table's only when noise is
        added to it."""
        if int(self.confirm.get("top_k", 0)) <= 0:
            return False
        if not extra_seeds(self.confirm.get("seeds", 0), self.seed):
            return False
        return self.evaluator != "table" or self.table_noise > 0

    @property
    def objective(self) -> Objective:
        """``search.targets`` (else ``search.target``) with ``search.target_weights``."""
        targets = getattr(self, "targets", None) or [self.target]
        return Objective(tuple(targets), getattr(self, "target_weights", None))

    @property
    def constraints(self) -> Constraints:
        return Constraints(
            tuple(getattr(self, "required", None) or ()), tuple(getattr(self, "excluded", None) or ()),
            int(getattr(self, "min_datasets", None) or 0), getattr(self, "max_datasets", None),
        )


class OwnRunsLedger:
    """``search.reuse: false``: the search starts as if the store were empty (so that strategies
    can be compared on one store); its own evaluations still enter the ledger."""

    def __init__(self, ledger: tracking.MlflowLedger):
        self.ledger = ledger
        self.experiment_id = ledger.experiment_id
        self._own: list[Evaluation] = []
        self._failed: list[Failure] = []

    def finished(self) -> list[Evaluation]:
        return list(self._own)

    def record(self, evaluation: Evaluation) -> None:
        self.ledger.record(evaluation)
        self._own.append(evaluation)

    def failed(self) -> list[Failure]:
        return list(self._failed)

    def record_failure(self, failure: Failure) -> None:
        self.ledger.record_failure(failure)
        self._failed.append(failure)


@dataclass(frozen=True)
class SearchSpace:
    """What a search ranges over: the objective, the constraints, and the ``pool`` of every
    auxiliary a combination may hold (the excluded ones left out, the required ones in)."""

    objective: Objective
    constraints: Constraints
    pool: tuple[str, ...]

    @property
    def candidates(self) -> tuple[str, ...]:
        """What the strategy chooses among: the pool less the required datasets, which every
        combination holds beside the targets."""
        return tuple(c for c in self.pool if c not in self.constraints.required)

    @property
    def fixed(self) -> tuple[str, ...]:
        """What every combination holds: the targets and the required datasets."""
        return tuple(sorted({*self.objective.targets, *self.constraints.required}))

    def size_bounds(self) -> SizeBounds | None:
        """The strategy's bounds (None: none), on the candidates it chooses."""
        bounds = self.constraints.size_bounds(len(self.candidates))
        return None if bounds is None else SizeBounds(*bounds)

    @property
    def n_combinations(self) -> int:
        """How many combinations keep to the constraints."""
        bounds = self.constraints.size_bounds(len(self.candidates)) or (0, None)
        high = len(self.candidates) if bounds[1] is None else bounds[1]
        return sum(math.comb(len(self.candidates), k) for k in range(bounds[0], high + 1))

    @property
    def baseline(self) -> tuple[str, ...] | None:
        """The smallest feasible combination, what a gain is measured against: the target alone
        without constraints, else with the required datasets; None when the size bounds rule it out."""
        fixed = self.fixed
        return fixed if self.constraints.violation(fixed, self.objective.targets) is None else None

    def baseline_reason(self) -> str:
        """Why there is no baseline ('' when there is one)."""
        if self.baseline is not None:
            return ""
        smallest = "the target(s) alone" if not self.constraints.required else "the target(s) with search.required"
        return (f"search.min_datasets {self.constraints.min_datasets} rules out {smallest} "
                f"({combination_name(self.fixed)}): no feasible combination to measure a gain against")


def search_space(settings: SearchSettings, evaluator) -> SearchSpace:
    """The objective, the constraints and the candidates, checked against the evaluator's
    datasets: a ConfigError for an unknown id or constraints that no combination meets, before
    the first evaluation."""
    ids = tuple(evaluator.ids)
    objective, constraints = settings.objective, settings.constraints
    targets = objective.targets
    key = "search.target" if objective.single else "search.targets"
    for target in targets:
        if target not in ids:
            raise ConfigError(f"{key} {target!r} is not among the evaluator's datasets {list(ids)}")
    candidates = tuple(settings.candidates) if settings.candidates else tuple(i for i in ids if i not in targets)
    unknown = [c for c in candidates if c not in ids]
    if unknown:
        raise ConfigError(f"search.candidates {unknown} are not among the evaluator's datasets {list(ids)}")
    for name, named in (("required", constraints.required), ("excluded", constraints.excluded)):
        outside = [i for i in named if i not in candidates]
        if outside:
            where = "search.candidates" if settings.candidates else "the evaluator's datasets other than the target(s)"
            raise ConfigError(f"search.{name} {outside} are not among {where} {list(candidates)}")
    both = sorted(set(constraints.required) & set(constraints.excluded))
    if both:
        raise ConfigError(f"search.required and search.excluded both name {both}; expected disjoint ids")
    pool = [c for c in candidates if c not in constraints.excluded]
    low, high = constraints.min_datasets, constraints.max_datasets
    if high is not None and (low > high or len(constraints.required) > high):
        raise ConfigError(f"search.max_datasets {high}: expected at least search.min_datasets ({low}) and the "
                          f"{len(constraints.required)} search.required ids")
    if low > len(pool):
        raise ConfigError(f"search.min_datasets {low}: expected at most the {len(pool)} auxiliaries left after "
                          f"search.excluded ({', '.join(pool) or 'none'})")
    return SearchSpace(objective, constraints, tuple(pool))


def search_candidates(settings: SearchSettings, evaluator) -> tuple[str, ...]:
    """The auxiliaries the strategy chooses among: ``search.candidates``, else every other
    dataset, less the excluded and the required ones."""
    return search_space(settings, evaluator).candidates


def search(
    settings: SearchSettings,
    evaluator,
    ledger: tracking.MlflowLedger,
    progress=None,
    parent_run_id: str | None = None,
    executor=None,
    strategy=None,
    on_result=None,
    study: SearchStudy | None = None,
) -> SearchResult:
    """Run the configured strategy (or ``strategy``, a built one) over the evaluator's datasets,
    recording into the ledger."""
    space = search_space(settings, evaluator)
    if strategy is None:
        bounds = space.size_bounds()
        strategy = make_strategy(settings.strategy, len(space.candidates), settings.seed,
                                 **({} if bounds is None else {"size_bounds": bounds}),
                                 **dict(settings.strategy_options))
    if study is not None and hasattr(strategy, "attach_study"):
        strategy.attach_study(study)
    evaluate = EvaluationCall(
        evaluator, settings.metric, space.objective.name, tracking.tracking_uri(), ledger.experiment_id, parent_run_id
    )
    return run_search(
        space.objective, space.candidates, strategy, evaluate, ledger,
        budget=int(settings.budget), patience=settings.patience, batch_size=int(settings.batch_size),
        progress=progress or (lambda line: log.info("%s", line)), executor=executor,
        stopping=settings.stopping, min_gain=float(settings.min_gain),
        stop_probability=float(settings.stop_probability), stop_after=int(settings.stop_after),
        max_failures=int(settings.max_failures), retry_failed=bool(settings.retry_failed), on_result=on_result,
        constraints=space.constraints,
    )


def history_table(result: SearchResult, split: str = "dev") -> pd.DataFrame:
    """One row per evaluation in order: iteration, datasets, status (finished | failed), score
    (the objective on ``split``: the target's score, or the targets' weighted mean; NaN for a
    failure), test score, predicted, reused, run id, every member's score, and the failure's
    reason."""
    rows = []
    objective = result.objective or Objective.of(result.target)

    def test_of(evaluation: Evaluation) -> float:
        return objective(evaluation.test_scores) if objective.covers(evaluation.test_scores) else math.nan
    failures = sorted(result.failures, key=lambda f: f.after)

    def failure_row(failure: Failure) -> dict:
        return {
            "iteration": failure.iteration, "datasets": combination_name(failure.datasets),
            "size": len(failure.datasets), "status": "failed", "score": math.nan, "split": split,
            "test_score": math.nan, "predicted": None, "reused": bool(failure.reused),
            "run_id": failure.run_id, "member_scores": {}, "failure_reason": failure.reason,
        }

    for position, evaluation in enumerate(result.history):
        while failures and failures[0].after <= position:
            rows.append(failure_row(failures.pop(0)))
        rows.append(
            {
                "iteration": evaluation.iteration,
                "datasets": combination_name(evaluation.datasets),
                "size": len(evaluation.datasets),
                "status": "finished",
                "score": objective(evaluation.scores),
                "split": split,
                "test_score": test_of(evaluation),
                "predicted": evaluation.predicted,
                "reused": bool(evaluation.reused),
                "run_id": evaluation.run_id,
                "member_scores": {k: float(v) for k, v in evaluation.scores.items()},
                "failure_reason": "",
            }
        )
    rows.extend(failure_row(f) for f in failures)
    for order, row in enumerate(rows):
        row["order"] = order
    columns = ["order", "iteration", "datasets", "size", "status", "score", "split", "test_score", "predicted",
               "reused", "run_id", "member_scores", "failure_reason"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["predicted"] = frame["predicted"].astype(float)
    frame["test_score"] = frame["test_score"].astype(float)
    frame["member_scores"] = frame["member_scores"].map(lambda d: "; ".join(f"{k}={v:.4f}" for k, v in sorted(d.items())))
    return frame


def predictions_table(result: SearchResult) -> pd.DataFrame:
    """The surrogate's prediction for every combination (empty for strategies without one)."""
    if not result.predictions:
        return pd.DataFrame({"datasets": pd.Series(dtype=str), "predicted": pd.Series(dtype=float), "evaluated": pd.Series(dtype=bool)})
    evaluated = {combination_name(e.datasets) for e in result.history}
    rows = [{"datasets": combination_name(d), "predicted": float(v)} for d, v in result.predictions.items()]
    frame = pd.DataFrame(rows).sort_values("predicted", ascending=False, ignore_index=True)
    frame["evaluated"] = frame["datasets"].isin(evaluated)
    return frame


def run_tracked_search(evaluator, settings: SearchSettings, split: str = "dev") -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The search under an MLflow parent run (kedro-mlflow's run of the pipeline when active).

    Returns the history table, the best combination and the surrogate's predictions.
    """
    result, best = tracked_search(evaluator, settings, split=split)
    return history_table(result, best["selection_split"]), best, predictions_table(result)


def _test_objective(objective: Objective, evaluation: Evaluation) -> float | None:
    return objective(evaluation.test_scores) if objective.covers(evaluation.test_scores) else None


def _confirm(evaluator, settings: SearchSettings, result: SearchResult, executor, run: tracking.SearchRun,
             space: SearchSpace | None = None) -> dict:
    """Re-evaluate the top combinations and the baseline (the target alone, or what the
    constraints make the smallest feasible combination) under the extra seeds, each seed through
    its own ledger (its own fingerprint): resumable, and reused by later searches. Scores are
    the objective's."""
    space = space or search_space(settings, evaluator)
    objective, alone = space.objective, space.baseline
    target = objective.name
    observed = {e.datasets: objective(e.scores) for e in result.history}
    base = {e.datasets: (objective(e.scores), _test_objective(objective, e)) for e in result.history}
    chosen = top_combinations(observed, result.predictions, alone, int(settings.confirm.get("top_k", 3)))
    seeds = extra_seeds(settings.confirm.get("seeds", 2), int(getattr(evaluator, "seed", settings.seed)))
    wanted = [alone, *chosen] if alone is not None else list(chosen)
    for datasets in wanted:
        broken = space.constraints.violation(datasets, objective.targets)
        if broken is not None:
            raise ConstraintViolation(f"the confirmation would evaluate {combination_name(datasets)}, outside "
                                      f"the search's constraints ({space.constraints.describe()}): {broken}")
    answers: dict[tuple[int, tuple[str, ...]], tuple[float, float | None]] = {}
    for seed in seeds:
        seeded = evaluator.with_seed(seed)
        ledger = tracking.MlflowLedger(seeded.fingerprint, settings.metric, run.experiment_id, run.run_id)
        known = {e.datasets: e for e in ledger.finished()}
        missing = [d for d in wanted if d not in known or not objective.covers(known[d].scores)]
        if missing:
            call = EvaluationCall(seeded, settings.metric, target, tracking.tracking_uri(), run.experiment_id, run.run_id)
            pool = executor.start(Guarded(call))
            try:
                for datasets in missing:
                    pool.submit(datasets)
                for _ in missing:
                    datasets, scores = pool.next_finished()
                    if isinstance(scores, Failure) or not objective.covers(scores):
                        # a failed confirmation leaves its row one seed short, not the search lost
                        failure = scores if isinstance(scores, Failure) else Failure(tuple(datasets), "no target score")
                        ledger.record_failure(failure)
                        log.warning("confirmation seed %d: %s failed: %s", seed, combination_name(datasets),
                                    failure.reason)
                        continue
                    evaluation = Evaluation(datasets=tuple(datasets), scores=dict(scores))
                    ledger.record(evaluation)
                    known[evaluation.datasets] = evaluation
                    log.info("confirmation seed %d: %s %.4f", seed, combination_name(datasets), objective(scores))
            finally:
                pool.close()
        for datasets in wanted:
            evaluation = known.get(datasets)
            if evaluation is not None:
                answers[(seed, datasets)] = (objective(evaluation.scores), _test_objective(objective, evaluation))
    return confirm(chosen, alone, int(getattr(evaluator, "seed", settings.seed)), base, seeds,
                   lambda seed, datasets: answers.get((seed, datasets)), space.baseline_reason())


def tracked_search(evaluator, settings: SearchSettings, strategy=None, split: str = "dev") -> tuple[SearchResult, dict]:
    """:func:`search` under an MLflow parent run (the active run, else a new one), recording
    into the MLflow ledger, then the confirmation; returns the result and the best combination."""
    if isinstance(evaluator, TrackedTable):
        split = "table"
    # before any run: an unknown id or constraints no combination meets leave the store untouched
    space = search_space(settings, evaluator)
    objective, constraints = space.objective, space.constraints
    target = objective.name
    tags = {
        tracking.TARGET: target,
        tracking.STRATEGY: settings.strategy,
        tracking.EVALUATOR: settings.evaluator,
        tracking.FINGERPRINT: evaluator.fingerprint,
        tracking.SELECTION_SPLIT: split,
        **({"mtlsearch.objective": objective.describe()} if not objective.single else {}),
        **({"mtlsearch.constraints": constraints.describe()} if constraints.active else {}),
    }
    params = {f"search.{k}": v for k, v in settings.__dict__.items()}
    with tracking.SearchRun(f"search {target}", tags, params) as run:
        tracking.reap_orphans(run.experiment_id, keep=run.run_id)
        ledger = tracking.MlflowLedger(evaluator.fingerprint, settings.metric, run.experiment_id, run.run_id)
        if not settings.reuse:
            ledger = OwnRunsLedger(ledger)
        candidates = space.candidates
        storage = settings.optuna_storage or default_storage(tracking.tracking_uri())
        study = SearchStudy.open(
            storage, f"{target} {settings.strategy} {run.run_id[:8]}", candidates,
            {"target": target, "strategy": settings.strategy, "mlflow_run_id": run.run_id,
             "fingerprint": evaluator.fingerprint,
             **({"targets": list(objective.targets), "target_weights": list(objective.weights)}
                if not objective.single else {}),
             **({"constraints": constraints.to_dict(), "fixed": list(space.fixed)} if constraints.active else {})},
        )
        run.set_tags({tracking.OPTUNA_STORAGE: storage, tracking.OPTUNA_STUDY: study.study.study_name})
        index = {name: i for i, name in enumerate(candidates)}

        progress = SearchProgress(int(settings.budget), target)

        def on_result(n: int, item, best_score: float) -> None:
            progress.on_result(n, item, best_score)
            failed = isinstance(item, Failure)
            run.log_progress(n, item, best_score, score=None if failed else objective(item.scores))
            study.record(
                [index[d] for d in item.datasets if d in index],
                None if failed else objective(item.scores),
                datasets=combination_name(item.datasets), reused=bool(item.reused), run_id=item.run_id or "",
                **({"failure_reason": item.reason[:1000]} if failed else {}),
            )

        with make_executor(settings) as executor, progress:
            try:
                result = search(settings, evaluator, ledger, parent_run_id=run.run_id, executor=executor,
                                strategy=strategy, on_result=on_result, study=study, progress=progress.say)
            finally:
                study.close()
            confirmation = None
            if result.history and settings.confirms:
                confirmation = _confirm(evaluator, settings, result, executor, run, space)
        best = best_combination(result, settings, evaluator.fingerprint, run.run_id, split, confirmation, space)
        run.log_metrics(
            {"best_score": best["score"], "evaluations_new": result.n_new, "evaluations_reused": result.n_reused,
             "signal_cost_evaluations": best["signal_cost_evaluations"],
             **({"prior_weight": best["prior_weight"]} if best["prior_weight"] is not None else {}),
             **({"best_test_score": best["test_score"]} if best["test_score"] is not None else {})}
        )
        verdict = confirmation["verdict"] if confirmation else None
        run.set_tags({tracking.BEST: best["datasets"], **({"mtlsearch.verdict": verdict} if verdict else {})})
        log.info("best combination for %s: %s (%s %.4f on %s)", target, best["datasets"], settings.metric,
                 best["score"], split)
        return result, best


def best_combination(result: SearchResult, settings: SearchSettings, fingerprint: str, run_id: str,
                     split: str, confirmation: dict | None, space: SearchSpace | None = None) -> dict:
    """The search's answer: the confirmed pick (the best mean over seeds) when a confirmation
    ran, else the best observation; with its test score and the baseline's.

    Scores are the objective's (the target's, or the weighted mean of ``targets``). The
    baseline is the target alone, or under constraints the smallest feasible combination
    (``baseline``; None, with ``baseline_reason``, when the bounds rule it out); its scores are
    ``target_alone_score`` and ``target_alone_test_score``."""
    if space is None:
        space = SearchSpace(result.objective or settings.objective, result.constraints,
                            (*result.candidates, *result.constraints.required))
    objective, constraints = space.objective, space.constraints
    target = objective.name
    by_name = {combination_name(e.datasets): e for e in result.history}
    observed_datasets, observed_score = result.best if result.best else ((), float("nan"))
    baseline = combination_name(space.baseline) if space.baseline is not None else None
    alone = by_name.get(baseline) if baseline is not None else None

    def test_of(name: str | None) -> float | None:
        evaluation = by_name.get(name) if name is not None else None
        value = _test_objective(objective, evaluation) if evaluation else None
        return float(value) if value is not None else None

    if confirmation is not None:
        pick = confirmation["pick"]
        score = next(r["mean"] for r in confirmation["rows"] if r["datasets"] == pick)
        test_score = confirmation["pick_test_mean"]
        alone_score, alone_test = confirmation["alone_mean"], confirmation["alone_test_mean"]
    else:
        pick, score = combination_name(observed_datasets), float(observed_score)
        test_score = test_of(pick)
        alone_score = float(objective(alone.scores)) if alone else None
        alone_test = test_of(baseline)
    if split == "table":
        test_score = score
        alone_test = alone_score
    total = sum(objective.weights)
    scalar = (str, int, float, bool, type(None))
    return {
        "target": target,
        "targets": list(objective.targets),
        "target_weights": [w / total for w in objective.weights],
        "objective": objective.describe(),
        "datasets": pick,
        "score": float(score),
        "selection_split": split,
        "test_score": test_score,
        "target_alone_score": alone_score,
        "target_alone_test_score": alone_test,
        "best_observed": {"datasets": combination_name(observed_datasets), "score": float(observed_score)},
        "baseline": baseline,
        "baseline_reason": space.baseline_reason(),
        "confirmation": None if confirmation is None else {
            k: confirmation.get(k) for k in ("seeds", "rows", "gain_over_alone", "verdict", "baseline",
                                             "baseline_reason")
        },
        "metric": settings.metric,
        "strategy": settings.strategy,
        "evaluations_new": result.n_new,
        "evaluations_reused": result.n_reused,
        "evaluations_failed": len(result.failures),
        # what a relatedness strategy's signals cost (evaluation-equivalents), to add to the above
        "signal_cost_evaluations": float(getattr(settings, "signal_cost_evaluations", 0.0)),
        # the surrogate's posterior weight of its relatedness prior (0: shrunk away; None: none)
        "prior_weight": result.prior_weight,
        "candidates": list(space.pool),
        "constraints": {**constraints.to_dict(), "description": constraints.describe()},
        "combinations": space.n_combinations,
        "stop_reason": result.stop_reason,
        "fingerprint": fingerprint,
        "search_run_id": run_id,
        # what the search ran with, so that a report redrawn later draws what the search's drew
        "settings": {
            **{k: v for k, v in settings.__dict__.items() if isinstance(v, scalar)},
            **constraints.to_dict(), "targets": list(objective.targets),
            "target_weights": getattr(settings, "target_weights", None),
        },
    }
