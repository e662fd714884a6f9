"""Evaluators that answer from a precomputed table instead of fine-tuning.

A table is a CSV with one row per combination: ``datasets`` (member ids joined by '+', in any
order, the target included) and ``score`` (the target's score), optionally ``score_<id>`` columns
with each member's own score. A table with a ``score_<target>`` column serves several targets:
the target's score is read from that column and rows without the target are left aside (so a
search for another target of the same table shares its evaluations). It lets a search run end to
end in seconds: on a synthetic landscape from ``mtlsearch.landscape.synthetic``, or on scores measured
once for every combination.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from mtlsearch.combinations import SEPARATOR
from mtlsearch.errors import UserError

MEMBER_SCORE_PREFIX = "score_"


class TableError(UserError, ValueError):
    """A score table, or a question put to it, does not fit; the message names the file."""

    def __init__(self, file: str | Path, message: str, line: int | None = None):
        self.file = str(file)
        self.line = line
        place = f"{self.file}, line {line}" if line is not None else self.file
        super().__init__(f"{place}: {message}")


class TableFormatError(TableError):
    """The CSV itself is malformed: a missing column, a non-numeric score, a duplicate row."""


class UnknownDatasetError(TableError):
    """A dataset id that appears nowhere in the table."""


class MissingCombinationError(TableError):
    """A combination of known ids that has no row in the table."""


def _parse_score(text: str | None, file: Path, line: int, column: str) -> float:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TableFormatError(
            file, f"column {column!r}: expected a finite number, found {text!r}", line
        )
    return value


class TableEvaluator:
    """Look up (and optionally perturb) the scores of combinations from a CSV table."""

    def __init__(
        self,
        path: str | Path,
        target: str,
        noise: float = 0.0,
        delay_s: float = 0.0,
        seed: int = 0,
    ):
        if noise < 0 or delay_s < 0:
            raise ValueError(
                f"noise and delay_s must be >= 0, got noise={noise}, delay_s={delay_s}"
            )
        self.path = Path(path)
        self.target = target
        self.noise = float(noise)
        self.delay_s = float(delay_s)
        self.seed = int(seed)
        content = self.path.read_bytes()
        setting = f"noise={self.noise!r};seed={self.seed}" if self.noise > 0 else "noise=0"
        self.fingerprint = hashlib.sha256(content + b"\0" + setting.encode()).hexdigest()
        self._rows = self._parse(content.decode("utf-8-sig"))
        self.ids: tuple[str, ...] = tuple(sorted({m for key in self._rows for m in key}))

    def with_seed(self, seed: int) -> TableEvaluator:
        """The same table with another draw of its noise."""
        return TableEvaluator(self.path, self.target, self.noise, self.delay_s, seed)

    def _parse(self, text: str) -> dict[frozenset[str], dict[str, float]]:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = reader.fieldnames or []
        line_numbers: list[int] = []
        member_columns = {
            c[len(MEMBER_SCORE_PREFIX) :]: c for c in columns if c.startswith(MEMBER_SCORE_PREFIX)
        }
        multi_target = self.target in member_columns
        required = ("datasets",) if multi_target else ("datasets", "score")
        missing = [c for c in required if c not in columns]
        if missing:
            raise TableFormatError(
                self.path,
                f"missing column(s) {missing}; expected a header with {list(required)}, "
                f"found {columns}",
                1,
            )
        records = []
        for record in reader:
            records.append(record)
            line_numbers.append(reader.line_num)
        held = {m.strip() for r in records for m in (r.get("datasets") or "").split(SEPARATOR) if m.strip()}
        if records and self.target not in held:
            # a target the table does not hold is a wrong parameter, not a malformed row
            raise UnknownDatasetError(
                self.path, f"search.target {self.target!r} is not in the table; it holds {sorted(held)}"
            )
        rows: dict[frozenset[str], dict[str, float]] = {}
        first_line: dict[frozenset[str], int] = {}
        for number, record in enumerate(records):
            line = line_numbers[number]
            if None in record:
                raise TableFormatError(
                    self.path, f"more fields than the {len(columns)} columns of the header", line
                )
            members_text = (record["datasets"] or "").strip()
            members = [m.strip() for m in members_text.split(SEPARATOR)]
            if not members_text or any(not m for m in members):
                raise TableFormatError(
                    self.path,
                    f"column 'datasets': expected ids joined by '+', found {members_text!r}",
                    line,
                )
            key = frozenset(members)
            if len(key) != len(members):
                raise TableFormatError(self.path, f"dataset listed twice in {members_text!r}", line)
            if self.target not in key and multi_target:
                continue
            if self.target not in key:
                raise TableFormatError(
                    self.path,
                    f"expected the target {self.target!r} among the members, "
                    f"found {members_text!r}",
                    line,
                )
            if key in rows:
                raise TableFormatError(
                    self.path,
                    f"duplicate combination {SEPARATOR.join(sorted(key))!r} "
                    f"(first on line {first_line[key]})",
                    line,
                )
            target_column = member_columns[self.target] if multi_target else "score"
            scores = {
                self.target: _parse_score(record[target_column], self.path, line, target_column)
            }
            for member in sorted(key - {self.target}):
                column = member_columns.get(member)
                if column is not None and (record[column] or "").strip():
                    scores[member] = _parse_score(record[column], self.path, line, column)
            rows[key] = scores
            first_line[key] = line
        if not rows:
            raise TableFormatError(
                self.path, "expected at least one combination row, found none", 1
            )
        return rows

    def _key(self, datasets: Iterable[str]) -> frozenset[str]:
        key = frozenset(datasets) | {self.target}
        unknown = sorted(key - set(self.ids))
        if unknown:
            raise UnknownDatasetError(
                self.path, f"unknown dataset id(s) {unknown}; the table knows {list(self.ids)}"
            )
        if key not in self._rows:
            raise MissingCombinationError(
                self.path, f"no row for the combination {SEPARATOR.join(sorted(key))!r}"
            )
        return key

    def _noise(self, key: frozenset[str], member: str) -> float:
        # Seeded by the combination (not by call order) so that a rerun, or the same combination
        # asked in another order, sees the same observation.
        text = f"{self.seed}|{SEPARATOR.join(sorted(key))}|{member}".encode()
        entropy = int.from_bytes(hashlib.sha256(text).digest()[:8], "little")
        return float(np.random.default_rng(entropy).normal(0.0, self.noise))

    def evaluate(self, datasets: Sequence[str]) -> dict[str, float]:
        """Each member's score for this combination (the target is a member even if not named)."""
        key = self._key(datasets)
        if self.delay_s:
            time.sleep(self.delay_s)
        scores = dict(self._rows[key])
        if self.noise:
            scores = {m: s + self._noise(key, m) for m, s in scores.items()}
        return scores

    def __call__(self, datasets: Sequence[str]) -> dict[str, float]:
        return self.evaluate(datasets)

    def optimum(
        self,
        candidates: Iterable[str] | None = None,
        objective: Callable[[Mapping[str, float]], float] | None = None,
        feasible: Callable[[tuple[str, ...]], bool] | None = None,
    ) -> tuple[tuple[str, ...], float]:
        """The best noiseless target score among combinations of the target and ``candidates``.

        ``objective`` scores a row's member scores instead (a row it cannot score, one without
        every target's score, is left out), and only combinations that ``feasible`` accepts count.
        """
        allowed = set(self.ids if candidates is None else candidates) | {self.target}
        unknown = sorted(allowed - set(self.ids))
        if unknown:
            raise UnknownDatasetError(
                self.path, f"unknown dataset id(s) {unknown}; the table knows {list(self.ids)}"
            )
        score = objective or (lambda scores: scores[self.target])
        values = {}
        for key, scores in self._rows.items():
            if key <= allowed and (feasible is None or feasible(tuple(sorted(key)))):
                try:
                    values[key] = float(score(scores))
                except KeyError:
                    continue
        if not values:
            raise MissingCombinationError(self.path, "no row for any combination the search may evaluate")
        best = max(values, key=lambda k: (values[k], tuple(sorted(k))))
        return tuple(sorted(best)), values[best]
