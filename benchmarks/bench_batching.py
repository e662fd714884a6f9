"""Training throughput of length-bucketed batches against naive pad-to-longest batches.

Both runs LoRA-tune copies of the same base model on the same NER+TC examples for the same
number of steps with the same seed; the only difference is ``bucketing``. Throughput counts
non-padding tokens per second of the training loop. A short untimed run first warms up the
allocator and the kernels, so that neither timed run pays for it.

Input: the canonical examples table (``--examples``, written by the ingestion pipeline); its
training examples of NER and TC datasets are used (``--datasets`` to choose). Without the file,
a synthetic mixture of the same shape is used, and the printout says so.

The model is the project's base model configuration (``model.config`` of
conf/base/parameters_finetune.yml) with random weights, or ``--model-config``.

Run:  PYTHONPATH=src python benchmarks/bench_batching.py [--steps 30] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from mtlsearch.finetune.modeling import build_model, train_tokenizer
from mtlsearch.formatting.prompts import build_prompt, serialize_items
from mtlsearch.finetune.training import finetune_lora

DEFAULT_EXAMPLES = "data/03_primary/examples.parquet"
FORMATTING = "conf/base/parameters_formatting.yml"
FINETUNE = "conf/base/parameters_finetune.yml"
TASK_INSTRUCTIONS = {
    "ner": "Extract every named entity mentioned in the input. Write one mention per line, or \"none\".",
    "tc": "Classify the input. Answer with its label.",
}
MODEL = {
    "config": {
        "hidden_size": 256,
        "intermediate_size": 688,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "max_position_embeddings": 1024,
    },
    "seed": 0,
}


def model_config(override: str | None = None) -> dict:
    """The base model's settings: ``override`` (JSON of LlamaConfig arguments), else the
    project's ``model.config``, else ``MODEL``."""
    if override:
        return {"config": json.loads(override), "seed": 0}
    path = Path(FINETUNE)
    if path.exists():
        import yaml

        model = (yaml.safe_load(path.read_text()) or {}).get("model") or {}
        if model.get("config") and not model.get("name_or_path"):
            return {"config": dict(model["config"]), "seed": int(model.get("seed", 0))}
    return MODEL


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--examples", default=DEFAULT_EXAMPLES)
    parser.add_argument("--model-config", default=None, help="JSON of LlamaConfig arguments")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on cores shared with other jobs, more threads spin-wait)",
    )


def instructions() -> tuple[dict, dict]:
    """Per-dataset and per-task instructions: the project's formatting settings if present."""
    path = Path(FORMATTING)
    if path.exists():
        import yaml

        params = (yaml.safe_load(path.read_text()) or {}).get("formatting", {})
        return dict(params.get("instructions") or {}), {**TASK_INSTRUCTIONS, **(params.get("default_instructions") or {})}
    return {}, dict(TASK_INSTRUCTIONS)


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    """NER sentences of 20-60 words with 0-6 mentions and TC sentences with one label, half each."""
    rng = random.Random(seed)
    words = (
        "the of patients with and in to was were a treatment study for after dose group risk "
        "increased associated compared than levels may should clinical trial therapy effect"
    ).split()
    entities = ["aspirin", "cisplatin", "heart failure", "hypertension", "lithium", "renal injury", "seizures"]
    labels = ["no advice", "weak advice", "strong advice"]
    rows = []
    for i in range(n):
        if i % 2 == 0:
            items = rng.sample(entities, rng.randint(0, 6))
            text = [rng.choice(words) for _ in range(rng.randint(20, 60) - len(items))]
            for item in items:
                text.insert(rng.randrange(len(text) + 1), item)
            rows.append({"dataset": "synthetic_ner", "task": "ner", "text": " ".join(text), "items": items})
        else:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 35)))
            rows.append({"dataset": "synthetic_tc", "task": "tc", "text": text, "items": [rng.choice(labels)]})
    return rows


