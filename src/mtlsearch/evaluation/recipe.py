"""One evaluation: the recipe that every part of the product runs for a combination.

formatting (the combination's mixture and its scoring sets) -> finetune (LoRA on a copy of the
base model) -> scoring (generation, parsing, set-F1 on the selection split and on test), as one
MLflow run. The ``evaluate`` pipeline runs the same stage functions as separate nodes; the
search runs :func:`evaluate_combination` for every combination it proposes (possibly on several
workers). A failure (an exception, a non-finite loss) ends the run as FAILED with its reason and
raises :class:`EvaluationFailed`; a run is tagged ``mtlsearch.status=finished`` only after
everything was logged, so nothing half-written looks like a result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import mtlsearch
from mtlsearch import tracking
from mtlsearch.combinations import combination_name, parse_combination
from mtlsearch.fingerprints import digest, examples_fingerprint
from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.finetune.lora import finetune_adapter
from mtlsearch.formatting.mixtures import (
    combination_evaluation_sets,
    combination_mixture,
    mixture_policy,
    selection_split,
)
from mtlsearch.scoring.score import PRIMARY_METRIC, score_model

log = logging.getLogger(__name__)


class EvaluationFailed(RuntimeError):
    """An evaluation did not finish; its MLflow run is marked FAILED with the reason."""


@dataclass
class EvaluationConfig:
    """Everything that affects an evaluation's scores."""

    formatting: Mapping
    finetune: Mapping
    scoring: Mapping
    seed: int = 0

    @property
    def selection_split(self) -> str:
        return selection_split(self.formatting)

    def payload(self, target: str | None = None) -> dict:
        payload = {
            "formatting": dict(self.formatting),
            "finetune": dict(self.finetune),
            "scoring": dict(self.scoring),
            "seed": self.seed,
        }
        if mixture_policy(self.formatting) == "fixed_target":
            # the mixture then depends on which member is the target
            payload["target"] = target
        return payload


def evaluation_fingerprint(
    config: EvaluationConfig, tokenizer: Pretrained, base_model: Pretrained, examples: pd.DataFrame,
    target: str | None = None,
) -> str:
    """Identifies what an evaluation's scores depend on, other than its combination: the
    configuration, the base artifacts, the data and the code version."""
    return digest(
        {
            "config": config.payload(target),
            "tokenizer": tokenizer.fingerprint,
            "base_model": base_model.fingerprint,
            "examples": examples_fingerprint(examples),
            "code_version": mtlsearch.__version__,
        }
    )


@dataclass
class EvaluationResult:
    datasets: tuple[str, ...]
    metrics: dict[str, dict[str, dict[str, float]]]  # split -> member -> metric -> value
    predictions: pd.DataFrame
    training: dict
    fingerprint: str
    selection_split: str = "dev"
    adapter: Any = None
    run_id: str | None = None
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def scores(self, metric: str = PRIMARY_METRIC, split: str | None = None) -> dict[str, float]:
        """Each member's ``metric`` on ``split`` (default: the split the search selects on)."""
        values = self.metrics[split or self.selection_split]
        return {member: float(v[metric]) for member, v in values.items()}


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


def evaluate_combination(
    datasets: str | Sequence[str],
    examples: pd.DataFrame,
    tokenizer: Pretrained,
    base_model: Pretrained,
    config: EvaluationConfig,
    *,
    fingerprint: str | None = None,
    target: str | None = None,
    tracking_run: bool = True,
    parent_run_id: str | None = None,
    experiment_id: str | None = None,
    run_id: str | None = None,
) -> EvaluationResult:
    """Fine-tune on the combination's mixture and score every member, as one MLflow run.

    The run is ``run_id`` when given (opened, and claimed, by the caller); else a new one that
    nests under ``parent_run_id`` when given (a search's run, also from another process such as
    a Ray worker), else under the active run if there is one.
    """
    datasets = parse_combination(datasets)
    fingerprint = fingerprint or evaluation_fingerprint(config, tokenizer, base_model, examples, target)
    start = time.perf_counter()
    if tracking_run and run_id is None:
        run_id = tracking.start_evaluation(
            datasets, fingerprint, evaluation_params(datasets, config, base_model, fingerprint),
            target=target, parent_run_id=parent_run_id, experiment=experiment_id,
        )
    try:
        mixture = combination_mixture(examples, datasets, config.formatting, config.seed, target)
        evaluation_sets = combination_evaluation_sets(examples, datasets, config.formatting)
        model, training = finetune_adapter(base_model, tokenizer, mixture, config.finetune, config.seed)
        predictions, metrics, scoring_stats = score_model(model, tokenizer, evaluation_sets, config.scoring)
        wall = time.perf_counter() - start
        result = EvaluationResult(
            datasets, metrics, predictions, {**training, **scoring_stats}, fingerprint,
            selection_split=config.selection_split, adapter=model, wall_s=wall,
        )
        if run_id is not None:
            tracking.finish_evaluation(
                run_id, metrics, result.selection_split, result.training, predictions, model, wall
            )
            result.run_id = run_id
        log.info("evaluation %s: %s in %.1f s", combination_name(datasets),
                 {d: round(m[PRIMARY_METRIC], 4) for d, m in metrics[result.selection_split].items()}, wall)
        return result
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if run_id is not None:
            tracking.fail_evaluation(run_id, reason)
        raise EvaluationFailed(f"evaluation of {combination_name(datasets)} failed: {reason}") from exc
