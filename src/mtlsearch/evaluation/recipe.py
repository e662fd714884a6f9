"""One evaluation: LoRA-tune the base model on a combination's mixture, score every member.

:func:`evaluate_combination` is the unit of work of the whole product. The ``evaluate`` pipeline
runs it once; the search runs it for every combination it proposes (possibly on several
workers). Each call is one MLflow run (nested under the active run, e.g. a search's), with the
parameters, the metrics per member, and the predictions and adapter as artifacts. A failure (an
exception, a non-finite loss) ends the run as FAILED with its reason and raises
:class:`EvaluationFailed`; a run is tagged ``mtlsearch.status=finished`` only after everything
was logged, so nothing half-written looks like a result.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import mtlsearch
from mtlsearch.finetune.base_model import Pretrained, digest, examples_fingerprint
from mtlsearch.formatting.mixtures import combination_name, evaluation_subset, format_examples, parse_combination, training_mixture
from mtlsearch.formatting.prompts import parse_response

log = logging.getLogger(__name__)

PRIMARY_METRIC = "f1"
DEFAULT_MAX_NEW_TOKENS = {"ner": 128, "re": 128, "ee": 64, "tc": 8}


class EvaluationFailed(RuntimeError):
    """An evaluation did not finish; its MLflow run is marked FAILED with the reason."""


@dataclass
class EvaluationConfig:
    """Everything that affects an evaluation's scores."""

    formatting: Mapping
    finetune: Mapping
    scoring: Mapping
    seed: int = 0

    def payload(self) -> dict:
        return {
            "formatting": dict(self.formatting),
            "finetune": dict(self.finetune),
            "scoring": dict(self.scoring),
            "seed": self.seed,
        }


def evaluation_fingerprint(
    config: EvaluationConfig, tokenizer: Pretrained, base_model: Pretrained, examples: pd.DataFrame
) -> str:
    """Identifies what an evaluation's scores depend on, other than its combination: the
    configuration, the base artifacts, the data and the code version."""
    return digest(
        {
            "config": config.payload(),
            "tokenizer": tokenizer.fingerprint,
            "base_model": base_model.fingerprint,
            "examples": examples_fingerprint(examples),
            "code_version": mtlsearch.__version__,
        }
    )


@dataclass
class EvaluationResult:
    datasets: tuple[str, ...]
    metrics: dict[str, dict[str, float]]
    predictions: pd.DataFrame
    training: dict
    fingerprint: str
    adapter: Any = None
    run_id: str | None = None
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def scores(self, metric: str = PRIMARY_METRIC) -> dict[str, float]:
        return {member: float(values[metric]) for member, values in self.metrics.items()}


def finetune_stage(base_model: Pretrained, tokenizer: Pretrained, mixture: pd.DataFrame, finetune: Mapping, seed: int = 0):
    """LoRA-tune (a copy of) the base model on a formatted mixture; returns (model, stats)."""
    import copy

    from mtlsearch.finetune.training import finetune_lora

    # the evaluation's seed offsets the fine-tune's, so that repeated seeds measure its noise
    cfg = {**dict(finetune), "seed": int(finetune.get("seed", 0)) + int(seed)}
    # PEFT wraps the model in place: tune a copy so that the base stays clean for the next
    # evaluation (a named multi-GB checkpoint is reloaded instead of copied)
    if base_model.info.get("name_or_path"):
        from mtlsearch.finetune.base_model import load_pretrained

        model = load_pretrained("model", base_model.info["name_or_path"], base_model.info)
    else:
        model = copy.deepcopy(base_model.value)
    examples = mixture[["prompt", "response"]].to_dict("records")
    return finetune_lora(model, tokenizer.value, examples, cfg)


def scoring_stage(model, tokenizer: Pretrained, evaluation_sets: pd.DataFrame, scoring: Mapping):
    """Generate for every formatted test example, parse, score per dataset.

    Returns (predictions table, {dataset: metrics}, stats).
    """
    from mtlsearch.scoring.generation import generate_responses
    from mtlsearch.scoring.metrics import score_task

    max_new = {**DEFAULT_MAX_NEW_TOKENS, **dict(scoring.get("max_new_tokens") or {})}
    per_dataset_cap = dict(scoring.get("max_new_tokens_per_dataset") or {})
    batch_size = int(scoring.get("batch_size", 32))
    parts, metrics, generated, start = [], {}, 0, time.perf_counter()
    for dataset, frame in evaluation_sets.groupby("dataset", sort=True):
        task = frame["task"].iloc[0]
        stats: dict = {}
        outputs = generate_responses(
            model, tokenizer.value, frame["prompt"].tolist(),
            max_new_tokens=int(per_dataset_cap.get(dataset, max_new[task])), batch_size=batch_size, stats=stats,
        )
        generated += stats.get("generated_tokens", 0)
        parsed = [parse_response(text) for text in outputs]
        gold = [list(items) for items in frame["items"]]
        metrics[str(dataset)] = {
            k: float(v) for k, v in score_task(task, gold, parsed).items() if isinstance(v, (int, float))
        }
        parts.append(
            pd.DataFrame(
                {
                    "dataset": dataset,
                    "task": task,
                    "example_id": frame["example_id"].to_numpy(),
                    "input": frame["text"].to_numpy(),
                    "gold": gold,
                    "output": outputs,
                    "predicted": parsed,
                }
            )
        )
    wall = time.perf_counter() - start
    return pd.concat(parts, ignore_index=True), metrics, {"generated_tokens": generated, "scoring_wall_s": wall,
                                                          "generated_tokens_per_s": generated / max(wall, 1e-9)}


