"""The search as the ``search`` pipeline runs it: evaluators, the MLflow parent run, outputs.

Two evaluators answer the same question (the member scores of a combination):
:class:`FinetuneEvaluator` runs :func:`mtlsearch.evaluation.recipe.evaluate_combination`, a real
fine-tune and scoring; :class:`mtlsearch.evaluation.table.TableEvaluator` looks the scores up in a
CSV, so that searches can be run, tested and benchmarked without training. Either way each
evaluation is one MLflow run, nested under the search's run, and the MLflow store is the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained, prepare_base_model, prepare_tokenizer
from mtlsearch.errors import ConfigError, reject_unknown
from mtlsearch.evaluation.recipe import EvaluationConfig, evaluate_combination, evaluation_fingerprint
from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.search.executors import make_executor
from mtlsearch.ingestion.examples import build_examples
from mtlsearch.search.loop import SearchResult, run_search
from mtlsearch.strategies import make_strategy
from mtlsearch.tracking import MlflowLedger, log_table_evaluation

log = logging.getLogger(__name__)

EVALUATORS = ("finetune", "table")


@dataclass
class SearchSettings:
    """The ``search`` parameters (conf/base/parameters_search.yml)."""

    target: str
    candidates: list[str] | None = None
    strategy: str = "surrogate"
    strategy_options: dict = field(default_factory=dict)
    budget: int = 12
    patience: int | None = 6
    batch_size: int = 1
    seed: int = 0
    metric: str = "f1"
    evaluator: str = "finetune"
    table_path: str | None = None
    table_noise: float = 0.0
    table_delay_s: float = 0.0
    executor: str = "local"
    ray: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping) -> SearchSettings:
        reject_unknown("search", params, cls.__dataclass_fields__)
        values = dict(params)
        if not values.get("target"):
            raise ConfigError("search.target: name the target dataset id")
        settings = cls(**values)
        if settings.evaluator not in EVALUATORS:
            raise ConfigError(f"search.evaluator: expected one of {EVALUATORS}, got {settings.evaluator!r}")
        if settings.evaluator == "table" and not settings.table_path:
            raise ConfigError("search.table_path: the table evaluator needs the path of a CSV")
        if isinstance(settings.candidates, str):
            settings.candidates = [c for c in settings.candidates.split("+") if c]
        if settings.patience in (0, "none", "None"):
            settings.patience = None
        return settings


class FinetuneEvaluator:
    """Real evaluations: fine-tune on the mixture, score every member."""

    def __init__(self, examples: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained, config: EvaluationConfig):
        self.examples = examples
        self.tokenizer = tokenizer
        self.base_model = base_model
        self.config = config
        self.seed = config.seed
        self.fingerprint = evaluation_fingerprint(config, tokenizer, base_model, examples)
        self.ids = tuple(sorted(examples["dataset"].unique()))

    def with_seed(self, seed: int) -> FinetuneEvaluator:
        """The same evaluations under another seed (another fingerprint)."""
        return FinetuneEvaluator(self.examples, self.tokenizer, self.base_model, replace(self.config, seed=int(seed)))

    def evaluate(self, datasets: Sequence[str], *, metric: str, target: str | None = None,
                 parent_run_id: str | None = None, experiment_id: str | None = None) -> dict[str, float]:
        result = evaluate_combination(
            datasets, self.examples, self.tokenizer, self.base_model, self.config,
            fingerprint=self.fingerprint, target=target, parent_run_id=parent_run_id, experiment_id=experiment_id,
        )
        return result.scores(metric)


class TrackedTable:
    """Table look-ups logged as MLflow runs like real evaluations."""

    def __init__(self, table: TableEvaluator):
        self.table = table
        self.fingerprint = table.fingerprint
        self.ids = table.ids

    def evaluate(self, datasets: Sequence[str], *, metric: str, target: str | None = None,
                 parent_run_id: str | None = None, experiment_id: str | None = None) -> dict[str, float]:
        scores = self.table.evaluate(datasets)
        params = {"evaluator": "table", "table": str(self.table.path), "table_noise": self.table.noise}
        log_table_evaluation(tuple(datasets), scores, metric, self.fingerprint, params, experiment_id, parent_run_id, target)
        return scores


def build_evaluator(
    raw_root, tokenizer_previous: Pretrained | None, base_model_previous: Pretrained | None,
    settings: SearchSettings, ingestion: Mapping, model: Mapping, formatting: Mapping,
    finetune: Mapping, scoring: Mapping, evaluate: Mapping,
):
    """What answers a search's evaluations, with the base artifacts it needs.

    The table evaluator needs neither data nor models: the base artifacts are passed through
    untouched (nothing is built or written).
    """
    if settings.evaluator == "table":
        table = TableEvaluator(settings.table_path, settings.target, settings.table_noise, settings.table_delay_s, settings.seed)
        keep = Pretrained(None, "", {})
        return table, tokenizer_previous or keep, base_model_previous or keep
    examples = build_examples(raw_root, ingestion)
    tokenizer = prepare_tokenizer(examples, tokenizer_previous, model)
    base_model = prepare_base_model(examples, tokenizer, base_model_previous, model)
    config = EvaluationConfig(formatting=formatting, finetune=finetune, scoring=scoring, seed=int(evaluate.get("seed", 0)))
    return FinetuneEvaluator(examples, tokenizer, base_model, config), tokenizer, base_model


@dataclass
class EvaluationCall:
    """One evaluation as a self-contained, picklable call, so that it can run on a worker of
    another process or machine: it carries the evaluator and where to track the run."""

    evaluator: object
    metric: str
    target: str
    tracking_uri: str
    experiment_id: str
    parent_run_id: str | None

    def __call__(self, datasets: tuple[str, ...]) -> dict[str, float]:
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        return self.evaluator.evaluate(
            datasets, metric=self.metric, target=self.target,
            parent_run_id=self.parent_run_id, experiment_id=self.experiment_id,
        )


def search(
    settings: SearchSettings,
    evaluator,
    ledger: MlflowLedger,
    progress=None,
    parent_run_id: str | None = None,
    executor=None,
    strategy=None,
) -> SearchResult:
    """Run the configured strategy (or ``strategy``, a built one) over the evaluator's datasets,
    recording into the ledger."""
    ids = tuple(evaluator.ids)
    if settings.target not in ids:
        raise ConfigError(f"search.target {settings.target!r} is not among the evaluator's datasets {list(ids)}")
    candidates = tuple(settings.candidates) if settings.candidates else tuple(i for i in ids if i != settings.target)
    unknown = [c for c in candidates if c not in ids]
    if unknown:
        raise ConfigError(f"search.candidates {unknown} are not among the evaluator's datasets {list(ids)}")
    if strategy is None:
        strategy = make_strategy(settings.strategy, len(candidates), settings.seed, **dict(settings.strategy_options))

    import mlflow

    evaluate = EvaluationCall(
        evaluator, settings.metric, settings.target, mlflow.get_tracking_uri(), ledger.experiment_id, parent_run_id
    )
    return run_search(
        settings.target, candidates, strategy, evaluate, ledger,
        budget=int(settings.budget), patience=settings.patience, batch_size=int(settings.batch_size),
        progress=progress or (lambda line: log.info("%s", line)), executor=executor,
    )


def history_table(result: SearchResult) -> pd.DataFrame:
    """One row per evaluation in order: iteration, datasets, score, predicted, reused, run id."""
    rows = []
    for order, evaluation in enumerate(result.history):
        rows.append(
            {
                "order": order,
                "iteration": evaluation.iteration,
                "datasets": "+".join(sorted(evaluation.datasets)),
                "size": len(evaluation.datasets),
                "score": evaluation.scores[result.target],
                "predicted": evaluation.predicted,
                "reused": bool(evaluation.reused),
                "run_id": evaluation.run_id,
                "member_scores": {k: float(v) for k, v in evaluation.scores.items()},
            }
        )
    frame = pd.DataFrame(rows, columns=["order", "iteration", "datasets", "size", "score", "predicted", "reused", "run_id", "member_scores"])
    frame["predicted"] = frame["predicted"].astype(float)
    frame["member_scores"] = frame["member_scores"].map(lambda d: "; ".join(f"{k}={v:.4f}" for k, v in sorted(d.items())))
    return frame


def predictions_table(result: SearchResult) -> pd.DataFrame:
    """The surrogate's prediction for every combination (empty for strategies without one)."""
    if not result.predictions:
        return pd.DataFrame({"datasets": pd.Series(dtype=str), "predicted": pd.Series(dtype=float), "evaluated": pd.Series(dtype=bool)})
    evaluated = {"+".join(sorted(e.datasets)) for e in result.history}
    rows = [{"datasets": "+".join(sorted(d)), "predicted": float(v)} for d, v in result.predictions.items()]
    frame = pd.DataFrame(rows).sort_values("predicted", ascending=False, ignore_index=True)
    frame["evaluated"] = frame["datasets"].isin(evaluated)
    return frame


