"""Measure GradTS and PVI for a target and its candidates with real fine-tunes.

Per dataset (the target first): its fine-tune alone (from the ledger or evaluated now), GradTS's
head matrix from gradient passes on its training mixture, the log-probabilities of its PVI
examples under that model, then its null model and the same examples with the input blanked.
One model is in memory at a time.

Compute is counted in evaluation-equivalents: a fine-tune counts 1 whether it was made now or
reused (a search that started from an empty store would pay for it), a gradient pass on a batch
counts as that batch's share of a fine-tune's micro-batches (``max_steps * grad_accum`` batches
of ``batch_size``), and a forward pass a third of that (forward and backward cost about three
forwards).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping, Sequence

import pandas as pd

from mtlsearch.evaluation.evaluators import FinetuneEvaluator
from mtlsearch.formatting.mixtures import combination_mixture
from mtlsearch.relatedness import gradts, pvi
from mtlsearch.relatedness.records import RelatednessRun, alone_model, null_model
from mtlsearch.relatedness.signals import signal_table

log = logging.getLogger(__name__)

FORWARD_SHARE = 1.0 / 3.0


def finetune_batches(finetune: Mapping) -> float:
    """How many training micro-batches one fine-tune runs."""
    return float(int(finetune.get("max_steps", 100)) * int(finetune.get("grad_accum", 1)))


def measure_dataset(evaluator: FinetuneEvaluator, dataset: str, settings: Mapping, run: RelatednessRun) -> dict:
    """GradTS's matrix and the PVI values of one dataset, with what they took."""
    config = evaluator.config
    finetune = config.finetune
    gradts_cfg, pvi_cfg = settings["gradts"], settings["pvi"]
    train_batch = int(finetune.get("batch_size", 16))
    gradient_batch = int(gradts_cfg.get("batch_size") or train_batch)
    max_length = int(finetune.get("max_length", 256))
    per_finetune = finetune_batches(finetune)
    tokenizer = evaluator.tokenizer.value
    where = {"experiment_id": run.experiment_id, "parent_run_id": run.run_id}

    alone = alone_model(evaluator, dataset, **where)
    start = time.perf_counter()
    mixture = combination_mixture(evaluator.examples, (dataset,), config.formatting, config.seed, dataset)
    batches = gradts.encoded_batches(tokenizer, mixture[["prompt", "response"]].to_dict("records"), gradient_batch,
                                     max_length, int(gradts_cfg["batches"]))
    matrix = gradts.head_importance(alone.model, batches)
    gradient_s = time.perf_counter() - start

    start = time.perf_counter()
    examples = pvi.pvi_examples(evaluator.examples, dataset, int(pvi_cfg["examples"]), int(pvi_cfg["seed"]),
                                config.formatting, config.selection_split)
    blanked = pvi.blank_inputs(examples, config.formatting)
    batch_size = int(pvi_cfg["batch_size"])
    with_input = pvi.response_logprobs(alone.model, tokenizer, examples["prompt"], examples["response"], batch_size)
    logprob_s = time.perf_counter() - start
    del alone.model
    gc.collect()

    null = null_model(evaluator, dataset, **where)
    start = time.perf_counter()
    blank = pvi.response_logprobs(null.model, tokenizer, blanked["prompt"], blanked["response"], batch_size)
    logprob_s += time.perf_counter() - start
    del null.model
    gc.collect()

    gradient_cost = len(batches) * gradient_batch / train_batch / per_finetune
    forward_cost = FORWARD_SHARE * 2 * len(examples) / train_batch / per_finetune
    values = pvi.pvi_values(with_input, blank)
    log.info("relatedness: %s measured (%d gradient batches, %d PVI examples, mean PVI %.3f bits)",
             dataset, len(batches), len(values), float(values.mean()))
    return {
        "dataset": dataset,
        "head_importance": matrix.tolist(),
        "pvi": values.tolist(),
        "example_ids": examples["example_id"].astype(str).tolist(),
        "alone_run_id": alone.run_id,
        "alone_reused": alone.reused,
        "null_run_id": null.run_id,
        "null_reused": null.reused,
        "gradient_batches": len(batches),
        "gradts_cost_evaluations": 1.0 + gradient_cost,
        "pvi_cost_evaluations": 2.0 + forward_cost,
        "cost_evaluations": 2.0 + gradient_cost + forward_cost,
        "gradts_seconds": alone.seconds + gradient_s,
        "pvi_seconds": alone.seconds + null.seconds + logprob_s,
        "seconds": alone.seconds + gradient_s + null.seconds + logprob_s,
    }


def measure_relatedness(evaluator: FinetuneEvaluator, target: str, candidates: Sequence[str],
                        settings: Mapping) -> tuple[pd.DataFrame, dict]:
    """The signal table (:func:`mtlsearch.relatedness.signals.signal_table`) and every
    dataset's measurements, the target's first, under one MLflow run that holds the table."""
    with RelatednessRun(target, candidates) as run:
        datasets = {d: measure_dataset(evaluator, d, settings, run) for d in [target, *candidates]}
        measurements = {"target": target, "candidates": list(candidates), "settings": dict(settings),
                        "run_id": run.run_id, "datasets": datasets}
        table = signal_table(measurements, float(settings["pvi"]["alpha"]))
        run.log_table(table)
    return table, measurements
