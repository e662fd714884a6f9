"""The search's progress as its user watches it: evaluations done of the budget, best so far,
time per evaluation and the time left.

On a terminal a rich progress bar stays at the bottom while the log scrolls above it; piped to a
file, each evaluation's log line carries the same figures, one line per evaluation.
"""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("mtlsearch.search")


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class SearchProgress:
    """``say`` for the loop's lines and ``on_result`` for its evaluations (see ``run_search``)."""

    def __init__(self, budget: int, target: str, live: bool | None = None):
        self.budget = max(int(budget), 1)
        self.target = target
        self.live = sys.stderr.isatty() if live is None else live
        self._start = time.perf_counter()
        self._last = self._start
        self._durations: list[float] = []
        self._done = 0
        self._best = float("-inf")
        self._bar = None
        self._task = None

    def __enter__(self) -> SearchProgress:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn(f"search {self.target}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("best {task.fields[best]}"), TextColumn("{task.fields[per]} per evaluation"),
                TextColumn("ETA"), TimeRemainingColumn(), transient=False,
            )
            self._task = self._bar.add_task("search", total=self.budget, best="-", per="-")
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def on_result(self, n: int, item, best_score: float) -> None:
        if n == 0:  # a reused evaluation: free, no time
            self._best = max(self._best, best_score)
            self._last = time.perf_counter()
            return
        now = time.perf_counter()
        self._durations.append(now - self._last)
        self._last = now
        self._done = n
        self._best = best_score
        if self._bar is not None:
            self._bar.update(self._task, completed=n, best=f"{best_score:.4f}", per=_duration(self.per_evaluation))

    @property
    def per_evaluation(self) -> float:
        return sum(self._durations) / len(self._durations) if self._durations else float("nan")

    def suffix(self) -> str:
        """`` | 12 s (mean 10 s) per evaluation, at most 2.3 min left in the search`` (the budget
        bounds what is left; a confirmation after the search is not counted)."""
        if not self._durations:
            return ""
        left = (self.budget - self._done) * self.per_evaluation
        return (f" | {_duration(self._durations[-1])} (mean {_duration(self.per_evaluation)}) per evaluation, "
                f"at most {_duration(left)} left in the search")

    def say(self, line: str) -> None:
        # the loop's line of an evaluation starts with "[n/budget]"
        log.info("%s", line + self.suffix() if line.startswith("[") else line)
