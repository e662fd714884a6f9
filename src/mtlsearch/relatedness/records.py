"""The fine-tunes the relatedness signals need, through the MLflow ledger, and the signals' run.

* A dataset alone is an ordinary evaluation of the combination ``(dataset,)`` under the
  evaluator's fingerprint (claimed with :func:`mtlsearch.tracking.claim_evaluation`, recorded by
  :func:`mtlsearch.evaluation.recipe.evaluate_combination`): a target-alone or auxiliary-alone
  evaluation already in the store is reused (its logged adapter is loaded), and one made here is
  reused by every later search.
* PVI's null model (the same recipe with the inputs blanked) is a run of its own kind
  (``mtlsearch.kind=null_model``) under a fingerprint derived from the evaluation's, claimed and
  finished the same way, so that a rerun loads its adapter instead of training it again; being
  of another kind and fingerprint, it never enters a search's ledger.

MLflow is otherwise :mod:`mtlsearch.tracking`'s; this module only adds the null-model runs, the
loading of a logged adapter and the signals' run.
"""

from __future__ import annotations

import copy
import logging
import math
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mtlsearch import tracking
from mtlsearch.evaluation.evaluators import FinetuneEvaluator, membership_params
from mtlsearch.evaluation.recipe import (
    EvaluationFailed,
    evaluate_combination,
    evaluation_fingerprint,
    evaluation_params,
)
from mtlsearch.finetune.base_model import Pretrained, load_pretrained
from mtlsearch.finetune.lora import finetune_adapter, load_adapter
from mtlsearch.fingerprints import digest
from mtlsearch.formatting.mixtures import combination_mixture, mixture_policy
from mtlsearch.relatedness.pvi import blank_inputs

log = logging.getLogger(__name__)

NULL_MODEL_KIND = "null_model"
RELATEDNESS_KIND = "relatedness"


@dataclass
class TrackedModel:
    """A fine-tuned adapter on its base, with the run that recorded it."""

    model: Any
    run_id: str
    reused: bool
    seconds: float


def alone_fingerprint(evaluator: FinetuneEvaluator, dataset: str) -> str:
    """The fingerprint of ``dataset``'s evaluation alone: the evaluator's, except under the
    fixed_target mixture policy, where a combination of one is its own target."""
    if mixture_policy(evaluator.config.formatting) != "fixed_target":
        return evaluator.fingerprint
    return evaluation_fingerprint(evaluator.config, evaluator.tokenizer, evaluator.base_model, evaluator.examples, dataset)


def null_fingerprint(evaluator: FinetuneEvaluator, dataset: str) -> str:
    return digest({"null_model": "inputs blanked", "evaluation": alone_fingerprint(evaluator, dataset)})


def fresh_base(base_model: Pretrained):
    """A copy of the base model to put an adapter on (a named checkpoint is reloaded, as the
    fine-tune reloads it)."""
    if base_model.info.get("name_or_path"):
        return load_pretrained("model", base_model.info["name_or_path"], base_model.info)
    return copy.deepcopy(base_model.value)


def logged_adapter(run, base_model: Pretrained):
    """The adapter a finished run logged, loaded onto a fresh copy of the base model."""
    import mlflow

    run_id = run.info.run_id
    names = {a.path for a in tracking.client().list_artifacts(run_id)}
    if "adapter" not in names:
        raise EvaluationFailed(
            f"run {run_id} ({run.data.tags.get(tracking.DATASETS)}) has no adapter artifact to measure relatedness on"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="adapter", dst_path=tmp)
        model = load_adapter(fresh_base(base_model), path)
    return model


def alone_model(evaluator: FinetuneEvaluator, dataset: str, *, experiment_id: str | None = None,
                parent_run_id: str | None = None) -> TrackedModel:
    """``dataset``'s fine-tune alone: its evaluation from the ledger, else evaluated (and
    recorded) now."""
    start = time.perf_counter()
    datasets = (dataset,)
    fingerprint = alone_fingerprint(evaluator, dataset)
    params = {**evaluation_params(datasets, evaluator.config, evaluator.base_model, fingerprint),
              **membership_params(datasets, evaluator.ids)}
    run_id, other = tracking.claim_evaluation(datasets, fingerprint, params, target=dataset,
                                              parent_run_id=parent_run_id, experiment=experiment_id)
    if other is not None:
        log.info("relatedness: %s alone reuses evaluation run %s", dataset, other.info.run_id)
        return TrackedModel(logged_adapter(other, evaluator.base_model), other.info.run_id, True,
                            time.perf_counter() - start)
    result = evaluate_combination(datasets, evaluator.examples, evaluator.tokenizer, evaluator.base_model,
                                  evaluator.config, fingerprint=fingerprint, target=dataset, run_id=run_id)
    return TrackedModel(result.adapter, run_id, False, time.perf_counter() - start)


