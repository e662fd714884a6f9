"""Benchmark the search strategies on the recorded real landscapes (docs/landscapes/**/*.csv).

Each recorded landscape scores every subset of a small pool of auxiliaries for one target, from
real fine-tunes (see docs/landscapes/README.md). Every strategy searches every landscape through
``run_search`` with the table evaluator, once per strategy seed, optionally with Gaussian noise
of the size measured for that landscape (``--noise``: each look-up is perturbed, regret is
judged on the recorded scores). For each strategy the table reports:

* median / mean evaluations until the recorded optimum was first evaluated (a search that never
  evaluates it counts as the number of combinations + 1);
* mean regret after 4 and 8 evaluations, in score points (x100): the optimum's score minus the
  recorded score of the combination the search would pick then (the best observed so far).

Run:  PYTHONPATH=src python benchmarks/bench_real_landscapes.py [--seeds 20] [--noise]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import STRATEGIES, make_strategy

CHECKPOINTS = (4, 8)
HERE = Path(__file__).resolve().parent.parent / "docs" / "landscapes"


def target_of(table: pd.DataFrame) -> str:
    """The member every combination has."""
    members = [set(d.split("+")) for d in table["datasets"]]
    common = set.intersection(*members)
    if len(common) != 1:
        raise ValueError(f"expected exactly one dataset in every combination, found {sorted(common)}")
    return common.pop()


def run_one(path: Path, name: str, strategy_name: str, seed: int, noise: float) -> dict:
    table = pd.read_csv(path)
    target = target_of(table)
    truth = dict(zip(table["datasets"], table["score"]))
    optimum = max(truth.values())
    evaluator = TableEvaluator(path, target, noise=noise, seed=seed)
    candidates = tuple(sorted(set(evaluator.ids) - {target}))
    strategy = make_strategy(strategy_name, len(candidates), seed=seed)
    result = run_search(
        target, candidates, strategy, evaluator.evaluate, InMemoryLedger(),
        budget=len(truth), patience=None, progress=None,
    )
    keys = ["+".join(e.datasets) for e in result.history]
    observed = [e.scores[target] for e in result.history]
    hits = [k + 1 for k, key in enumerate(keys) if truth[key] >= optimum]
    regret = {}
    for k in CHECKPOINTS:
        upto = min(k, len(keys))
        pick = keys[int(np.argmax(observed[:upto]))] if upto else None
        regret[k] = 100.0 * (optimum - (truth[pick] if pick else min(truth.values())))
    return {
        "landscape": name, "strategy": strategy_name, "seed": seed,
        "to_optimum": hits[0] if hits else len(truth) + 1, "regret": regret,
    }


def measured_noise(path: Path) -> float:
    summary = path.with_name(path.stem + ".summary.json")
    if not summary.exists():
        return 0.0
    return float(json.loads(summary.read_text())["noise_sd"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landscapes", default=str(HERE), help="folder of recorded landscape CSVs")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=20, help="strategy seeds per landscape")
    parser.add_argument("--noise", action="store_true", help="perturb look-ups by the measured seed noise")
    args = parser.parse_args(argv)

    # one folder per configuration: a landscape is named by its path below --landscapes
    root = Path(args.landscapes)
    paths = sorted(p for p in root.rglob("*.csv") if not p.stem.endswith("noise"))
    if not paths:
        print(f"no landscapes in {args.landscapes}", file=sys.stderr)
        return 1
    strategies = [s for s in args.strategies.split(",") if s]
    names = {p: p.relative_to(root).with_suffix("").as_posix() for p in paths}
    outcomes = [
        run_one(path, names[path], name, seed, measured_noise(path) if args.noise else 0.0)
        for path in paths for name in strategies for seed in range(args.seeds)
    ]
    sizes = {names[p]: len(pd.read_csv(p)) for p in paths}
    print(
        f"{len(paths)} recorded landscapes ({', '.join(f'{k}: {v}' for k, v in sizes.items())} combinations), "
        f"{args.seeds} seeds each, noise {'as measured' if args.noise else 'none'}"
    )
    header = f"{'strategy':<11} {'median evals':>12} {'mean evals':>10} " + " ".join(
        f"{'regret@' + str(k):>9}" for k in CHECKPOINTS
    )
    print(header)
    for name in strategies:
        mine = [o for o in outcomes if o["strategy"] == name]
        steps = [o["to_optimum"] for o in mine]
        print(
            f"{name:<11} {statistics.median(steps):>12.1f} {np.mean(steps):>10.2f} "
            + " ".join(f"{np.mean([o['regret'][k] for o in mine]):>9.3f}" for k in CHECKPOINTS)
        )
    print("\nmean evaluations to the optimum per landscape")
    print(f"{'strategy':<11} " + " ".join(f"{names[p]:>20}" for p in paths))
    for name in strategies:
        cells = [np.mean([o["to_optimum"] for o in outcomes if o["strategy"] == name and o["landscape"] == names[p]]) for p in paths]
        print(f"{name:<11} " + " ".join(f"{c:>20.2f}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
