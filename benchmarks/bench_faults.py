"""Fault benchmark: a table search under repeated ``kill -9`` with some look-ups failing.

A copy of the project's configuration in a temp folder runs ``kedro run --pipeline search`` with
the table evaluator over a synthetic landscape (``pairwise``, 6 candidates: 64 combinations) from
which ``--fail-share`` of the rows are removed, so that those look-ups raise (each such
evaluation must become a FAILED run that no later run retries). ``table_delay_s`` makes each
look-up last long enough to be interrupted. The search is killed with SIGKILL (its whole process
group) at a random moment ``--kills`` times, restarted each time, then run once more to the end
(``exhaustive``: it stops when every combination is known), all on one sqlite store.

Printed: evaluations finished; lost (finished before a kill, missing or no longer finished
after); repeated (a combination with more than one finished run); failed-and-skipped (failed
combinations, and how many were evaluated more than once); orphan RUNNING runs left after the
final run; kills made and wall time.

Run:  python benchmarks/bench_faults.py [--kills 20] [--fail-share 0.1] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import mlflow

from mtlsearch import tracking
from mtlsearch.landscape.synthetic import generate_landscape, write_table

REPO = Path(__file__).resolve().parents[1]


def project_copy(folder: Path) -> Path:
    root = folder / "project"
    root.mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    for layer in ("01_raw", "02_intermediate", "03_primary", "04_feature", "05_model_input",
                  "06_models", "07_model_output", "08_reporting"):
        (root / "data" / layer).mkdir(parents=True)
    return root


def evaluation_runs(uri: str) -> list:
    # this process is a second client of a store that the search may be creating right now
    tracking.prepare_store(uri)
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], max_results=50000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--fail-share", type=float, default=0.1)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = project_copy(Path(tmp))
        table = generate_landscape("pairwise", args.candidates, seed=args.seed, target="t")
        drop = table[table["datasets"] != "t"].sample(frac=args.fail_share, random_state=args.seed).index
        table = table.drop(index=drop)
        write_table(table, root / "holed.csv")
        uri = f"sqlite:///{root / 'mlflow.db'}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "KEDRO_DISABLE_TELEMETRY": "true"}
        params = ",".join(f"search.{k}={v}" for k, v in {
            "evaluator": "table", "table_path": root / "holed.csv", "target": "t", "strategy": "exhaustive",
            "budget": 2 ** args.candidates, "patience": "null", "stopping": "patience",
            "table_delay_s": args.delay, "max_failures": 2 ** args.candidates,
        }.items())
        command = [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params]
        seen_finished: set[str] = set()
        kills = 0
        for _ in range(args.kills):
            with open(root / "run.log", "a") as log:
                process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
                # start-up takes most of 10 s here; kill at a random point after it
                time.sleep(rng.uniform(8.0, 14.0))
                for run in evaluation_runs(uri):
                    if run.data.tags.get("mtlsearch.status") == "finished":
                        seen_finished.add(run.info.run_id)
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    kills += 1
                process.wait()
        final = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        runs = evaluation_runs(uri)
        evaluations = [r for r in runs if r.data.tags.get("mtlsearch.kind") == "evaluation"]
        finished = [r for r in evaluations if r.data.tags.get("mtlsearch.status") == "finished"]
        failed = [r for r in evaluations if r.data.tags.get("mtlsearch.status") == "failed"]
        still = {r.info.run_id for r in finished}
        per_combination = Counter(r.data.tags["mtlsearch.datasets"] for r in finished)
        failed_per_combination = Counter(r.data.tags["mtlsearch.datasets"] for r in failed)
        orphans = [r for r in runs if r.info.status == "RUNNING"]
        print(f"bench_faults: pairwise landscape, {args.candidates} candidates ({2 ** args.candidates} "
              f"combinations), {len(drop)} rows removed ({args.fail_share:.0%} of look-ups raise), "
              f"table_delay_s {args.delay}, seed {args.seed}")
        print(f"  final run exit code            {final.returncode}")
        print(f"  kills (SIGKILL)                {kills}")
        print(f"  evaluations finished           {len(per_combination)} of {len(table)} in the table")
        print(f"  lost                           {len(seen_finished - still)}")
        print(f"  repeated                       {sum(c - 1 for c in per_combination.values())}")
        print(f"  failed-and-skipped             {len(failed_per_combination)} of {len(drop)} "
              f"(failed more than once: {sum(c > 1 for c in failed_per_combination.values())})")
        print(f"  orphan RUNNING runs left       {len(orphans)}")
        print(f"  KILLED runs (reaped)           {sum(r.info.status == 'KILLED' for r in runs)}")
        print(f"  wall                           {time.perf_counter() - started:.0f} s")
        for run in orphans:
            tags = run.data.tags
            print(f"    orphan {run.info.run_id}: kind {tags.get('mtlsearch.kind')}, "
                  f"{tags.get('mtlsearch.datasets', '')}, pid {tags.get('mtlsearch.pid')}")
        if final.returncode != 0:
            print(final.stdout[-2000:] + final.stderr[-2000:])


if __name__ == "__main__":
    main()
