"""Generation throughput of batched greedy decoding against one prompt per ``generate`` call.

Both ways decode the same prompts with the same model; the printout gives generated tokens per
second and examples per second of each, their ratio, and whether the outputs agree. The model
is the project's base model configuration (or ``--model-config``) with random weights; ``--pretrain-steps`` trains it briefly first
(an untrained model never says ``</s>``, so every answer then runs to ``--max-new-tokens``).

Input: test examples of the canonical table (``--examples``), or synthetic sentences when the
file does not exist (the printout says which).

Run:  PYTHONPATH=src python benchmarks/bench_generation.py [--prompts 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batching import add_common_arguments, instructions, model_config, synthetic_rows  # noqa: E402
from bench_batching import load_rows as training_rows  # noqa: E402

from mtlsearch.scoring.generation import generate_one_at_a_time, generate_responses  # noqa: E402
from mtlsearch.finetune.modeling import build_model, pretrain, train_tokenizer  # noqa: E402
from mtlsearch.formatting.prompts import build_prompt  # noqa: E402


def load_rows(path: str, n: int, seed: int = 0) -> tuple[list[dict], str]:
    if not Path(path).exists():
        return synthetic_rows(n, seed), f"synthetic NER+TC sentences ({path} not found)"
    import pandas as pd

    table = pd.read_parquet(path, columns=["dataset", "task", "split", "text", "items"])
    test = table[(table["split"] == "test") & table["task"].isin(["ner", "tc"])]
    rows = test.sample(n=min(n, len(test)), random_state=seed)
    names = ", ".join(f"{d} ({len(f)})" for d, f in rows.groupby("dataset"))
    return [{"dataset": r.dataset, "task": r.task, "text": r.text, "items": list(r.items)} for r in rows.itertuples()], (
        f"{path}, test split: {names}"
    )


def main() -> None:
    # deprecation notices from inside the libraries would clutter the table
    warnings.filterwarnings("ignore", category=FutureWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--pretrain-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows, source = load_rows(args.examples, args.prompts)
    per_dataset, per_task = instructions()
    prompts = [build_prompt(per_dataset.get(r["dataset"], per_task[r["task"]]), r["text"]) for r in rows]
    train_texts = [r["text"] for r in training_rows(args.examples, None, 1000)[0]]
    tokenizer = train_tokenizer(train_texts + prompts)
    model = build_model(model_config(args.model_config), tokenizer)
    if args.pretrain_steps:
        pretrain(
            model,
            tokenizer,
            train_texts,
            {"max_steps": args.pretrain_steps, "batch_size": 8, "block_size": 64, "progress_bar": False},
        )
    model.eval()
    prompt_tokens = sum(len(ids) for ids in tokenizer(prompts)["input_ids"])
    print(f"prompts: {source}; {len(prompts)} prompts, {prompt_tokens / len(prompts):.0f} tokens on average")
    print(
        f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, max_new_tokens "
        f"{args.max_new_tokens}, batch {args.batch_size}, torch threads {torch.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    generate_responses(model, tokenizer, prompts[:4], 4, batch_size=4)  # warm-up, untimed

    def one_at_a_time(max_new: int, stats: dict) -> list[str]:
        return generate_one_at_a_time(model, tokenizer, prompts, max_new, stats=stats)

    def batched(max_new: int, stats: dict) -> list[str]:
        return generate_responses(model, tokenizer, prompts, max_new, args.batch_size, stats=stats)

    results = {}
    for name, run in (("one at a time", one_at_a_time), ("batched", batched)):
        # the prompt pass alone (one new token), to separate it from the token-by-token part
        start = time.perf_counter()
        run(1, {})
        prefill = time.perf_counter() - start
        stats: dict = {}
        start = time.perf_counter()
        outputs = run(args.max_new_tokens, stats)
        wall = time.perf_counter() - start
        tokens = stats["generated_tokens"]
        decode_rate = (tokens - len(prompts)) / max(wall - prefill, 1e-9)
        results[name] = (outputs, tokens / wall, len(prompts) / wall, decode_rate)
        print(
            f"{name:>14}: {tokens / wall:8.1f} generated tokens/s  {len(prompts) / wall:6.2f} examples/s  "
            f"({tokens} tokens in {wall:.1f}s, of which {prefill:.1f}s the prompt pass; "
            f"{decode_rate:.0f} tokens/s after it)"
        )
    agree = sum(a == b for a, b in zip(results["batched"][0], results["one at a time"][0]))
    ratio = results["batched"][1] / results["one at a time"][1]
    decode_ratio = results["batched"][3] / results["one at a time"][3]
    print(
        f"{'ratio':>14}: {ratio:.1f}x generated tokens/s (goal >= 10x), {decode_ratio:.1f}x after the prompt "
        f"pass; outputs agree on {agree}/{len(prompts)}"
    )

if __name__ == "__main__":
    main()
