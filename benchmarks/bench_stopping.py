"""Benchmark the search's stopping rules on landscapes of different structure.

The default strategy searches every landscape through ``run_search`` with default parameters and
``budget`` 60, under three stopping rules:

* model: the default (``stopping="auto"``, which is the model rule for the default strategy):
  stop when P(some unevaluated combination beats the best observed by > 0.002) < 0.05 for 3
  proposals in a row;
* patience 6: the rule the search had before (``stopping="patience"``, ``patience=6``);
* none: the budget alone (``patience=None``).

For each family (``mtlsearch.landscape.synthetic``: the ``GENERATORS``, observed with noise,
and some of the project's own ``FAMILIES``, marked "project"; N = 8..11 candidates by seed)
the table reports:

* found@40: the share of landscapes where the true (noiseless) optimum was evaluated within the
  first 40 evaluations, before the search stopped;
* evals: the median number of evaluations the search used;
* to-opt: the median number of evaluations until the optimum was first evaluated (inf where it
  never was);
* regret: the mean regret of the pick, in score points (x100): the optimum's true score minus
  the true score of the combination with the best observed score when the search stopped;
* stop<=20: the share of searches that stopped on their own within 20 evaluations (the
  "target_alone" family should stop early: nothing beats the target alone).

Then the recorded real landscapes (docs/landscapes, 16 combinations each, so the budget is all
of them), each look-up perturbed by Gaussian noise of the seed-noise sd measured for that
landscape, several noise draws each; regret there is judged on the recorded scores.

Seeds: the table uses landscape seeds from ``--first-seed`` (default 100); the surrogate's noise
and prior grid and its initial design were settled on seeds 0-7 of the other families (the
rule's thresholds are the defaults the issue asked for, checked there against looser ones).
``skills`` (``HELD_OUT``) was never run while tuning, at any seed: its rows are marked "held
out".

Run:  PYTHONPATH=src python benchmarks/bench_stopping.py [--seeds 32] [--jobs 2]
"""

from __future__ import annotations

import os

# One BLAS thread per worker process, set before numpy loads: the workers already use the cores.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.landscape.synthetic import (
    FAMILIES,
    GENERATORS,
    HELD_OUT,
    default_candidates,
    generate_landscape,
)
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import DEFAULT_STRATEGY, make_strategy

TARGET = "t"
FOUND_WITHIN = 40
STOPS_WITHIN = 20
RULES = {
    "model": {"stopping": "auto", "patience": 6},
    "patience 6": {"stopping": "patience", "patience": 6},
    "none": {"stopping": "patience", "patience": None},
}
REAL = Path(__file__).resolve().parent.parent / "docs" / "landscapes"


@dataclass
class Outcome:
    family: str
    seed: int
    rule: str
    found: bool
    n_evaluations: int
    regret: float
    stopped_early: bool  # on its own within STOPS_WITHIN
    stop_reason: str
    to_optimum: float = float("inf")  # new evaluations until the optimum was evaluated (inf: never)


def _search(target, candidates, evaluate, truth, rule, seed, budget) -> Outcome:
    strategy = make_strategy(DEFAULT_STRATEGY, len(candidates), seed=seed)
    result = run_search(
        target, candidates, strategy, evaluate, InMemoryLedger(),
        budget=budget, progress=None, **RULES[rule],
    )
    keys = ["+".join(e.datasets) for e in result.history]
    optimum = max(truth.values())
    pick = "+".join(result.best[0])
    first = next((i + 1 for i, k in enumerate(keys) if truth[k] >= optimum), None)
    return Outcome(
        to_optimum=float(first) if first is not None else float("inf"),
        family="",
        seed=seed,
        rule=rule,
        found=any(truth[k] >= optimum for k in keys[:FOUND_WITHIN]),
        n_evaluations=result.n_new,
        regret=100.0 * (optimum - truth[pick]),
        stopped_early=result.n_new <= STOPS_WITHIN and result.stop_reason != "budget"
        and not result.stop_reason.startswith("strategy"),
        stop_reason=result.stop_reason,
    )


def run_synthetic(family: str, seed: int, rule: str, budget: int) -> Outcome:
    n = 8 + seed % 4
    table = generate_landscape(family, n, seed, target=TARGET)
    observed = dict(zip(table["datasets"], table["score"]))
    truth = dict(zip(table["datasets"], table.get("true_score", table["score"])))

    def evaluate(datasets):
        return {TARGET: observed["+".join(datasets)]}

    outcome = _search(TARGET, default_candidates(n), evaluate, truth, rule, 1000 + seed, budget)
    outcome.family = family
    return outcome