def load_rows(path: str, datasets: list[str] | None, per_dataset: int, seed: int = 0) -> tuple[list[dict], str]:
    """Training rows of NER and TC datasets (``per_dataset`` of each), and where they came from."""
    if not Path(path).exists():
        return synthetic_rows(2 * per_dataset, seed), f"synthetic NER+TC mixture ({path} not found)"
    import pandas as pd

    table = pd.read_parquet(path, columns=["dataset", "task", "split", "text", "items"])
    table = table[(table["split"] == "train") & table["task"].isin(["ner", "tc"])]
    if datasets:
        table = table[table["dataset"].isin(datasets)]
    if table.empty:
        sys.exit(f"no NER or TC training examples in {path} for datasets {datasets}")
    parts = [
        frame.sample(n=min(per_dataset, len(frame)), random_state=seed) for _, frame in table.groupby("dataset")
    ]
    rows = pd.concat(parts).sample(frac=1.0, random_state=seed)
    names = ", ".join(f"{d} ({len(f)})" for d, f in rows.groupby("dataset"))
    return [
        {"dataset": r.dataset, "task": r.task, "text": r.text, "items": list(r.items)} for r in rows.itertuples()
    ], f"{path}: {names}"


def to_examples(rows: list[dict]) -> list[dict]:
    per_dataset, per_task = instructions()
    return [
        {
            "prompt": build_prompt(per_dataset.get(r["dataset"], per_task[r["task"]]), r["text"]),
            "response": serialize_items(r["items"]),
        }
        for r in rows
    ]


def main() -> None:
    # deprecation notices from inside the libraries would clutter the table
    warnings.filterwarnings("ignore", category=FutureWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--datasets", default=None, help="comma-separated; default every NER and TC dataset")
    parser.add_argument("--per-dataset", type=int, default=400)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows, source = load_rows(args.examples, args.datasets.split(",") if args.datasets else None, args.per_dataset)
    examples = to_examples(rows)
    tokenizer = train_tokenizer([r["text"] for r in rows] + [e["prompt"] + e["response"] for e in examples[::4]])
    base = build_model(model_config(args.model_config), tokenizer)
    cfg = {
        "max_steps": args.steps,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "lr": 2e-3,
        "seed": 0,
        "progress_bar": False,
    }
    print(f"examples: {source}; {len(examples)} examples")
    print(
        f"model: {sum(p.numel() for p in base.parameters()) / 1e6:.1f}M parameters, {args.steps} steps of "
        f"batch {args.batch_size}, torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}"
    )
    finetune_lora(copy.deepcopy(base), tokenizer, examples, {**cfg, "max_steps": 3})  # warm-up, untimed

    # The two ways alternate, `--repeats` times each, so that a change of machine load during the
    # run affects both alike; the medians are compared.
    runs: dict[str, list[dict]] = {"naive pad-to-longest": [], "length-bucketed": []}
    for repeat in range(args.repeats):
        for name, bucketing in (("naive pad-to-longest", False), ("length-bucketed", True)):
            start = time.perf_counter()
            _, stats = finetune_lora(copy.deepcopy(base), tokenizer, examples, {**cfg, "bucketing": bucketing})
            runs[name].append(stats)
            print(
                f"{name:>22} #{repeat + 1}: {stats['tokens_per_s']:8.0f} tokens/s  padding "
                f"{stats['padding_fraction']:6.1%}  tokens {stats['trained_tokens']:7d}  loss {stats['train_loss']:.3f}  "
                f"wall {time.perf_counter() - start:5.1f}s  dropped {stats['dropped_examples']}"
            )
    median = {name: statistics.median(s["tokens_per_s"] for s in stats) for name, stats in runs.items()}
    ratios = [b["tokens_per_s"] / n["tokens_per_s"] for n, b in zip(runs["naive pad-to-longest"], runs["length-bucketed"])]
    for name, value in median.items():
        print(f"{name:>22} median: {value:8.0f} tokens/s")
    print(
        f"{'ratio':>22}: {median['length-bucketed'] / median['naive pad-to-longest']:.2f}x of the medians "
        f"(per repeat {', '.join(f'{r:.2f}' for r in ratios)}; goal >= 1.5x)"
    )


if __name__ == "__main__":
    main()
