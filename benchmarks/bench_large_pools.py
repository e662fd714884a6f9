"""Benchmark the search strategies on large candidate pools (N = 24 and 40), where the 2**N
combinations cannot be listed.

Landscapes: :class:`mtlsearch.landscape.functional.FunctionalLandscape`, both kinds
("additive": main effects, sparse pairs, dilution; "groups": saturating and threshold groups,
costs, dilution), six seeds each per set; the exact optimum of each is known. Seeds ``DEV_SEEDS``
were used while settling the surrogate's local search and its horseshoe model; seeds
``HELD_OUT_SEEDS`` were never run while settling either (100-102 only to report the figures of
the Gaussian model), and ``FRESH_SEEDS`` were first run for the figures of the horseshoe model
(200-202; 203-205 later, with 103-105, so that one landscape moves a share by 8%, not 17%: the
surrogate's searches do not repeat across machines, see the README); all three are printed
apart.

Every strategy (default options; ``surrogate:gaussian`` is the default strategy with
``model="gaussian"``, the model it used beyond 16 candidates before the horseshoe) runs through the strategy API directly (propose one, score it,
repeat; no MLflow, no ledger) with the landscape noise-free unless ``--noise`` is given. For each
strategy and N the table reports, averaged over the landscapes:

* regret@60, regret@100: the optimum's true score minus the true score of the pick (the best
  observed combination) after 60 and 100 evaluations, in score points (x100);
* within: the share of landscapes where a combination within ``--near`` points (0.3) of the
  optimum was evaluated within the budget;
* to-near: median evaluations until then (budget + 1 where never).

Then the default strategy's proposal time at N = 64 (``pool64``-like landscapes): seconds per
proposal, mean over evaluations 80-100 and the slowest after the initial design.

Run:  PYTHONPATH=src python benchmarks/bench_large_pools.py [--quick] [--jobs 2]
"""


from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from mtlsearch.landscape.functional import KINDS, FunctionalLandscape
from mtlsearch.strategies import Observation, make_strategy

DEV_SEEDS = tuple(range(6))
HELD_OUT_SEEDS = tuple(range(100, 106))
FRESH_SEEDS = tuple(range(200, 206))
STRATEGIES = ("surrogate", "surrogate:gaussian", "tpe", "greedy", "random")
CHECKPOINTS = (60, 100)


@dataclass
class Outcome:
    strategy: str
    n: int
    kind: str
    seed: int
    regret: dict[int, float]
    to_near: int | None
    seconds: float


def run_one(strategy_name: str, n: int, kind: str, seed: int, budget: int, noise: float, near: float) -> Outcome:
    landscape = FunctionalLandscape(n, seed, kind, noise_sd=noise)
    optimum = landscape.true_score(landscape.optimum_combination)
    name, _, model = strategy_name.partition(":")
    strategy = make_strategy(name, n, seed=1000 + seed, **({"model": model} if model else {}))
    history: list[Observation] = []
    truths: list[float] = []
    start = time.perf_counter()
    while len(history) < budget:
        proposals = strategy.propose(history, 1)
        if not proposals:
            break
        combination = proposals[0].combination
        history.append(Observation(combination, landscape.score(combination)))
        truths.append(landscape.true_score(combination))
    seconds = time.perf_counter() - start
    observed = [o.score for o in history]
    regret = {}
    for k in CHECKPOINTS:
        upto = max(1, min(k, len(history)))
        regret[k] = 100.0 * (optimum - truths[int(np.argmax(observed[:upto]))])
    hits = [k + 1 for k, t in enumerate(truths) if 100.0 * (optimum - t) <= near]
    return Outcome(strategy_name, n, kind, seed, regret, hits[0] if hits else None, seconds)


