"""The search as the ``search`` pipeline runs it: settings, the tracked search, confirmation, outputs.

The evaluator (real fine-tunes or a score table, :mod:`mtlsearch.evaluation.evaluators`) is built
by its own node and handed in; the loop (:mod:`mtlsearch.search.loop`) decides nothing about
MLflow, which :mod:`mtlsearch.tracking` owns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from types import SimpleNamespace

import pandas as pd

from mtlsearch import tracking
from mtlsearch.combinations import combination_name
from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.evaluators import EvaluationCall, TrackedTable
from mtlsearch.search.confirm import confirm, extra_seeds, top_combinations
from mtlsearch.search.executors import make_executor
from mtlsearch.search.loop import Evaluation, Failure, Guarded, SearchResult, run_search
from mtlsearch.search.progress import SearchProgress
from mtlsearch.strategies import make_strategy
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
        """Whether the search ends with a confirmation: a fine-tune's scores are noisy; a table's
        only when noise is added to it."""
        if int(self.confirm.get("top_k", 0)) <= 0:
            return False
        if not extra_seeds(self.confirm.get("seeds", 0), self.seed):
            return False
        return self.evaluator != "table" or self.table_noise > 0


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


def search_candidates(settings: SearchSettings, evaluator) -> tuple[str, ...]:
    """The auxiliaries of the search: ``search.candidates``, else every other dataset."""
    ids = tuple(evaluator.ids)
    if settings.target not in ids:
        raise ConfigError(f"search.target {settings.target!r} is not among the evaluator's datasets {list(ids)}")
    candidates = tuple(settings.candidates) if settings.candidates else tuple(i for i in ids if i != settings.target)
    unknown = [c for c in candidates if c not in ids]
    if unknown:
        raise ConfigError(f"search.candidates {unknown} are not among the evaluator's datasets {list(ids)}")
    return candidates


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
    candidates = search_candidates(settings, evaluator)
    if strategy is None:
        strategy = make_strategy(settings.strategy, len(candidates), settings.seed, **dict(settings.strategy_options))
    if study is not None and hasattr(strategy, "attach_study"):
        strategy.attach_study(study)
    evaluate = EvaluationCall(
        evaluator, settings.metric, settings.target, tracking.tracking_uri(), ledger.experiment_id, parent_run_id
    )
    return run_search(
        settings.target, candidates, strategy, evaluate, ledger,
        budget=int(settings.budget), patience=settings.patience, batch_size=int(settings.batch_size),
        progress=progress or (lambda line: log.info("%s", line)), executor=executor,
        stopping=settings.stopping, min_gain=float(settings.min_gain),
        stop_probability=float(settings.stop_probability), stop_after=int(settings.stop_after),
        max_failures=int(settings.max_failures), retry_failed=bool(settings.retry_failed), on_result=on_result,
    )


def history_table(result: SearchResult, split: str = "dev") -> pd.DataFrame:
    """One row per evaluation in order: iteration, datasets, status (finished | failed), score
    (on ``split``; NaN for a failure), test score, predicted, reused, run id, and the failure's
    reason."""
    rows = []
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
                "score": evaluation.scores[result.target],
                "split": split,
                "test_score": evaluation.test_scores.get(result.target, math.nan),
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


def _confirm(evaluator, settings: SearchSettings, result: SearchResult, executor, run: tracking.SearchRun) -> dict:
    """Re-evaluate the top combinations and the target alone under the extra seeds, each seed
    through its own ledger (its own fingerprint): resumable, and reused by later searches."""
    target = settings.target
    alone = (target,)
    observed = {e.datasets: e.scores[target] for e in result.history}
    base = {e.datasets: (e.scores[target], e.test_scores.get(target)) for e in result.history}
    chosen = top_combinations(observed, result.predictions, alone, int(settings.confirm.get("top_k", 3)))
    seeds = extra_seeds(settings.confirm.get("seeds", 2), int(getattr(evaluator, "seed", settings.seed)))
    wanted = [alone, *chosen]
    answers: dict[tuple[int, tuple[str, ...]], tuple[float, float | None]] = {}
    for seed in seeds:
        seeded = evaluator.with_seed(seed)
        ledger = tracking.MlflowLedger(seeded.fingerprint, settings.metric, run.experiment_id, run.run_id)
        known = {e.datasets: e for e in ledger.finished()}
        missing = [d for d in wanted if d not in known or target not in known[d].scores]
        if missing:
            call = EvaluationCall(seeded, settings.metric, target, tracking.tracking_uri(), run.experiment_id, run.run_id)
            pool = executor.start(Guarded(call))
            try:
                for datasets in missing:
                    pool.submit(datasets)
                for _ in missing:
                    datasets, scores = pool.next_finished()
                    if isinstance(scores, Failure) or target not in scores:
                        # a failed confirmation leaves its row one seed short, not the search lost
                        failure = scores if isinstance(scores, Failure) else Failure(tuple(datasets), "no target score")
                        ledger.record_failure(failure)
                        log.warning("confirmation seed %d: %s failed: %s", seed, combination_name(datasets),
                                    failure.reason)
                        continue
                    evaluation = Evaluation(datasets=tuple(datasets), scores=dict(scores))
                    ledger.record(evaluation)
                    known[evaluation.datasets] = evaluation
                    log.info("confirmation seed %d: %s %.4f", seed, combination_name(datasets), scores[target])
            finally:
                pool.close()
        for datasets in wanted:
            evaluation = known.get(datasets)
            if evaluation is not None:
                answers[(seed, datasets)] = (evaluation.scores[target], evaluation.test_scores.get(target))
    return confirm(chosen, alone, int(getattr(evaluator, "seed", settings.seed)), base, seeds,
                   lambda seed, datasets: answers.get((seed, datasets)))


def tracked_search(evaluator, settings: SearchSettings, strategy=None, split: str = "dev") -> tuple[SearchResult, dict]:
    """:func:`search` under an MLflow parent run (the active run, else a new one), recording
    into the MLflow ledger, then the confirmation; returns the result and the best combination."""
    if isinstance(evaluator, TrackedTable):
        split = "table"
    tags = {
        tracking.TARGET: settings.target,
        tracking.STRATEGY: settings.strategy,
        tracking.EVALUATOR: settings.evaluator,
        tracking.FINGERPRINT: evaluator.fingerprint,
        tracking.SELECTION_SPLIT: split,
    }
    params = {f"search.{k}": v for k, v in settings.__dict__.items()}
    with tracking.SearchRun(f"search {settings.target}", tags, params) as run:
        tracking.reap_orphans(run.experiment_id, keep=run.run_id)
        ledger = tracking.MlflowLedger(evaluator.fingerprint, settings.metric, run.experiment_id, run.run_id)
        if not settings.reuse:
            ledger = OwnRunsLedger(ledger)
        candidates = search_candidates(settings, evaluator)
        storage = settings.optuna_storage or default_storage(tracking.tracking_uri())
        study = SearchStudy.open(
            storage, f"{settings.target} {settings.strategy} {run.run_id[:8]}", candidates,
            {"target": settings.target, "strategy": settings.strategy, "mlflow_run_id": run.run_id,
             "fingerprint": evaluator.fingerprint},
        )
        run.set_tags({tracking.OPTUNA_STORAGE: storage, tracking.OPTUNA_STUDY: study.study.study_name})
        index = {name: i for i, name in enumerate(candidates)}

        progress = SearchProgress(int(settings.budget), settings.target)

        def on_result(n: int, item, best_score: float) -> None:
            progress.on_result(n, item, best_score)
            run.log_progress(n, item, best_score)
            failed = isinstance(item, Failure)
            study.record(
                [index[d] for d in item.datasets if d != settings.target],
                None if failed else item.scores[settings.target],
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
                confirmation = _confirm(evaluator, settings, result, executor, run)
        best = best_combination(result, settings, evaluator.fingerprint, run.run_id, split, confirmation)
        run.log_metrics(
            {"best_score": best["score"], "evaluations_new": result.n_new, "evaluations_reused": result.n_reused,
             **({"best_test_score": best["test_score"]} if best["test_score"] is not None else {})}
        )
        run.set_tags({tracking.BEST: best["datasets"], **({"mtlsearch.verdict": confirmation["verdict"]} if confirmation else {})})
        log.info("best combination for %s: %s (%s %.4f on %s)", settings.target, best["datasets"], settings.metric,
                 best["score"], split)
        return result, best


def best_combination(result: SearchResult, settings: SearchSettings, fingerprint: str, run_id: str,
                     split: str, confirmation: dict | None) -> dict:
    """The search's answer: the confirmed pick (the best mean over seeds) when a confirmation
    ran, else the best observation; with its test score and the target alone's."""
    target = settings.target
    by_name = {combination_name(e.datasets): e for e in result.history}
    observed_datasets, observed_score = result.best if result.best else ((), float("nan"))
    alone = by_name.get(target)

    def test_of(name: str) -> float | None:
        evaluation = by_name.get(name)
        value = evaluation.test_scores.get(target) if evaluation else None
        return float(value) if value is not None else None

    if confirmation is not None:
        pick = confirmation["pick"]
        score = next(r["mean"] for r in confirmation["rows"] if r["datasets"] == pick)
        test_score = confirmation["pick_test_mean"]
        alone_score, alone_test = confirmation["alone_mean"], confirmation["alone_test_mean"]
    else:
        pick, score = combination_name(observed_datasets), float(observed_score)
        test_score = test_of(pick)
        alone_score = float(alone.scores[target]) if alone else None
        alone_test = test_of(target)
    if split == "table":
        test_score = score
        alone_test = alone_score
    return {
        "target": target,
        "datasets": pick,
        "score": float(score),
        "selection_split": split,
        "test_score": test_score,
        "target_alone_score": alone_score,
        "target_alone_test_score": alone_test,
        "best_observed": {"datasets": combination_name(observed_datasets), "score": float(observed_score)},
        "confirmation": None if confirmation is None else {
            k: confirmation[k] for k in ("seeds", "rows", "gain_over_alone", "verdict")
        },
        "metric": settings.metric,
        "strategy": settings.strategy,
        "evaluations_new": result.n_new,
        "evaluations_reused": result.n_reused,
        "evaluations_failed": len(result.failures),
        "candidates": list(result.candidates),
        "combinations": 2 ** len(result.candidates),
        "stop_reason": result.stop_reason,
        "fingerprint": fingerprint,
        "search_run_id": run_id,
        # what the search ran with, so that a report redrawn later draws what the search's drew
        "settings": {k: v for k, v in settings.__dict__.items() if isinstance(v, (str, int, float, bool, type(None)))},
    }
