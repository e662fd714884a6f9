"""The search's progress piped to a file: one line per evaluation with its time and what is left."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from mtlsearch.landscape.synthetic import generate_landscape, write_table
from mtlsearch.search.progress import SearchProgress


def test_piped_search_prints_one_unwrapped_line_per_evaluation(project):
    table = write_table(generate_landscape("pairwise", 4, seed=3, target="t"), project / "landscape.csv")
    params = (f"search.evaluator=table,search.table_path={table},search.target=t,search.budget=5,"
              "search.patience=null,search.stopping=patience,search.table_delay_s=0.2")
    done = subprocess.run([sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params],
                          cwd=project, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if re.search(r"\[\d+/5\] ", line)]
    assert [re.search(r"\[(\d+)/5\]", line).group(1) for line in lines] == ["1", "2", "3", "4", "5"]
    for line in lines:
        # the evaluation, its score, the best so far and the timing, all on one line
        assert re.search(r"\[\d/5\] \S+: 0\.\d{4}.*; best 0\.\d{4} .* per evaluation, at most .* left in the search$", line), line
        assert len(line) > 80  # not wrapped at 80 columns
    assert "at most 0 s left in the search" in lines[-1]


def test_the_time_left_is_the_mean_time_per_evaluation_times_what_the_budget_leaves():
    progress = SearchProgress(10, "t", live=False)
    progress._durations = [2.0, 4.0]
    progress._done = 2
    assert progress.per_evaluation == 3.0
    assert progress.suffix() == " | 4 s (mean 3 s) per evaluation, at most 24 s left in the search"