def proposal_times(n: int, seed: int, budget: int) -> tuple[float, float, int]:
    landscape = FunctionalLandscape(n, seed, "additive")
    strategy = make_strategy("surrogate", n, seed=seed)
    history: list[Observation] = []
    times = []
    design = None
    while len(history) < budget:
        start = time.perf_counter()
        proposals = strategy.propose(history, 1)
        times.append(time.perf_counter() - start)
        if proposals[0].predicted is not None and design is None:
            design = len(history)
        combination = proposals[0].combination
        history.append(Observation(combination, landscape.score(combination)))
    late = times[80:] or times
    return float(np.mean(late)), float(max(times[design or 0 :])), design or 0


def table(outcomes: list[Outcome], budget: int) -> list[str]:
    lines = [f"{'strategy':<18} {'regret@60':>9} {'regret@100':>10} {'within':>7} {'to-near':>7} {'s/run':>6}"]
    for name in dict.fromkeys(o.strategy for o in outcomes):
        mine = [o for o in outcomes if o.strategy == name]
        within = np.mean([o.to_near is not None for o in mine]) * 100
        to_near = statistics.median(o.to_near or budget + 1 for o in mine)
        lines.append(
            f"{name:<18} {np.mean([o.regret[60] for o in mine]):>9.3f} "
            f"{np.mean([o.regret[100] for o in mine]):>10.3f} {within:>6.0f}% {to_near:>7.1f} "
            f"{np.mean([o.seconds for o in mine]):>6.1f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="24,40")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.0, help="observation noise sd (score units)")
    parser.add_argument("--near", type=float, default=0.3, help="points from the optimum that count as found")
    parser.add_argument("--held-out", choices=("yes", "no", "only"), default="yes")
    parser.add_argument("--quick", action="store_true", help="one seed per kind, N = 24 only, no timing")
    parser.add_argument("--timing-n", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    strategies = [s for s in args.strategies.split(",") if s]
    dev, held, fresh = list(DEV_SEEDS), list(HELD_OUT_SEEDS), list(FRESH_SEEDS)
    if args.quick:
        sizes, dev, held, fresh = sizes[:1], dev[:1], held[:1], []
    seed_sets = {
        "dev": dev if args.held_out != "only" else [],
        "held-out": held if args.held_out != "no" else [],
        "fresh held-out": fresh if args.held_out != "no" else [],
    }
    jobs = [
        (part, name, n, kind, seed)
        for part, seeds in seed_sets.items()
        for n in sizes
        for kind in KINDS
        for seed in seeds
        for name in strategies
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, name, n, kind, seed, args.budget, args.noise, args.near)
                   for _, name, n, kind, seed in jobs]
        timing = None if args.quick else pool.submit(proposal_times, args.timing_n, 7, args.budget)
        outcomes = [f.result() for f in futures]
        timing = timing.result() if timing is not None else None
    elapsed = time.perf_counter() - start

    print(f"budget {args.budget}, noise sd {args.noise:g}, near = within {args.near:g} points of the optimum; "
          f"generators: FunctionalLandscape kinds {', '.join(KINDS)}")
    for part, seeds in seed_sets.items():
        if not seeds:
            continue
        for n in sizes:
            mine = [o for job, o in zip(jobs, outcomes) if job[0] == part and o.n == n]
            print(f"\nN = {n}, {part} seeds {seeds} x kinds {list(KINDS)} ({len(mine) // len(strategies)} landscapes)")
            print("\n".join(table(mine, args.budget)))
            per = {}
            for o in mine:
                if o.strategy == "surrogate":
                    per[f"{o.kind}-s{o.seed}"] = (o.regret[100], o.to_near)
            print("  surrogate per landscape (regret@100, to-near): "
                  + ", ".join(f"{k} {r:.2f}/{t or '-'}" for k, (r, t) in per.items()))
    if timing is not None:
        mean, worst, design = timing
        print(f"\nsurrogate proposal time at N = {args.timing_n} (additive, seed 7): {mean:.2f} s per proposal "
              f"at evaluations 80-{args.budget}, slowest after the {design}-evaluation design {worst:.2f} s")
    print(f"\n{len(outcomes)} searches in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
