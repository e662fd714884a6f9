"""Scoring of a model on formatted evaluation sets: generate, parse, score per split and dataset."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pandas as pd

from mtlsearch.formatting.prompts import parse_response
from mtlsearch.scoring.generation import generate_responses
from mtlsearch.scoring.metrics import score_task

PRIMARY_METRIC = "f1"
DEFAULT_MAX_NEW_TOKENS = {"ner": 128, "re": 128, "ee": 64, "tc": 8}


def score_model(model, tokenizer, evaluation_sets: pd.DataFrame, scoring: Mapping):
    """Generate for every formatted example, parse, and score per split and dataset.

    ``tokenizer`` is the tokenizer itself or a ``Pretrained`` holding it. Returns
    (predictions table, ``{split: {dataset: metrics}}``, stats).
    """
    tokenizer = getattr(tokenizer, "value", tokenizer)
    max_new = {**DEFAULT_MAX_NEW_TOKENS, **dict(scoring.get("max_new_tokens") or {})}
    per_dataset_cap = dict(scoring.get("max_new_tokens_per_dataset") or {})
    batch_size = int(scoring.get("batch_size", 32))
    parts, metrics, generated, start = [], {}, 0, time.perf_counter()
    sets = evaluation_sets if "split" in evaluation_sets else evaluation_sets.assign(split="test")
    for (split, dataset), frame in sets.groupby(["split", "dataset"], sort=True):
        task = frame["task"].iloc[0]
        stats: dict = {}
        outputs = generate_responses(
            model, tokenizer, frame["prompt"].tolist(),
            max_new_tokens=int(per_dataset_cap.get(dataset, max_new[task])), batch_size=batch_size, stats=stats,
        )
        generated += stats.get("generated_tokens", 0)
        parsed = [parse_response(text) for text in outputs]
        gold = [list(items) for items in frame["items"]]
        metrics.setdefault(str(split), {})[str(dataset)] = {
            k: float(v) for k, v in score_task(task, gold, parsed).items() if isinstance(v, (int, float))
        }
        parts.append(
            pd.DataFrame(
                {
                    "split": split,
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
    stats = {"generated_tokens": generated, "scoring_wall_s": wall, "generated_tokens_per_s": generated / max(wall, 1e-9)}
    return pd.concat(parts, ignore_index=True), metrics, stats
