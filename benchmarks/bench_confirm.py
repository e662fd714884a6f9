"""Benchmark the confirmation against noise: the true score of the pick with and without it.

Each landscape (``mtlsearch.landscape.synthetic``, noiseless ``true_score``) is searched by the
default strategy with default parameters and ``budget`` 60, every look-up perturbed by Gaussian
noise of sd ``--noise`` (0.01: the size of one fine-tune's seed noise on the recorded
landscapes). Then, as the search pipeline does, the top 3 evaluated combinations (by the
surrogate's posterior mean) and the target alone are looked up again under two more noise seeds
(``mtlsearch.search.confirm.confirm``) and the pick is the best mean.

Reported per generator: the mean regret (x100, true optimum minus the true score of the pick)
of the noisy maximum (the pick without confirmation) and of the confirmed pick, the share where
the confirmed pick is the true optimum, and the extra look-ups. Seeds from ``--first-seed``
(default 100, never used for tuning); ``skills`` is the held-out family.

Run:  PYTHONPATH=src python benchmarks/bench_confirm.py [--seeds 8] [--noise 0.01]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.landscape.synthetic import HELD_OUT, generate_landscape, write_table
from mtlsearch.search.confirm import confirm, extra_seeds, top_combinations
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import make_strategy

FAMILIES = ("independent", "real_shaped", "late", "target_alone", "skills", "pairwise", "mixed")


def one(family: str, seed: int, noise: float, folder: Path) -> dict:
    n = 8 + seed % 4
    table = generate_landscape(family, n, seed, target="t")
    truth = table.assign(score=table.get("true_score", table["score"]))[["datasets", "score"]]
    path = folder / f"{family}-{seed}.csv"
    write_table(truth, path)
    exact = TableEvaluator(path, "t")
    observed = TableEvaluator(path, "t", noise=noise, seed=0)
    candidates = tuple(sorted({m for d in truth["datasets"] for m in d.split("+")} - {"t"}))
    strategy = make_strategy("surrogate", len(candidates), seed)
    result = run_search("t", candidates, strategy, lambda d: observed.evaluate(d), InMemoryLedger(),
                        budget=60, patience=6, progress=None)
    optimum = exact.optimum(candidates)[1]

    def true(datasets) -> float:
        return exact.evaluate(datasets)["t"]

    noisy_pick = result.best[0]
    alone = ("t",)
    scores = {e.datasets: e.scores["t"] for e in result.history}
    chosen = top_combinations(scores, result.predictions, alone, 3)
    seeds = extra_seeds(2, 0)
    confirmation = confirm(chosen, alone, 0, {d: (s, None) for d, s in scores.items()}, seeds,
                           lambda s, d: (observed.with_seed(s).evaluate(d)["t"], None))
    pick = tuple(confirmation["pick"].split("+"))
    return {
        "noisy": 100 * (optimum - true(noisy_pick)),
        "confirmed": 100 * (optimum - true(pick)),
        "exact": true(pick) >= optimum - 1e-12,
        "extra": len(seeds) * (len(chosen) + 1),
        "evaluations": len(result.history),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.01)
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"default strategy, budget 60, look-up noise sd {args.noise}; {args.seeds} landscapes per generator "
          f"(seeds {args.first_seed}-{args.first_seed + args.seeds - 1}, N = 8..11); regret x100 of the true scores")
    print(f"{'generator':<24}{'noisy max':>11}{'confirmed':>11}{'optimum':>9}{'evals':>7}{'extra':>7}")
    everything = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in FAMILIES:
            rows = [one(family, seed, args.noise, Path(tmp))
                    for seed in range(args.first_seed, args.first_seed + args.seeds)]
            everything += rows
            label = family + (" (held out)" if family in HELD_OUT else "")
            print(f"{label:<24}{statistics.mean(r['noisy'] for r in rows):>11.3f}"
                  f"{statistics.mean(r['confirmed'] for r in rows):>11.3f}"
                  f"{sum(r['exact'] for r in rows) / len(rows):>9.0%}"
                  f"{statistics.median(r['evaluations'] for r in rows):>7.1f}"
                  f"{statistics.mean(r['extra'] for r in rows):>7.1f}")
    print(f"{'all':<24}{statistics.mean(r['noisy'] for r in everything):>11.3f}"
          f"{statistics.mean(r['confirmed'] for r in everything):>11.3f}"
          f"{sum(r['exact'] for r in everything) / len(everything):>9.0%}")
    print(f"{len(everything)} searches in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
