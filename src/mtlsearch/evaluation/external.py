"""Evaluators that hand each combination to the user's own trainer.

:class:`PythonEvaluator` calls a function named ``package.module:function`` with the sorted
member ids (target included); :class:`CommandEvaluator` runs an argument list (no shell) with
``{datasets}``, ``{seed}`` and ``{output}`` substituted, and reads the JSON file it writes at
``{output}``. Either answers ``{member: score}``, at least the target's. Each evaluation is an
MLflow run under the search's run, as with the built-in evaluators, and the ledger's fingerprint
is the function's name or the command, ``search.evaluator_version`` and the seed: changing the
trainer's code without bumping the version reuses the old scores, bumping it starts afresh.

A call that raises, a command that exits non-zero, or an answer that is not a mapping of finite
numbers with the target's score is a failed evaluation whose reason is the traceback's or the
command's stderr's last lines.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import numbers
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from mtlsearch import tracking
from mtlsearch.combinations import SEPARATOR, parse_combination
from mtlsearch.errors import ConfigError
from mtlsearch.fingerprints import digest
from mtlsearch.parameters import number

TAIL_LINES = 20
TAIL_CHARS = 3000  # a failure reason is an MLflow tag (5,000 characters at most)
# ids reach a command as arguments: nothing a program could read as an option or a path
DATASET_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*", re.ASCII)
PLACEHOLDER = re.compile(r"\{(datasets|seed|output)\}")


class EvaluationFailed(RuntimeError):
    """The trainer did not give scores for a combination; the message says why."""


def check_dataset_ids(key: str, ids: Sequence[str]) -> None:
    """ConfigError naming the first id that is not letters, digits, '_' and '-' (not leading)."""
    for dataset in ids:
        if not isinstance(dataset, str) or not DATASET_ID.fullmatch(dataset):
            raise ConfigError(
                f"{key}: dataset id {dataset!r} cannot be passed to search.command; expected letters, digits, "
                "'_' and '-' only (not starting with '-')"
            )


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()[-TAIL_LINES:]
    tail = "\n".join(lines)
    return tail if len(tail) <= TAIL_CHARS else "..." + tail[-TAIL_CHARS:]


def checked_scores(answer: object, datasets: Sequence[str], target: str) -> dict[str, float]:
    """``answer`` as ``{member: float}``; EvaluationFailed saying what is wrong with it."""
    if not isinstance(answer, Mapping):
        raise EvaluationFailed(f"expected a mapping of member -> score, got {type(answer).__name__} {_short(answer)}")
    outside = sorted(str(k) for k in answer if k not in datasets)
    if outside:
        raise EvaluationFailed(
            f"scores of datasets outside the combination {SEPARATOR.join(datasets)}: {outside}"
        )
    scores = {}
    for member, value in answer.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise EvaluationFailed(f"the score of {member!r} is {_short(value)}; expected a finite number")
        scores[member] = float(value)
    if target not in scores:
        raise EvaluationFailed(f"no score for the target {target!r}; got scores of {sorted(scores)}")
    return scores


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class ExternalEvaluator:
    """What the python and command evaluators share: the pool, the seed, the fingerprint, the
    MLflow run of each evaluation."""

    kind = ""
    parameter = ""  # the search parameter that names the trainer, also the MLflow param
    # the search selects on the one score the trainer gives; there is no test score
    selection_split = "dev"

    def __init__(self, target: str, candidates: Sequence[str], version: str = "1", seed: int = 0):
        if not candidates:
            raise ConfigError(
                f"search.candidates: expected the auxiliary ids joined by '+' (search.evaluator {self.kind} "
                "has no datasets of its own), got None"
            )
        self.target = target
        self.candidates = tuple(candidates)
        self.version = str(version)
        self.seed = int(seed)
        self.ids = tuple(sorted({target, *self.candidates}))
        self.fingerprint = digest({"evaluator": self.kind, "trainer": self.spec(), "version": self.version,
                                   "seed": self.seed})

    def spec(self) -> object:
        """What names the trainer in the fingerprint."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def scores(self, datasets: tuple[str, ...], target: str, logs: Path | None = None) -> dict[str, float]:
        """The members' scores from the trainer, or EvaluationFailed; what the trainer printed goes
        to files in the folder ``logs`` where given (the evaluation run keeps them)."""
        raise NotImplementedError

    def evaluate(self, datasets: Sequence[str], *, metric: str, target: str | None = None,
                 parent_run_id: str | None = None, experiment_id: str | None = None) -> dict[str, float]:
        from mtlsearch.evaluation.evaluators import membership_params

        datasets = parse_combination(datasets)
        target = target or self.target
        params = {"evaluator": self.kind, self.parameter: self.describe(), "evaluator_version": self.version,
                  "seed": self.seed, **membership_params(datasets, self.ids)}
        with tempfile.TemporaryDirectory(prefix="mtlsearch-logs-") as logs:
            return tracking.log_table_evaluation(
                datasets, lambda: self.scores(datasets, target, Path(logs)), metric, self.fingerprint, params,
                experiment_id, parent_run_id, target, evaluator=self.kind, split=self.selection_split,
                logs=Path(logs),
            )

    def __call__(self, datasets: Sequence[str]) -> dict[str, float]:
        """The scores without MLflow (tests, notebooks)."""
        datasets = parse_combination(datasets)
        return self.scores(datasets, self.target)


