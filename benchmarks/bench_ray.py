"""Wall time to a fixed number of evaluations: in process vs Ray with 2 workers.

Both runs use the same table evaluator with a delay per look-up (standing in for a fine-tune),
the same strategy and seed, side by side in one run. With 2 workers the ideal ratio is 2x.

    python benchmarks/bench_ray.py [--evaluations 16] [--delay 1.0] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.search.executors import make_executor
from mtlsearch.landscape.synthetic import default_candidates, generate_landscape, write_table
from mtlsearch.search.loop import InMemoryLedger, run_search
from mtlsearch.strategies import make_strategy


def _warm(_: int) -> None:
    import mtlsearch.evaluation.table  # noqa: F401

    time.sleep(0.5)


def timed_search(table: Path, evaluations: int, delay: float, executor: str, workers: int) -> tuple[float, int]:
    evaluator = TableEvaluator(table, "t", delay_s=delay)
    candidates = default_candidates(8)
    settings = SimpleNamespace(executor=executor, ray={"local_num_cpus": workers, "num_cpus": 1})
    with make_executor(settings) as pool:
        if executor == "ray":
            # start the worker processes (and their imports) before the clock starts: the
            # figure compares running evaluations, not starting a cluster
            warm = pool.start(_warm)
            for worker in range(workers):
                warm.submit(worker)
            for _ in range(workers):
                warm.next_finished()
        start = time.perf_counter()
        result = run_search(
            "t", candidates, make_strategy("surrogate", len(candidates), seed=0), evaluator, InMemoryLedger(),
            budget=evaluations, patience=None, batch_size=workers if executor == "ray" else 1,
            progress=None, executor=pool,
        )
        return time.perf_counter() - start, result.n_new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=16)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "landscape.csv"
        write_table(generate_landscape("pairwise", 8, seed=0, target="t"), table)
        local, n_local = timed_search(table, args.evaluations, args.delay, "local", 1)
        ray_wall, n_ray = timed_search(table, args.evaluations, args.delay, "ray", args.workers)
    print(f"{args.evaluations} evaluations of {args.delay:.1f} s each (table evaluator with a delay)")
    print(f"{'executor':<22}{'evaluations':>12}{'wall s':>10}{'evals/min':>12}")
    print(f"{'local (in process)':<22}{n_local:>12}{local:>10.1f}{60 * n_local / local:>12.1f}")
    print(f"{f'ray, {args.workers} workers':<22}{n_ray:>12}{ray_wall:>10.1f}{60 * n_ray / ray_wall:>12.1f}")
    print(f"speed-up: {local / ray_wall:.2f}x (ideal {args.workers}x)")


if __name__ == "__main__":
    main()
