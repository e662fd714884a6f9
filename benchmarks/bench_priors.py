"""Benchmark the default strategy with a prior from a relatedness signal.

The default strategy (``surrogate``, default options, ``stopping="auto"`` as in
benchmarks/bench_stopping.py, budget 60) searches synthetic landscapes
(``mtlsearch.landscape.synthetic``: the ``GENERATORS`` and some ``FAMILIES``, marked "project";
N = 8..11 candidates by seed) under four signals, given as ``prior="gradts"`` with
``prior_effects``:

* none: no prior (the default);
* perfect: the true main effects, each auxiliary's mean true score over the combinations with
  it minus over those without;
* noisy: the perfect signal standardised plus Gaussian noise of sd ``--noise`` (1.1 by default,
  for a Kendall tau of about 0.5 with the perfect one; the realised tau is printed);
* random: standard normal values, unrelated to the landscape.

Per family and signal:

* to-opt med / mean: evaluations until the true (noiseless) optimum was first evaluated; a search
  that never evaluated it (budget spent, or it stopped) counts as budget + 1;
* ratio: mean to-opt over the same landscapes without a prior (below 1: evaluations saved);
* +cost: mean to-opt with the signal's own cost added, in evaluation-equivalents (default: the
  single-task fine-tunes a signal needs, N + 1 for GradTS, 2(N + 1) for PVI; ``--signal-cost``
  sets one fixed cost instead), and its ratio against no prior (which costs nothing);
* found@40: share of landscapes where the optimum was evaluated within 40 evaluations;
* regret: mean regret of the pick in score points (x100), the optimum's true score minus the
  true score of the combination with the best observed score when the search stopped.

Seeds: landscape seeds from ``--first-seed`` (default 100). ``skills`` (``HELD_OUT``) is held out:
never run while settling the prior's grid, printed apart from the others.

Run:  PYTHONPATH=src python benchmarks/bench_priors.py [--seeds 32] [--jobs 2]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from bench_stopping import FOUND_WITHIN, RULES, TARGET
from scipy.stats import kendalltau

from mtlsearch.combinations import SEPARATOR
from mtlsearch.landscape.synthetic import (
    FAMILIES,
    GENERATORS,
    HELD_OUT,
    default_candidates,
    generate_landscape,
)
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import DEFAULT_STRATEGY, make_strategy

SIGNALS = ("none", "perfect", "noisy", "random")
RULE = "model"  # stopping "auto", the default


@dataclass
class Outcome:
    family: str
    seed: int
    signal: str
    n: int
    to_optimum: float  # evaluations until the optimum was evaluated; budget + 1: never
    found: bool
    regret: float
    tau: float  # Kendall tau of the signal with the true main effects (nan for none)
    lambda_weight: float  # the surrogate's posterior mean weight of the prior at the end


def true_main_effects(table, n: int) -> np.ndarray:
    names = default_candidates(n)
    truth = table.get("true_score", table["score"]).to_numpy(dtype=float)
    members = [set(d.split(SEPARATOR)) for d in table["datasets"]]
    x = np.array([[name in m for name in names] for m in members])
    return np.array([truth[x[:, i]].mean() - truth[~x[:, i]].mean() for i in range(n)])


def make_signal(kind: str, effects: np.ndarray, seed: int, noise: float) -> np.ndarray | None:
    rng = np.random.default_rng([seed, 0xB1A5, SIGNALS.index(kind)])
    if kind == "none":
        return None
    if kind == "perfect":
        return effects
    if kind == "noisy":
        z = (effects - effects.mean()) / max(effects.std(), 1e-12)
        return z + rng.normal(0.0, noise, size=len(effects))
    return rng.standard_normal(len(effects))


def run_one(family: str, seed: int, signal: str, budget: int, noise: float) -> Outcome:
    n = 8 + seed % 4
    table = generate_landscape(family, n, seed, target=TARGET)
    observed = dict(zip(table["datasets"], table["score"]))
    truth = dict(zip(table["datasets"], table.get("true_score", table["score"])))
    effects = true_main_effects(table, n)
    values = make_signal(signal, effects, seed, noise)
    options = {} if values is None else {"prior": "gradts", "prior_effects": list(values)}
    candidates = default_candidates(n)
    strategy = make_strategy(DEFAULT_STRATEGY, n, seed=1000 + seed, **options)

    def evaluate(datasets):
        return {TARGET: observed["+".join(datasets)]}

    result = run_search(
        TARGET, candidates, strategy, evaluate, InMemoryLedger(),
        budget=budget, progress=None, **RULES[RULE],
    )
    keys = ["+".join(e.datasets) for e in result.history]
    optimum = max(truth.values())
    first = next((i + 1 for i, k in enumerate(keys) if truth[k] >= optimum), budget + 1)
    tau = float("nan") if values is None else float(kendalltau(values, effects)[0])
    return Outcome(
        family=family, seed=seed, signal=signal, n=n,
        to_optimum=float(first),
        found=first <= FOUND_WITHIN,
        regret=100.0 * (optimum - truth["+".join(result.best[0])]),
        tau=tau,
        lambda_weight=strategy.model.prior_weight(),
    )


def costs(outcome: Outcome, fixed: float | None) -> tuple[float, ...]:
    if outcome.signal == "none":
        return (0.0,) if fixed is not None else (0.0, 0.0)
    if fixed is not None:
        return (fixed,)
    return (outcome.n + 1.0, 2.0 * (outcome.n + 1.0))


def summarize(label: str, rows: list[Outcome], note: str, fixed: float | None) -> list[str]:
    lines = []
    base = {o.seed: o.to_optimum for o in rows if o.signal == "none"}
    for signal in SIGNALS:
        mine = [o for o in rows if o.signal == signal]
        if not mine:
            continue
        to_opt = [o.to_optimum for o in mine]
        reference = np.mean([base[o.seed] for o in mine if o.seed in base]) if base else math.nan
        mean = float(np.mean(to_opt))
        cost_cells = []
        for k in range(len(costs(mine[0], fixed))):
            with_cost = float(np.mean([o.to_optimum + costs(o, fixed)[k] for o in mine]))
            cost_cells.append(f"{with_cost:>6.1f} {with_cost / reference:>5.2f}")
        tau = np.nanmean([o.tau for o in mine]) if signal != "none" else math.nan
        lines.append(
            f"{label:<22} {note:<9} {signal:<8} {statistics.median(to_opt):>5.1f} {mean:>6.1f} "
            f"{mean / reference:>5.2f}  {'  '.join(cost_cells)}  "
            f"{np.mean([o.found for o in mine]) * 100:>5.0f}% "
            f"{np.mean([o.regret for o in mine]):>6.3f} "
            + (f"{tau:>5.2f}" if np.isfinite(tau) else f"{'':>5}")
            + f" {np.mean([o.lambda_weight for o in mine]):>5.2f}"
        )
        label, note = "", ""
    return lines


def header(fixed: float | None) -> str:
    if fixed is None:
        cost = f"{'+GradTS':>6} {'ratio':>5}  {'+PVI':>6} {'ratio':>5}"
    else:
        cost = f"{'+cost':>6} {'ratio':>5}"
    return (
        f"{'landscapes':<22} {'':<9} {'signal':<8} {'med':>5} {'mean':>6} {'ratio':>5}  {cost}  "
        f"{'f@40':>6} {'regret':>6} {'tau':>5} {'lam':>5}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--families", default=",".join(GENERATORS + ("pairwise", "mixed", "noisy"))
    )
    parser.add_argument("--signals", default=",".join(SIGNALS))
    parser.add_argument("--seeds", type=int, default=32, help="landscapes per family")
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--noise", type=float, default=1.1, help="noisy signal: noise sd")
    parser.add_argument(
        "--signal-cost", type=float, default=None,
        help="evaluation-equivalents added for a signal (default: N + 1 GradTS, 2(N + 1) PVI)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    families = [f for f in args.families.split(",") if f]
    signals = [s for s in args.signals.split(",") if s]
    if "none" not in signals:
        signals.insert(0, "none")  # the reference of every ratio
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(run_one, f, s, g, args.budget, args.noise)
            for f in families for s in seeds for g in signals
        ]
        outcomes = [f.result() for f in futures]
    elapsed = time.perf_counter() - start

    print(
        f"default strategy ({DEFAULT_STRATEGY}), default options, stopping 'auto', budget "
        f"{args.budget}; {args.seeds} landscapes per family (seeds {seeds.start}-{seeds.stop - 1}, "
        "N = 8..11); signals as prior 'gradts' with prior_effects"
    )
    print(
        f"to-opt (med, mean): evaluations until the optimum was first evaluated, never = budget + 1 "
        f"= {args.budget + 1}; ratio: mean against no prior on the same landscapes"
    )
    if args.signal_cost is None:
        print(
            "+GradTS / +PVI: mean to-opt plus the signal's cost, the single-task fine-tunes it "
            "needs: N + 1 evaluation-equivalents (GradTS), 2(N + 1) (PVI); ratio against no prior"
        )
    else:
        print(f"+cost: mean to-opt plus {args.signal_cost:g} evaluation-equivalents per signal")
    print(
        f"noisy: standardised true effects + N(0, {args.noise:g}^2); tau: mean Kendall tau of the "
        "signal with the true effects; lam: the prior's posterior weight at the end (mean)"
    )
    print(header(args.signal_cost))
    for family in (f for f in families if f not in HELD_OUT):
        note = "project" if family in FAMILIES else ""
        rows = [o for o in outcomes if o.family == family]
        print("\n".join(summarize(family, rows, note, args.signal_cost)))
    tuned = [o for o in outcomes if o.family not in HELD_OUT]
    if tuned:
        # one pooled table: seeds made unique per family so that ratios pair the same landscape
        pooled = [
            Outcome(**{**o.__dict__, "seed": hash((o.family, o.seed))}) for o in tuned
        ]
        print("\n".join(summarize("all but held out", pooled, "", args.signal_cost)))
    held = [o for o in outcomes if o.family in HELD_OUT]
    if held:
        print("\nheld out (never run while settling the prior):")
        print(header(args.signal_cost))
        for family in HELD_OUT:
            rows = [o for o in held if o.family == family]
            if rows:
                print("\n".join(summarize(family, rows, "held out", args.signal_cost)))
    print(f"\n{len(outcomes)} searches in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