def run_tracked_search(evaluator, settings: SearchSettings) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The search under an MLflow parent run (kedro-mlflow's run of the pipeline when active).

    Returns the history table, the best combination and the surrogate's predictions.
    """
    result, best = tracked_search(evaluator, settings)
    return history_table(result), best, predictions_table(result)


def tracked_search(evaluator, settings: SearchSettings, strategy=None) -> tuple[SearchResult, dict]:
    """:func:`search` under an MLflow parent run (the active run, else a new one), recording
    into the MLflow ledger; returns the result and a summary of the best combination."""
    import mlflow

    owned = mlflow.active_run() is None
    parent = mlflow.start_run(run_name=f"search {settings.target}") if owned else mlflow.active_run()
    try:
        parent_id = parent.info.run_id
        experiment_id = parent.info.experiment_id
        mlflow.set_tags(
            {
                "mtlsearch.kind": "search",
                "mtlsearch.target": settings.target,
                "mtlsearch.strategy": settings.strategy,
                "mtlsearch.evaluator": settings.evaluator,
                "mtlsearch.fingerprint": evaluator.fingerprint,
            }
        )
        if owned:
            mlflow.log_params({f"search.{k}": str(v)[:500] for k, v in settings.__dict__.items()})
        if isinstance(evaluator, TableEvaluator):
            evaluator = TrackedTable(evaluator)
        ledger = MlflowLedger(evaluator.fingerprint, settings.metric, experiment_id, parent_id)
        with make_executor(settings) as executor:
            result = search(settings, evaluator, ledger, parent_run_id=parent_id, executor=executor, strategy=strategy)
        best_datasets, best_score = result.best if result.best else ((), float("nan"))
        alone = [e.scores[settings.target] for e in result.history if e.datasets == (settings.target,)]
        best = {
            "target": settings.target,
            "datasets": "+".join(sorted(best_datasets)),
            "score": float(best_score),
            "target_alone_score": float(alone[0]) if alone else None,
            "metric": settings.metric,
            "strategy": settings.strategy,
            "evaluations_new": result.n_new,
            "evaluations_reused": result.n_reused,
            "candidates": list(result.candidates),
            "combinations": 2 ** len(result.candidates),
            "stop_reason": result.stop_reason,
            "fingerprint": evaluator.fingerprint,
            "search_run_id": parent_id,
        }
        mlflow.log_metrics(
            {"best_score": float(best_score), "evaluations_new": result.n_new, "evaluations_reused": result.n_reused}
        )
        mlflow.set_tag("mtlsearch.best", best["datasets"])
        log.info("best combination for %s: %s (%s %.4f)", settings.target, best["datasets"], settings.metric, best_score)
        return result, best
    finally:
        if owned:
            mlflow.end_run()
