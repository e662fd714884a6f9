"""What answers a search's evaluations: the member scores of a combination.

:class:`FinetuneEvaluator` runs the recipe (:func:`mtlsearch.evaluation.recipe.evaluate_combination`),
a real fine-tune and scoring; :class:`TrackedTable` looks the scores up in a CSV
(:class:`mtlsearch.evaluation.table.TableEvaluator`), so that searches can be run, tested and
benchmarked without training; :class:`~mtlsearch.evaluation.external.PythonEvaluator` and
:class:`~mtlsearch.evaluation.external.CommandEvaluator` ask the user's own trainer (a function,
or a command that writes JSON). Either way each evaluation is one MLflow run, nested under the
search's run, and the MLflow store is the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from mtlsearch import tracking
from mtlsearch.combinations import parse_combination
from mtlsearch.evaluation.external import CommandEvaluator, PythonEvaluator
from mtlsearch.evaluation.recipe import (
    EvaluationConfig,
    evaluate_combination,
    evaluation_fingerprint,
    evaluation_params,
)
from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.finetune.base_model import Pretrained

EVALUATORS = ("finetune", "table", "python", "command")
# what each evaluator of EVALUATORS but the fine-tune is built from: search parameters alone
EXTERNAL_EVALUATORS = {"python": PythonEvaluator, "command": CommandEvaluator}


def membership_params(datasets: Sequence[str], ids: Sequence[str]) -> dict[str, int]:
    """``member.<id>``: 1 or 0 for every dataset the evaluator knows, so that MLflow's compare
    views can plot a score against membership (tags they cannot)."""
    members = set(datasets)
    return {f"member.{i}": int(i in members) for i in ids}


class FinetuneEvaluator:
    """Real evaluations: fine-tune on the mixture, score every member."""

    def __init__(self, examples: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained,
                 config: EvaluationConfig, target: str | None = None):
        self.examples = examples
        self.tokenizer = tokenizer
        self.base_model = base_model
        self.config = config
        self.seed = config.seed
        self.target = target
        self.fingerprint = evaluation_fingerprint(config, tokenizer, base_model, examples, target)
        self.ids = tuple(sorted(examples["dataset"].unique()))

    def with_seed(self, seed: int) -> FinetuneEvaluator:
        """The same evaluations under another seed (another fingerprint)."""
        return FinetuneEvaluator(self.examples, self.tokenizer, self.base_model,
                                 replace(self.config, seed=int(seed)), self.target)

    def evaluate(self, datasets: Sequence[str], *, metric: str, target: str | None = None,
                 parent_run_id: str | None = None, experiment_id: str | None = None) -> dict[str, float]:
        datasets = parse_combination(datasets)
        run_id, other = tracking.claim_evaluation(
            datasets, self.fingerprint,
            {**evaluation_params(datasets, self.config, self.base_model, self.fingerprint),
             **membership_params(datasets, self.ids)},
            target=target or self.target, parent_run_id=parent_run_id, experiment=experiment_id,
        )
        if other is not None:  # another search on the store evaluated it meanwhile
            return tracking.run_scores(other, datasets, metric)
        result = evaluate_combination(
            datasets, self.examples, self.tokenizer, self.base_model, self.config,
            fingerprint=self.fingerprint, target=target or self.target, run_id=run_id,
        )
        return result.scores(metric)


class TrackedTable:
    """Table look-ups logged as MLflow runs like real evaluations."""

    def __init__(self, table: TableEvaluator):
        self.table = table
        self.fingerprint = table.fingerprint
        self.ids = table.ids
        self.seed = table.seed

    def with_seed(self, seed: int) -> TrackedTable:
        return TrackedTable(self.table.with_seed(seed))

    def evaluate(self, datasets: Sequence[str], *, metric: str, target: str | None = None,
                 parent_run_id: str | None = None, experiment_id: str | None = None) -> dict[str, float]:
        params = {"evaluator": "table", "table": str(self.table.path), "table_noise": self.table.noise,
                  "seed": self.table.seed, **membership_params(datasets, self.ids)}
        return tracking.log_table_evaluation(
            tuple(datasets), lambda: self.table.evaluate(datasets), metric, self.fingerprint, params,
            experiment_id, parent_run_id, target,
        )


def table_evaluator(path, target: str, noise: float = 0.0, delay_s: float = 0.0, seed: int = 0) -> TrackedTable:
    return TrackedTable(TableEvaluator(path, target, noise, delay_s, seed))


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
        tracking.set_tracking_uri(self.tracking_uri)
        return self.evaluator.evaluate(
            datasets, metric=self.metric, target=self.target,
            parent_run_id=self.parent_run_id, experiment_id=self.experiment_id,
        )
