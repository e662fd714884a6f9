"""Benchmark the combination-search strategies on synthetic landscapes.

Every strategy searches every landscape through ``run_search`` (in-memory ledger, scores looked up
by ``TableEvaluator`` from the landscape's CSV). For each strategy the table reports:

* found@40: the share of landscapes where the true (noiseless) optimum was evaluated within 40
  evaluations;
* median / mean evaluations until the optimum was first evaluated, a landscape where it never was
  (within the budget, or because the strategy stopped) counting as budget + 1;
* near: median evaluations until a combination within 0.1 points (0.001) of the optimum was
  evaluated (the exact optimum often beats its runner-up by less than a test set can resolve);
* mean regret after 10, 20 and 40 evaluations, in score points (x100): the true optimum's score
  minus the true score of the combination the search would pick then (the best observed so far).

Run:  PYTHONPATH=src python benchmarks/bench_strategies.py [--batch-sizes 1,2,4,8]
"""

# ruff: noqa: E402 (the thread settings must precede the numpy import)
from __future__ import annotations

import os

# One BLAS thread per worker process: the workers already use every core.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.landscape.synthetic import FAMILIES, default_candidates, generate_landscape, write_table
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import STRATEGIES, make_strategy

TARGET = "t"
CHECKPOINTS = (10, 20, 40)
FOUND_WITHIN = 40
NEAR = 0.001


@dataclass
class Outcome:
    strategy: str
    family: str
    seed: int
    batch_size: int
    to_optimum: int | None  # evaluations until the optimum was first evaluated
    to_near: int | None  # evaluations until one within NEAR of the optimum
    regret: dict[int, float]
    n_evaluations: int
    seconds: float


def landscape_path(workdir: str, family: str, seed: int) -> Path:
    return Path(workdir) / f"{family}-{seed}.csv"


def run_one(
    strategy_name: str,
    family: str,
    seed: int,
    n: int,
    budget: int,
    batch_size: int,
    workdir: str,
    options: dict | None = None,
) -> Outcome:
    path = landscape_path(workdir, family, seed)
    if not path.exists():
        write_table(generate_landscape(family, n, seed, target=TARGET), path)
    table = pd.read_csv(path)
    truth = dict(zip(table["datasets"], table.get("true_score", table["score"])))
    optimum = max(truth, key=truth.get)
    evaluator = TableEvaluator(path, TARGET)
    candidates = default_candidates(n)
    strategy = make_strategy(strategy_name, n, seed=1000 + seed, **(options or {}))
    start = time.perf_counter()
    result = run_search(
        TARGET,
        candidates,
        strategy,
        evaluator.evaluate,
        InMemoryLedger(),
        budget=budget,
        patience=None,
        batch_size=batch_size,
        progress=None,
        stopping="patience",  # patience None: the budget alone, every strategy alike
    )
    seconds = time.perf_counter() - start
    keys = ["+".join(e.datasets) for e in result.history]
    observed = [e.scores[TARGET] for e in result.history]
    to_optimum = keys.index(optimum) + 1 if optimum in keys else None
    near = [k + 1 for k, key in enumerate(keys) if truth[optimum] - truth[key] <= NEAR]
    regret = {}
    for k in CHECKPOINTS:
        upto = min(k, len(keys))
        pick = keys[int(np.argmax(observed[:upto]))]
        regret[k] = 100.0 * (truth[optimum] - truth[pick])
    return Outcome(
        strategy_name,
        family,
        seed,
        batch_size,
        to_optimum,
        near[0] if near else None,
        regret,
        len(keys),
        seconds,
    )


def summarize(outcomes: list[Outcome], budget: int) -> list[str]:
    lines = [
        f"{'strategy':<11} {'found@40':>8} {'median':>6} {'mean':>6} {'near':>5} {'regret@10':>9} "
        f"{'regret@20':>9} {'regret@40':>9} {'evals':>6} {'s/run':>6}"
    ]
    for name in dict.fromkeys(o.strategy for o in outcomes):
        mine = [o for o in outcomes if o.strategy == name]
        steps = [o.to_optimum if o.to_optimum is not None else budget + 1 for o in mine]
        found = np.mean([s <= FOUND_WITHIN for s in steps]) * 100
        near = statistics.median(o.to_near or budget + 1 for o in mine)
        lines.append(
            f"{name:<11} {found:>7.0f}% {statistics.median(steps):>6.1f} {np.mean(steps):>6.1f} "
            f"{near:>5.1f} "
            + " ".join(f"{np.mean([o.regret[k] for o in mine]):>9.3f}" for k in CHECKPOINTS)
            + f" {np.mean([o.n_evaluations for o in mine]):>6.1f}"
            + f" {np.mean([o.seconds for o in mine]):>6.2f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=11, help="number of auxiliary candidates")
    parser.add_argument("--seeds", type=int, default=4, help="landscapes per family")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument(
        "--batch-sizes", default="", help="e.g. 1,2,4,8: the surrogate at each batch size"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--per-family", action="store_true", help="also print a table per family")
    args = parser.parse_args(argv)

    families = [f for f in args.families.split(",") if f]
    strategies = [s for s in args.strategies.split(",") if s]
    landscapes = [(f, s) for f in families for s in range(args.seeds)]
    jobs = [("table", name, f, s, 1) for name in strategies for f, s in landscapes]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b]
    jobs += [("batch", "surrogate", f, s, b) for b in batch_sizes for f, s in landscapes]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir, ProcessPoolExecutor(args.jobs) as pool:
        # Written once here, so that no worker reads a table while another writes it.
        for family, seed in landscapes:
            table = generate_landscape(family, args.n, seed, target=TARGET)
            write_table(table, landscape_path(workdir, family, seed))
        futures = [
            pool.submit(run_one, name, f, s, args.n, args.budget, b, workdir)
            for _, name, f, s, b in jobs
        ]
        outcomes = [future.result() for future in futures]
    elapsed = time.perf_counter() - start
    table = [o for job, o in zip(jobs, outcomes) if job[0] == "table"]
    batched = [o for job, o in zip(jobs, outcomes) if job[0] == "batch"]

    print(
        f"{len(landscapes)} landscapes (N={args.n}: {', '.join(families)} x {args.seeds} seeds), "
        f"budget {args.budget}, batch size 1; not found counts as {args.budget + 1}"
    )
    print("\n".join(summarize(table, args.budget)))
    if args.per_family:
        for family in families:
            print(f"\n{family}")
            print("\n".join(summarize([o for o in table if o.family == family], args.budget)))
    if batch_sizes:
        print("\nsurrogate by batch size (not found counts as budget + 1)")
        # b evaluations run at once and each finished one is replaced at once, so with equal
        # durations the k-th result arrives after ceil(k / b) evaluation durations
        header = ("batch", "found@40", "median evals", "mean evals", "median time")
        print("{:>5} {:>8} {:>12} {:>10} {:>11}".format(*header))
        for b in batch_sizes:
            mine = [o for o in batched if o.batch_size == b]
            steps = [o.to_optimum or args.budget + 1 for o in mine]
            times = [-(-step // b) for step in steps]
            found = np.mean([s <= FOUND_WITHIN for s in steps]) * 100
            print(
                f"{b:>5} {found:>7.0f}% {statistics.median(steps):>12.1f} {np.mean(steps):>10.1f} "
                f"{statistics.median(times):>11.1f}"
            )
    print(f"\n{len(outcomes)} searches in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