def evaluation_params(datasets: Sequence[str], config: EvaluationConfig, base_model: Pretrained, fingerprint: str) -> dict:
    """The MLflow parameters of an evaluation: flat, each value a short string."""
    flat: dict[str, Any] = {
        "combination": combination_name(datasets),
        "combination_size": len(datasets),
        "model": base_model.info.get("name_or_path") or "from-config",
        "base_model_fingerprint": base_model.fingerprint,
        "fingerprint": fingerprint,
        "code_version": mtlsearch.__version__,
        "seed": config.seed,
    }

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        else:
            flat[prefix] = value

    walk("finetune", config.finetune)
    walk("scoring", config.scoring)
    walk("mixture", config.formatting.get("mixture", {}))
    walk("evaluation", config.formatting.get("evaluation", {}))
    return {k: str(v)[:500] for k, v in flat.items()}


def run_tags(datasets: Sequence[str], fingerprint: str, target: str | None = None) -> dict[str, str]:
    tags = {
        "mtlsearch.kind": "evaluation",
        "mtlsearch.fingerprint": fingerprint,
        "mtlsearch.datasets": combination_name(datasets),
        "mtlsearch.size": str(len(datasets)),
    }
    tags.update({f"member.{d}": "1" for d in datasets})
    if target:
        tags["mtlsearch.target"] = target
    return tags


def evaluate_combination(
    datasets: str | Sequence[str],
    examples: pd.DataFrame,
    tokenizer: Pretrained,
    base_model: Pretrained,
    config: EvaluationConfig,
    *,
    fingerprint: str | None = None,
    target: str | None = None,
    tracking: bool = True,
    parent_run_id: str | None = None,
    experiment_id: str | None = None,
) -> EvaluationResult:
    """Fine-tune on the combination's mixture and score every member, as one MLflow run.

    The run nests under ``parent_run_id`` when given (a search's run, also from another process
    such as a Ray worker), else under the active run if there is one.
    """
    import mlflow

    datasets = parse_combination(datasets)
    fingerprint = fingerprint or evaluation_fingerprint(config, tokenizer, base_model, examples)
    start = time.perf_counter()
    run = None
    if tracking:
        active = mlflow.active_run()
        run = mlflow.start_run(
            run_name=combination_name(datasets),
            experiment_id=experiment_id,
            nested=active is not None,
            parent_run_id=parent_run_id if active is None else None,
            tags=run_tags(datasets, fingerprint, target),
        )
        mlflow.log_params(evaluation_params(datasets, config, base_model, fingerprint))
    try:
        mixing = config.formatting["mixture"]
        mixture = format_examples(
            training_mixture(examples, datasets, mixing["budget"], mixing.get("strategy", "equal"),
                             mixing.get("temperature", 2.0), int(mixing.get("seed", 0)) + config.seed),
            config.formatting,
        )
        subset = config.formatting["evaluation"]
        evaluation_sets = format_examples(
            evaluation_subset(examples, datasets, subset["max_examples"], subset.get("seed", 0)), config.formatting
        )
        model, training = finetune_stage(base_model, tokenizer, mixture, config.finetune, config.seed)
        predictions, metrics, scoring_stats = scoring_stage(model, tokenizer, evaluation_sets, config.scoring)
        wall = time.perf_counter() - start
        result = EvaluationResult(
            datasets, metrics, predictions, {**training, **scoring_stats}, fingerprint, adapter=model, wall_s=wall
        )
        if run is not None:
            _log_result(result)
            mlflow.set_tag("mtlsearch.status", "finished")
            result.run_id = run.info.run_id
            mlflow.end_run()
        log.info("evaluation %s: %s in %.1f s", combination_name(datasets),
                 {d: round(m[PRIMARY_METRIC], 4) for d, m in metrics.items()}, wall)
        return result
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if run is not None:
            mlflow.set_tag("mtlsearch.status", "failed")
            mlflow.set_tag("failure_reason", reason[:5000])
            mlflow.end_run(status="FAILED")
        raise EvaluationFailed(f"evaluation of {combination_name(datasets)} failed: {reason}") from exc


def _log_result(result: EvaluationResult) -> None:
    import mlflow

    metrics = {}
    for member, values in result.metrics.items():
        metrics.update({f"{member}.{name}": value for name, value in values.items()})
    for name in ("train_loss", "first_loss", "tokens_per_s", "wall_s", "steps", "trained_tokens",
                 "padding_fraction", "generated_tokens", "generated_tokens_per_s", "scoring_wall_s"):
        value = result.training.get(name)
        if isinstance(value, (int, float)):
            metrics[f"train.{name}" if name in ("wall_s",) else name] = float(value)
    metrics["evaluation_wall_s"] = result.wall_s
    mlflow.log_metrics(metrics)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.parquet"
        result.predictions.to_parquet(path)
        mlflow.log_artifact(str(path))
        if result.adapter is not None and hasattr(result.adapter, "peft_config"):
            adapter_dir = Path(tmp) / "adapter"
            result.adapter.save_pretrained(adapter_dir)
            mlflow.log_artifacts(str(adapter_dir), artifact_path="adapter")