def null_model(evaluator: FinetuneEvaluator, dataset: str, *, experiment_id: str | None = None,
               parent_run_id: str | None = None) -> TrackedModel:
    """PVI's ``g'`` of ``dataset``: the alone evaluation's recipe and mixture with every input
    blanked; from its run when one finished, else trained and recorded now."""
    start = time.perf_counter()
    datasets = (dataset,)
    fingerprint = null_fingerprint(evaluator, dataset)
    config = evaluator.config
    params = {**evaluation_params(datasets, config, evaluator.base_model, fingerprint), "input": "blank",
              "evaluation_fingerprint": alone_fingerprint(evaluator, dataset)}
    run_id, other = tracking.claim_evaluation(datasets, fingerprint, params, target=dataset, parent_run_id=parent_run_id,
                                              experiment=experiment_id, extra_tags={tracking.KIND: NULL_MODEL_KIND})
    if other is not None:
        log.info("relatedness: %s's null model reuses run %s", dataset, other.info.run_id)
        return TrackedModel(logged_adapter(other, evaluator.base_model), other.info.run_id, True,
                            time.perf_counter() - start)
    try:
        mixture = combination_mixture(evaluator.examples, datasets, config.formatting, config.seed, dataset)
        model, training = finetune_adapter(evaluator.base_model, evaluator.tokenizer,
                                           blank_inputs(mixture, config.formatting), config.finetune, config.seed)
        wall = time.perf_counter() - start
        tracking.finish_evaluation(run_id, {}, config.selection_split, training, None, model, wall)
    except Exception as exc:
        tracking.fail_evaluation(run_id, f"{type(exc).__name__}: {exc}")
        raise EvaluationFailed(f"the null model of {dataset} failed: {type(exc).__name__}: {exc}") from exc
    return TrackedModel(model, run_id, False, time.perf_counter() - start)


class RelatednessRun:
    """The MLflow run of one signal computation: the active run (kedro-mlflow's run of the
    pipeline) when there is one, else a new run that this object ends. The evaluations and null
    models it needs nest under it."""

    def __init__(self, target: str, candidates):
        self.target = target
        self.candidates = list(candidates)
        self.owned = False
        self.run_id = ""
        self.experiment_id = ""

    def __enter__(self) -> RelatednessRun:
        import mlflow

        self.owned = mlflow.active_run() is None
        run = mlflow.start_run(run_name=f"relatedness {self.target}") if self.owned else mlflow.active_run()
        self.run_id, self.experiment_id = run.info.run_id, run.info.experiment_id
        tags = {f"{RELATEDNESS_KIND}.computed": "true", tracking.TARGET: self.target,
                tracking.CANDIDATES: "+".join(self.candidates), **tracking.process_tags()}
        if self.owned:
            tags[tracking.KIND] = RELATEDNESS_KIND
        tracking.client().log_batch(self.run_id, tags=[tracking._tag(k, v) for k, v in tags.items()])
        return self

    def log_table(self, table: pd.DataFrame) -> None:
        """The signal table as a table artifact, and each candidate's signals as metrics."""
        client = tracking.client()
        client.log_table(self.run_id, table, "relatedness.json")
        metrics = {}
        for row in table.to_dict("records"):
            name = row["candidate"]
            for column in ("gradts_tau", "pvi_mean", "pvi_pvalue", "cost_evaluations"):
                value = row.get(column)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    metrics[f"{column}.{name}"] = float(value)
        metrics["signal_cost_evaluations"] = float(table["cost_evaluations"].sum())
        tracking._log_metrics(self.run_id, metrics)

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        if exc_type is not None:
            try:
                tracking.client().set_tag(self.run_id, tracking.FAILURE_REASON, f"{exc_type.__name__}: {exc}"[:5000])
            except Exception:  # noqa: BLE001 - the computation's own error is the one to show
                pass
        if self.owned:
            mlflow.end_run(status="FAILED" if exc_type else "FINISHED")
