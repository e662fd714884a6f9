"""Do GradTS and PVI predict transfer on recorded landscapes, and what do they save?

For each recorded landscape (docs/landscapes) whose target and pool the measurements cover
(``relatedness_measurements`` JSON of ``kedro run --pipeline relatedness``, which holds every
dataset's head-importance matrix and PVI values, so any of them can be the target):

* the signals against the auxiliaries' measured effects (mean score with minus without, from the
  landscape's summary): Kendall's tau between GradTS's tau and the effect, and between PVI
  group membership and the effect, each with its p-value (4 auxiliaries: a p-value under 0.05
  needs a perfect ranking);
* evaluations until the recorded optimum was first evaluated, searching the landscape with each
  look-up perturbed by its measured seed-noise sd (``--draws`` noise draws), for ``gradts``
  (thres, trial), ``pvi``, the default strategy with each prior and without; with the signal's
  compute added in evaluation-equivalents (the measurements' own count: one per single-dataset
  fine-tune, PVI's null models too, gradient and forward passes as a share of a fine-tune).
  A strategy that stops without the optimum counts as never (shown as inf; the mean counts it
  as 17, one more than the 16 combinations).

Run:  PYTHONPATH=src python benchmarks/bench_signals.py MEASUREMENTS.json [--draws 20]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.relatedness.signals import prior_effects, signal_cost, signal_table, strategy_options
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import make_strategy

REAL = Path(__file__).resolve().parent.parent / "docs" / "landscapes"
NEVER = 17

SEARCHES = {
    "surrogate": ("surrogate", {}, None),
    "surrogate, GradTS prior": ("surrogate", {"prior": "gradts"}, "gradts"),
    "surrogate, PVI prior": ("surrogate", {"prior": "pvi"}, "pvi"),
    "gradts thres": ("gradts", {"variant": "thres"}, "gradts"),
    "gradts trial": ("gradts", {"variant": "trial"}, "gradts"),
    "pvi": ("pvi", {}, "pvi"),
}


def signals_for(measurements: dict, target: str, pool: list[str]) -> pd.DataFrame:
    return signal_table({**measurements, "target": target, "candidates": list(pool)},
                        float(measurements.get("settings", {}).get("pvi", {}).get("alpha", 0.05)))


def options_for(name: str, signals: pd.DataFrame, candidates: list[str]) -> tuple[str, dict, str | None]:
    strategy, options, kind = SEARCHES[name]
    options = dict(options)
    if kind is not None and strategy == "surrogate":
        options["prior_effects"] = [float(v) for v in prior_effects(signals, candidates, kind)]
    elif kind is not None:
        options.update(strategy_options(signals, candidates, kind))
    return strategy, options, kind


def evaluations_to_optimum(path: Path, summary: dict, signals: pd.DataFrame, name: str, draw: int) -> float:
    table = pd.read_csv(path)
    target = summary["target"]
    truth = dict(zip(table["datasets"], table["score"]))
    optimum = max(truth.values())
    evaluator = TableEvaluator(path, target, noise=float(summary["noise_sd"]), seed=draw)
    candidates = sorted(set(evaluator.ids) - {target})
    strategy, options, _ = options_for(name, signals, candidates)
    result = run_search(target, tuple(candidates), make_strategy(strategy, len(candidates), seed=draw, **options),
                        evaluator.evaluate, InMemoryLedger(), budget=16, patience=6, stopping="auto", progress=None)
    keys = ["+".join(e.datasets) for e in result.history]
    return next((float(i + 1) for i, k in enumerate(keys) if truth[k] >= optimum), math.inf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("measurements", type=Path)
    parser.add_argument("--draws", type=int, default=20, help="noise draws per landscape")
    parser.add_argument("--landscapes", type=Path, default=REAL)
    args = parser.parse_args(argv)
    measurements = json.loads(args.measurements.read_text())
    known = set(measurements["datasets"])
    for path in sorted(p for p in args.landscapes.rglob("*.csv") if not p.stem.endswith("noise")):
        summary = json.loads(path.with_name(path.stem + ".summary.json").read_text())
        target, pool = summary["target"], list(summary["pool"])
        if not {target, *pool} <= known:
            continue
        signals = signals_for(measurements, target, pool)
        rows = signals.set_index("candidate").loc[pool]
        effects = np.array([summary["effects"][a] for a in pool])
        tau_g, p_g = stats.kendalltau(rows["gradts_tau"].astype(float), effects)
        tau_p, p_p = stats.kendalltau(rows["in_pvi_group"].astype(float), effects)
        name = path.relative_to(args.landscapes).with_suffix("").as_posix()
        print(f"\n{name}: target {target}, noise sd {summary['noise_sd']:.4f}, optimum {summary['best']['datasets']}")
        print(f"{'auxiliary':<14} {'effect':>8} {'GradTS tau':>10} {'PVI mean':>9} {'PVI p':>7} {'in group':>8}")
        for aux, effect in zip(pool, effects):
            r = rows.loc[aux]
            print(f"{aux:<14} {effect:>+8.4f} {float(r['gradts_tau']):>10.3f} {float(r['pvi_mean']):>9.3f} "
                  f"{float(r['pvi_pvalue']):>7.3f} {bool(r['in_pvi_group'])!s:>8}")
        print(f"Kendall tau with the effects: GradTS {tau_g:+.3f} (p {p_g:.3f}), PVI group {tau_p:+.3f} (p {p_p:.3f})")
        print(f"{'search':<26} {'to-opt median':>13} {'mean':>6} {'found':>6} {'signal cost':>11} {'mean + cost':>11}")
        for search in SEARCHES:
            kind = SEARCHES[search][2]
            cost = signal_cost(signals, kind) if kind else 0.0
            counts = [evaluations_to_optimum(path, summary, signals, search, d) for d in range(args.draws)]
            finite = [min(c, NEVER) for c in counts]
            print(f"{search:<26} {statistics.median(counts):>13.1f} {np.mean(finite):>6.2f} "
                  f"{np.mean([math.isfinite(c) for c in counts]) * 100:>5.0f}% {cost:>11.2f} {np.mean(finite) + cost:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