def real_paths(root: Path = REAL) -> list[Path]:
    return sorted(p for p in root.rglob("*.csv") if not p.stem.endswith("noise"))


def run_real(path: str, seed: int, rule: str, budget: int) -> Outcome:
    path = Path(path)
    summary = json.loads(path.with_name(path.stem + ".summary.json").read_text())
    table = pd.read_csv(path)
    target = summary["target"]
    truth = dict(zip(table["datasets"], table["score"]))
    evaluator = TableEvaluator(path, target, noise=float(summary["noise_sd"]), seed=seed)
    candidates = tuple(sorted(set(evaluator.ids) - {target}))
    outcome = _search(target, candidates, evaluator.evaluate, truth, rule, seed, budget)
    outcome.family = "real:" + path.relative_to(REAL).with_suffix("").as_posix()
    return outcome


def summarize(label: str, mine: list[Outcome], note: str = "") -> list[str]:
    lines = []
    for rule in RULES:
        rows = [o for o in mine if o.rule == rule]
        if not rows:
            continue
        lines.append(
            f"{label:<34} {note:<9} {rule:<11} {np.mean([o.found for o in rows]) * 100:>7.0f}% "
            f"{statistics.median(o.n_evaluations for o in rows):>6.1f} "
            f"{statistics.median(o.to_optimum for o in rows):>7.1f} "
            f"{np.mean([o.regret for o in rows]):>7.3f} "
            f"{np.mean([o.stopped_early for o in rows]) * 100:>7.0f}%"
        )
        label, note = "", ""
    return lines


HEADER = (
    f"{'landscapes':<34} {'':<9} {'rule':<11} {'found@40':>8} {'evals':>6} {'to-opt':>7} {'regret':>7} "
    f"{'stop<=20':>8}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--families", default=",".join(GENERATORS + ("pairwise", "mixed", "noisy"))
    )
    parser.add_argument("--seeds", type=int, default=32, help="landscapes per family")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--real-seeds", type=int, default=10, help="noise draws per real one")
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    families = [f for f in args.families.split(",") if f]
    rules = [r for r in args.rules.split(",") if r]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    paths = real_paths() if args.real_seeds > 0 else []
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        synthetic = [
            pool.submit(run_synthetic, f, s, r, args.budget)
            for f in families for s in seeds for r in rules
        ]
        real = [
            pool.submit(run_real, str(p), s, r, args.budget)
            for p in paths for s in range(args.real_seeds) for r in rules
        ]
        synthetic = [f.result() for f in synthetic]
        real = [f.result() for f in real]
    elapsed = time.perf_counter() - start

    print(
        f"default strategy ({DEFAULT_STRATEGY}), default parameters, budget {args.budget}; "
        f"{args.seeds} landscapes per family (seeds {seeds.start}-{seeds.stop - 1}, "
        "N = 8..11)"
    )
    print("rules: model = stopping 'auto' (the default), patience 6 = the former default, "
          "none = budget only")
    print(HEADER)
    for family in families:
        note = "held out" if family in HELD_OUT else ("project" if family in FAMILIES else "")
        print("\n".join(summarize(family, [o for o in synthetic if o.family == family], note)))
    others = [o for o in synthetic if o.family not in HELD_OUT and o.family in GENERATORS]
    if others:
        print("\n".join(summarize("all new generators but skills", others)))
    if paths:
        print(
            f"\nrecorded landscapes (16 combinations each), look-ups with the measured seed-noise "
            f"sd, {args.real_seeds} noise draws each; found = the recorded optimum evaluated"
        )
        print(HEADER)
        for path in paths:
            name = "real:" + path.relative_to(REAL).with_suffix("").as_posix()
            print("\n".join(summarize(name, [o for o in real if o.family == name])))
        print("\n".join(summarize("all recorded", real)))
    stops = [o for o in synthetic if o.family == "target_alone" and o.rule == "model"]
    if stops:
        counts = sorted(o.n_evaluations for o in stops)
        print(f"\ntarget_alone, model rule: evaluations until it stopped on its own: {counts}")
    print(f"\n{len(synthetic) + len(real)} searches in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