def resolve_callable(name: str):
    """The object ``package.module:attr.path`` names; ConfigError naming ``search.callable``."""
    module_name, _, path = name.partition(":")
    if not module_name or not path:
        raise ConfigError(f"search.callable: expected 'package.module:function', got {name!r}")
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - whatever the module raises on import, the value is to blame
        raise ConfigError(
            f"search.callable: cannot import {module_name!r} of {name!r} ({type(exc).__name__}: {exc}); "
            "expected a module importable from the project or PYTHONPATH"
        ) from None
    for part in path.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"search.callable: {getattr(obj, '__name__', module_name)!r} has no attribute "
                              f"{part!r} (value {name!r})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"search.callable: {name!r} is not callable ({type(obj).__name__} {_short(obj)}); "
                          "expected a function")
    return obj


def _takes_seed(function) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any((p.name == "seed" and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD for p in parameters)


class PythonEvaluator(ExternalEvaluator):
    """``function(datasets)`` (and ``seed=`` if it takes one) -> ``{member: score}``.

    Only the function's name travels with the evaluator (to a Ray worker): it is imported again
    where it is called."""

    kind = "python"
    parameter = "callable"

    def __init__(self, name: str, target: str, candidates: Sequence[str], version: str = "1", seed: int = 0):
        self.name = name
        self._function = resolve_callable(name)
        super().__init__(target, candidates, version, seed)

    def spec(self) -> str:
        return self.name

    def describe(self) -> str:
        return self.name

    def with_seed(self, seed: int) -> PythonEvaluator:
        return PythonEvaluator(self.name, self.target, self.candidates, self.version, seed)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_function"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._function = None

    def scores(self, datasets: tuple[str, ...], target: str, logs: Path | None = None) -> dict[str, float]:
        if self._function is None:
            self._function = resolve_callable(self.name)
        function = self._function
        kwargs = {"seed": self.seed} if _takes_seed(function) else {}
        try:
            answer = function(tuple(sorted(datasets)), **kwargs)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any error of the trainer (a wrapped script's
            # sys.exit too) is this evaluation's failure; an interrupt still stops the search
            # the frame that called it is this one: the trainer's own frames follow
            frames = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)
            raise EvaluationFailed(f"{self.name} raised:\n{_tail(''.join(frames))}") from None
        try:
            return checked_scores(answer, datasets, target)
        except EvaluationFailed as exc:
            raise EvaluationFailed(f"{self.name} returned no usable scores: {exc}") from None


class CommandEvaluator(ExternalEvaluator):
    """An argument list run without a shell; it writes ``{member: score}`` as JSON to ``{output}``."""

    kind = "command"
    parameter = "command"

    def __init__(self, command: Sequence[str], target: str, candidates: Sequence[str], version: str = "1",
                 seed: int = 0, timeout_s: float | None = None):
        # not in spec(): a time limit changes which evaluations finish, not what a finished one scores
        self.timeout_s = number("search.command_timeout_s", timeout_s, low=0, low_open=True, nullable=True)
        if isinstance(command, str) or not command or not all(isinstance(a, str) for a in command):
            raise ConfigError(f"search.command: expected a list of arguments (a YAML list of strings), "
                              f"got {_short(command)}")
        self.command = tuple(command)
        check_dataset_ids("search.target", [target])
        check_dataset_ids("search.candidates", list(candidates or ()))
        super().__init__(target, candidates, version, seed)

    def spec(self) -> list[str]:
        return list(self.command)

    def describe(self) -> str:
        return shlex.join(self.command)

    def with_seed(self, seed: int) -> CommandEvaluator:
        return CommandEvaluator(self.command, self.target, self.candidates, self.version, seed, self.timeout_s)

    def arguments(self, datasets: Sequence[str], output: str | Path) -> list[str]:
        """The command for one evaluation (one pass, so a value is never substituted again)."""
        check_dataset_ids("the combination", datasets)
        values = {"datasets": SEPARATOR.join(datasets), "seed": str(self.seed), "output": str(output)}
        return [PLACEHOLDER.sub(lambda m: values[m.group(1)], argument) for argument in self.command]

    def scores(self, datasets: tuple[str, ...], target: str, logs: Path | None = None) -> dict[str, float]:
        with tempfile.TemporaryDirectory(prefix="mtlsearch-evaluation-") as folder:
            output = Path(folder) / "scores.json"
            args = self.arguments(datasets, output)
            printed = Path(logs or folder)
            out_path, err_path = printed / "stdout.log", printed / "stderr.log"
            timed_out = False
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                try:
                    # its own session, so that a time-out stops what it started too (a trainer's
                    # data-loader workers, a launcher's children), not the first process alone
                    done = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            start_new_session=True)
                except OSError as exc:  # no such program, not executable
                    raise EvaluationFailed(f"could not run {shlex.join(args)}: {exc}") from None
                try:
                    done.wait(timeout=self.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(done)
                except BaseException:
                    _kill_group(done)  # the search itself stopped: leave no trainer behind
                    raise

            def failed(what: str) -> EvaluationFailed:
                stderr = err_path.read_text(errors="replace")
                if stderr.strip():
                    return EvaluationFailed(f"{what}; last lines of its stderr:\n{_tail(stderr)}")
                stdout = out_path.read_text(errors="replace")
                if stdout.strip():
                    return EvaluationFailed(f"{what}; no stderr, last lines of its stdout:\n{_tail(stdout)}")
                return EvaluationFailed(f"{what}; it printed nothing")

            command = shlex.join(args)
            if timed_out:
                raise failed(f"{command} did not finish within search.command_timeout_s = {self.timeout_s:g} s "
                             f"and was stopped")
            if done.returncode < 0:
                try:
                    name = signal.Signals(-done.returncode).name
                except ValueError:
                    name = f"signal {-done.returncode}"
                raise failed(f"{command} was killed by {name}")
            if done.returncode != 0:
                raise failed(f"{command} exited with status {done.returncode}")
            if not output.is_file():
                raise failed(f"{command} exited with status 0 but wrote no scores to {{output}}")
            try:
                answer = json.loads(output.read_text(errors="replace"))
            except json.JSONDecodeError as exc:
                raise failed(f"the {{output}} of {command} is not JSON ({exc})") from None
            try:
                return checked_scores(answer, datasets, target)
            except EvaluationFailed as exc:
                raise failed(f"the {{output}} of {command} holds no usable scores: {exc}") from None


def _kill_group(process: subprocess.Popen, grace_s: float = 30.0) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    # SIGKILL is delivered asynchronously: a killed trainer's children hold their GPU memory until
    # they have exited, so the next evaluation does not start while any is still alive
    deadline = time.monotonic() + grace_s
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` is still running (a zombie is not: it holds no memory)."""
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs: any member, zombies included, counts
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # the command name may hold spaces and parentheses: the fields follow its last ')'
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited while being read
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            return True
    return False


def external_evaluator(settings) -> ExternalEvaluator:
    """The ``search.evaluator`` python or command evaluator of ``settings`` (SearchSettings)."""
    # with several targets (search.targets) the first stands as the target, the others join the pool
    targets = list(getattr(settings, "targets", None) or [settings.target])
    pool = [*targets[1:], *(c for c in settings.candidates or () if c not in targets)]
    common = {"target": targets[0], "candidates": pool if settings.candidates else (),
              "version": settings.evaluator_version, "seed": settings.seed}
    if settings.evaluator == "python":
        return PythonEvaluator(settings.callable, **common)
    if settings.evaluator == "command":
        return CommandEvaluator(settings.command, **common, timeout_s=settings.command_timeout_s)
    raise ConfigError(f"search.evaluator: expected python or command, got {settings.evaluator!r}")


__all__ = ["CommandEvaluator", "EvaluationFailed", "ExternalEvaluator", "PythonEvaluator", "check_dataset_ids",
           "checked_scores", "external_evaluator", "resolve_callable"]
