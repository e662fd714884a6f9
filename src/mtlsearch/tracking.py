"""MLflow, owned here: tag names, the runs of evaluations and searches, and the ledger.

Every evaluation is an MLflow run tagged with its combination (``mtlsearch.datasets``) and the
fingerprint of everything else its scores depend on (``mtlsearch.fingerprint``); it is tagged
``mtlsearch.status=finished`` only once all its metrics are logged. A search reads the finished
runs of its fingerprint at start, so a rerun after an interruption (even ``kill -9``) reuses
every finished evaluation; a FAILED run (with its ``failure_reason``) is a known failure, not
retried unless asked; a run that a dead process left RUNNING is marked KILLED and evaluated
again. Several searches may share a store: an evaluation's run is opened under a lock file of
the store, so one combination is never evaluated by two of them at once. The store is whatever
MLflow is configured with (``MLFLOW_TRACKING_URI``; a local sqlite file by default).

No other module of the package calls MLflow: the search loop, the strategies and the recipe's
stages know nothing of it.
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from kedro.framework.hooks import hook_impl

from mtlsearch.combinations import SEPARATOR, combination_name
from mtlsearch.locks import create_once, lock_path
from mtlsearch.search.loop import Evaluation, Failure

log = logging.getLogger(__name__)

EXPERIMENT = "mtlsearch"

KIND = "mtlsearch.kind"  # evaluation | search | noise
STATUS = "mtlsearch.status"  # finished | failed
FINGERPRINT = "mtlsearch.fingerprint"
DATASETS = "mtlsearch.datasets"
SIZE = "mtlsearch.size"
TARGET = "mtlsearch.target"
EVALUATOR = "mtlsearch.evaluator"
STRATEGY = "mtlsearch.strategy"
ITERATION = "mtlsearch.iteration"
PREDICTED = "mtlsearch.predicted"
SEARCH_RUN = "mtlsearch.search_run"
BEST = "mtlsearch.best"
BEST_RUN = "mtlsearch.best_run"
CANDIDATES = "mtlsearch.candidates"
METRIC = "mtlsearch.metric"
STOP_REASON = "mtlsearch.stop_reason"
SELECTION_SPLIT = "mtlsearch.selection_split"
OPTUNA_STORAGE = "mtlsearch.optuna_storage"
OPTUNA_STUDY = "mtlsearch.optuna_study"
FAILURE_REASON = "failure_reason"
# Liveness of a RUNNING run: the process that opened it, and (for a search) a heartbeat that its
# process refreshes every HEARTBEAT_S seconds. A rerun marks RUNNING runs whose process is gone
# (same host, no such pid) or whose search's heartbeat is older than STALE_S as KILLED.
HOST = "mtlsearch.host"
PID = "mtlsearch.pid"
HEARTBEAT = "mtlsearch.heartbeat"
HEARTBEAT_S = 30.0
STALE_S = 300.0
MEMBER_PREFIX = "member."
PARENT_RUN = "mlflow.parentRunId"
NOTE = "mlflow.note.content"
RUN_NAME = "mlflow.runName"

# The test split's scores sit beside the selection split's: ``<member>.test.<metric>``.
TEST_INFIX = "test"

TRAINING_METRICS = ("train_loss", "first_loss", "tokens_per_s", "wall_s", "steps", "trained_tokens",
                    "padding_fraction", "generated_tokens", "generated_tokens_per_s", "scoring_wall_s")


def client():
    import mlflow

    return mlflow.MlflowClient()


def experiment_id() -> str:
    """The experiment of the active run, else the project's experiment (created if missing)."""
    import mlflow

    run = mlflow.active_run()
    if run is not None:
        return run.info.experiment_id
    experiment = mlflow.get_experiment_by_name(EXPERIMENT) or mlflow.get_experiment(
        mlflow.create_experiment(EXPERIMENT)
    )
    return experiment.experiment_id


def run_tags(datasets: Sequence[str], fingerprint: str, target: str | None = None) -> dict[str, str]:
    tags = {
        KIND: "evaluation",
        FINGERPRINT: fingerprint,
        DATASETS: combination_name(datasets),
        SIZE: str(len(datasets)),
    }
    tags.update({f"{MEMBER_PREFIX}{d}": "1" for d in datasets})
    tags.update(process_tags())
    if target:
        tags[TARGET] = target
    return tags


def process_tags() -> dict[str, str]:
    return {HOST: socket.gethostname(), PID: str(os.getpid())}


def member_metrics(
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]], selection_split: str
) -> dict[str, float]:
    """``{split: {member: {metric: value}}}`` as flat MLflow metrics: ``member.metric`` for the
    split the search selects on (what the ledger reads), ``member.test.metric`` for the test split."""
    flat: dict[str, float] = {}
    for member, values in (metrics.get(selection_split) or {}).items():
        flat.update({f"{member}.{name}": float(v) for name, v in values.items()})
    for member, values in (metrics.get("test") or {}).items():
        flat.update({f"{member}.{TEST_INFIX}.{name}": float(v) for name, v in values.items()})
    return flat


def start_evaluation(
    datasets: Sequence[str],
    fingerprint: str,
    params: Mapping[str, object],
    *,
    target: str | None = None,
    parent_run_id: str | None = None,
    experiment: str | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> str:
    """Open the RUNNING run of one evaluation; returns its id.

    It nests under ``parent_run_id`` when given (a search's run, also from a Ray worker), else
    under the active run if there is one.
    """
    import mlflow

    active = mlflow.active_run()
    parent = parent_run_id or (active.info.run_id if active is not None else None)
    tags = {**run_tags(datasets, fingerprint, target), **dict(extra_tags or {})}
    if parent:
        tags[PARENT_RUN] = parent
    run = client().create_run(experiment or experiment_id(), run_name=combination_name(datasets), tags=tags)
    _log_params(run.info.run_id, params)
    return run.info.run_id


def _log_params(run_id: str, params: Mapping[str, object]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:500]) for k, v in params.items()]
    for start in range(0, len(items), 100):  # MLflow takes at most 100 params a batch
        client().log_batch(run_id, params=items[start : start + 100])


def _log_metrics(run_id: str, metrics: Mapping[str, float], tags: Mapping[str, str] | None = None,
                 step: int = 0) -> None:
    """The metrics, and ``tags`` with the last of them (one batch when there are at most 1,000)."""
    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, step) for k, v in metrics.items() if isinstance(v, (int, float))]
    batches = [items[start : start + 1000] for start in range(0, len(items), 1000)] or [[]]
    for number, batch in enumerate(batches):
        last = number == len(batches) - 1
        extra = [RunTag(k, str(v)) for k, v in (tags or {}).items()] if last else []
        if batch or extra:
            client().log_batch(run_id, metrics=batch, tags=extra)


def finish_evaluation(
    run_id: str,
    metrics: Mapping[str, Mapping[str, Mapping[str, float]]],
    selection_split: str,
    training: Mapping[str, object] | None = None,
    predictions: pd.DataFrame | None = None,
    adapter=None,
    wall_s: float | None = None,
    metric: str = "f1",
) -> None:
    """Log an evaluation's scores and artifacts, then mark it finished (the last write, so a run
    interrupted before it never counts).

    Besides ``<member>.<metric>``, the ``metric`` of the selection split is logged under keys
    that every run shares whatever its target, so that MLflow's runs table and compare views line
    runs up: ``score`` (the run's target, where it has one), ``score.<member>`` and
    ``score_test.<member>``.
    """
    values = member_metrics(metrics, selection_split)
    for member, scores in (metrics.get(selection_split) or {}).items():
        if metric in scores:
            values[f"score.{member}"] = float(scores[metric])
    for member, scores in (metrics.get("test") or {}).items():
        if metric in scores:
            values[f"score_test.{member}"] = float(scores[metric])
    target = client().get_run(run_id).data.tags.get(TARGET)
    if target and f"score.{target}" in values:
        values["score"] = values[f"score.{target}"]
    for name in TRAINING_METRICS:
        value = (training or {}).get(name)
        if isinstance(value, (int, float)):
            values["train.wall_s" if name == "wall_s" else name] = float(value)
    if wall_s is not None:
        values["evaluation_wall_s"] = float(wall_s)
    curve = (training or {}).get("loss_curve") or []
    if curve:
        # the training-loss chart of the run (a curve over micro-batches); it is no score, so it
        # may go before the artifacts
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        client().log_batch(run_id, metrics=[Metric("loss", float(v), now, int(step)) for step, v in curve])
    with tempfile.TemporaryDirectory() as tmp:
        if predictions is not None:
            # a table artifact, which the UI's evaluation view shows (parquet it cannot)
            client().log_table(run_id, _displayable(predictions), "predictions.json")
        if isinstance(adapter, (str, Path)):
            client().log_artifacts(run_id, str(adapter), artifact_path="adapter")
        elif adapter is not None and hasattr(adapter, "peft_config"):
            adapter_dir = Path(tmp) / "adapter"
            adapter.save_pretrained(adapter_dir)
            client().log_artifacts(run_id, str(adapter_dir), artifact_path="adapter")
    # The scores and the finished tag go last and together (one batch), so that a run killed
    # while writing its artifacts shows no score in the UI and is never counted.
    _log_metrics(run_id, values, tags={SELECTION_SPLIT: selection_split, STATUS: "finished"})
    client().set_terminated(run_id, "FINISHED")


def _displayable(frame: pd.DataFrame) -> pd.DataFrame:
    """Item lists as one line each ("a | b"), so that the table is plain JSON the UI can show."""
    def cell(value):
        if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, str):
            items = value.tolist() if hasattr(value, "tolist") else value
            return " | ".join(str(v) for v in items) if isinstance(items, list) else str(items)
        return value

    return frame.apply(lambda column: column.map(cell) if column.dtype == object else column)


def fail_evaluation(run_id: str, reason: str) -> None:
    """Mark an evaluation's run FAILED with its reason (shown in the UI as a tag)."""
    client().set_tag(run_id, STATUS, "failed")
    client().set_tag(run_id, FAILURE_REASON, reason[:5000])
    client().set_terminated(run_id, "FAILED")


def _log_files(run_id: str, folder: Path | None) -> None:
    if folder is not None and folder.is_dir() and any(folder.iterdir()):
        client().log_artifacts(run_id, str(folder), artifact_path="logs")


def log_table_evaluation(
    datasets: tuple[str, ...],
    look_up,
    metric: str,
    fingerprint: str,
    params: Mapping[str, str],
    experiment: str,
    parent_run_id: str | None,
    target: str | None = None,
    *,
    evaluator: str = "table",
    split: str = "table",
    logs: Path | None = None,
) -> dict[str, float]:
    """One run for a table look-up (``look_up()`` gives the members' scores), claimed and tagged
    like a real evaluation; a look-up that raises leaves a FAILED run with the reason. The files
    ``look_up`` left in the folder ``logs`` (an external trainer's output) become the run's
    ``logs/`` artifacts, whether it failed or not: a failure is where they are read.

    A table has one score per member: it stands for the selection split and the test split alike.
    Another ``split`` (an external trainer's one score per member) is logged as that split alone,
    with the time ``look_up`` took; ``evaluator`` is the run's ``mtlsearch.evaluator`` tag.
    """
    run_id, other = claim_evaluation(
        datasets, fingerprint, {**params, "combination": combination_name(datasets)},
        target=target, parent_run_id=parent_run_id, experiment=experiment, extra_tags={EVALUATOR: evaluator},
    )
    if other is not None:
        return run_scores(other, datasets, metric)
    started = time.monotonic()
    try:
        scores = look_up()
    except Exception as exc:
        _log_files(run_id, logs)
        fail_evaluation(run_id, f"{type(exc).__name__}: {exc}")
        raise
    _log_files(run_id, logs)  # before the scores, which are written last
    per_member = {m: {metric: s} for m, s in scores.items()}
    if split == "table":
        finish_evaluation(run_id, {"table": per_member, "test": per_member}, "table", metric=metric)
    else:
        finish_evaluation(run_id, {split: per_member}, split, metric=metric, wall_s=time.monotonic() - started)
    return scores


def _scores(metrics: Mapping[str, float], datasets: Sequence[str], suffix: str) -> dict[str, float]:
    return {
        key[: -len(suffix)]: value
        for key, value in metrics.items()
        if key.endswith(suffix) and key[: -len(suffix)] in datasets
    }


class MlflowLedger:
    """Finished evaluations of one fingerprint, read from and written to MLflow runs.

    ``record`` annotates the evaluation's run (made by the evaluator) with the search's view of
    it: the iteration, the surrogate's prediction, and the search run that asked for it.
    """

    def __init__(self, fingerprint: str, metric: str, experiment: str | None = None, search_run_id: str | None = None):
        self.fingerprint = fingerprint
        self.metric = metric
        self.client = client()
        self.experiment_id = experiment or experiment_id()
        self.search_run_id = search_run_id
        self._started_ms = int(time.time() * 1000) - 1000  # runs made for this ledger's search

    def _runs(self, datasets: str | None = None, newest_first: bool = False, limit: int = 50000,
              status: str = "finished"):
        query = f"tags.`{FINGERPRINT}` = '{self.fingerprint}' and tags.`{STATUS}` = '{status}'"
        if datasets is not None:
            query += f" and tags.`{DATASETS}` = '{datasets}'"
        order = "DESC" if newest_first else "ASC"
        return self.client.search_runs(
            [self.experiment_id], filter_string=query, order_by=[f"attributes.start_time {order}"], max_results=limit
        )

    def finished(self) -> list[Evaluation]:
        evaluations = []
        for run in self._runs():
            datasets = tuple(sorted(run.data.tags[DATASETS].split(SEPARATOR)))
            metrics = run.data.metrics
            evaluations.append(
                Evaluation(
                    datasets=datasets,
                    scores=_scores(metrics, datasets, f".{self.metric}"),
                    test_scores=_scores(metrics, datasets, f".{TEST_INFIX}.{self.metric}"),
                    run_id=run.info.run_id,
                )
            )
        return evaluations

    def record(self, evaluation: Evaluation) -> None:
        # The evaluator (possibly on another machine) made and finished the run; find it by its
        # combination and fingerprint, the newest if an interrupted attempt left an older one.
        name = combination_name(evaluation.datasets)
        runs = self._runs(name, newest_first=True, limit=1)
        if not runs:
            raise RuntimeError(f"no finished MLflow run was made for the evaluation of {name}")
        run = runs[0]
        evaluation.run_id = run.info.run_id
        if not evaluation.test_scores:
            evaluation.test_scores = _scores(run.data.metrics, evaluation.datasets, f".{TEST_INFIX}.{self.metric}")
        parent = run.data.tags.get(PARENT_RUN)
        if self.search_run_id and parent and parent != self.search_run_id:
            return  # made by another search at the same time: its run keeps that search's view
        self.client.set_tag(run.info.run_id, ITERATION, str(evaluation.iteration))
        if evaluation.predicted is not None:
            self.client.set_tag(run.info.run_id, PREDICTED, f"{evaluation.predicted:.6f}")
        if self.search_run_id:
            self.client.set_tag(run.info.run_id, SEARCH_RUN, self.search_run_id)

    def failed(self) -> list[Failure]:
        """The evaluations of this fingerprint that failed (FAILED runs with their reason); a
        run that was merely interrupted is not among them."""
        return [
            Failure(
                datasets=tuple(sorted(run.data.tags[DATASETS].split(SEPARATOR))),
                reason=run.data.tags.get(FAILURE_REASON, ""),
                run_id=run.info.run_id,
            )
            for run in self._runs(status="failed")
        ]

    def record_failure(self, failure: Failure) -> None:
        # The evaluator marked its run FAILED; one that failed before opening a run (a table
        # without the combination) gets a FAILED run here, so that every failure is on record.
        name = combination_name(failure.datasets)
        runs = self._runs(name, newest_first=True, limit=1, status="failed")
        if runs and runs[0].info.start_time >= self._started_ms:
            run_id = runs[0].info.run_id
        else:
            run_id = start_evaluation(failure.datasets, self.fingerprint, {"combination": name},
                                      parent_run_id=self.search_run_id, experiment=self.experiment_id)
            fail_evaluation(run_id, failure.reason)
        failure.run_id = run_id
        self.client.set_tag(run_id, ITERATION, str(failure.iteration))
        if self.search_run_id:
            self.client.set_tag(run_id, SEARCH_RUN, self.search_run_id)


# --- the search's own run -------------------------------------------------------------------------


class SearchRun:
    """The parent run of a search: the active run (kedro-mlflow's run of the pipeline) when there
    is one, else a new run that this object ends."""

    def __init__(self, name: str, tags: Mapping[str, str], params: Mapping[str, object] | None = None):
        self.name = name
        self.tags = dict(tags)
        self.params = dict(params or {})
        self.owned = False
        self.run_id = ""
        self.experiment_id = ""
        self._last_step = 0

    def __enter__(self) -> SearchRun:
        import mlflow

        self.owned = mlflow.active_run() is None
        # the project's experiment of this store, not an id MLflow cached from another store
        run = mlflow.start_run(run_name=self.name, experiment_id=experiment_id()) if self.owned else mlflow.active_run()
        self.run_id, self.experiment_id = run.info.run_id, run.info.experiment_id
        tags = {KIND: "search", **self.tags, **process_tags()}
        if not self.owned and run.info.run_name == "search":
            # kedro-mlflow names a run after its pipeline; a search that fails keeps this name
            tags[RUN_NAME] = f"{self.name} ({self.tags.get(STRATEGY, '')})"
        mlflow.set_tags(tags)
        if self.owned and self.params:
            _log_params(self.run_id, self.params)
        # kedro-mlflow's run already beats (StoreHook); a run of our own needs its own heartbeat
        self._heartbeat = Heartbeat(self.run_id).start() if self.owned else None
        return self

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """At the last progress step, so that these (the final answer) are the run's latest values."""
        _log_metrics(self.run_id, {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and math.isfinite(v)},
                     step=self._last_step)

    def log_progress(self, n: int, evaluation, best_score: float, score: float | None = None) -> None:
        """``best_score`` and ``evaluation_score`` at step ``n`` (the n-th new evaluation): the
        run's charts then draw the search's convergence; a failure adds ``failed`` at that step.
        ``score`` is the evaluation's objective (default: the score of the run's target)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._last_step = max(self._last_step, int(n))
        items = []
        if math.isfinite(best_score):
            items.append(Metric("best_score", float(best_score), now, n))
        scores = getattr(evaluation, "scores", None)
        target = self.tags.get(TARGET)
        if scores and score is None and target in scores:
            score = scores[target]
        if scores and score is not None:
            items.append(Metric("evaluation_score", float(score), now, n))
        if scores is None:
            items.append(Metric("failed", 1.0, now, n))
        try:
            client().log_batch(self.run_id, metrics=items)
        except Exception as exc:  # noqa: BLE001 - a chart point is not worth a search
            log.debug("progress of %s: %s", self.run_id, exc)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            client().set_tag(self.run_id, key, str(value))

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        if self._heartbeat is not None:
            self._heartbeat.stop()
        if exc_type is not None:
            try:
                client().set_tag(self.run_id, FAILURE_REASON, f"{exc_type.__name__}: {exc}"[:5000])
            except Exception:  # noqa: BLE001 - the search's own error is the one to show
                pass
        if self.owned:
            mlflow.end_run(status="FAILED" if exc_type else "FINISHED")


class NoiseRun:
    """A run that groups the evaluations of one noise seed of a landscape."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> str:
        import mlflow

        self._run = mlflow.start_run(run_name=self.name, nested=mlflow.active_run() is not None)
        mlflow.set_tag(KIND, "noise")
        return self._run.info.run_id

    def __exit__(self, exc_type, exc, tb) -> None:
        import mlflow

        mlflow.end_run(status="FAILED" if exc_type else "FINISHED")


def tracking_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()


def set_tracking_uri(uri: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(uri)


def search_experiment(run_id: str | None) -> str | None:
    return client().get_run(run_id).info.experiment_id if run_id else None


def read_ledger(fingerprint: str, metric: str, experiment: str | None = None) -> list[Evaluation]:
    """Every finished evaluation of ``fingerprint`` in the store."""
    return MlflowLedger(fingerprint, metric, experiment).finished()


def search_curves(target: str, experiment: str | None) -> pd.DataFrame:
    """The ``best_score`` curve of every search of ``target`` in the experiment: one row per
    (search run, step), with the run's name and strategy."""
    columns = ["run_id", "name", "strategy", "step", "best_score"]
    if not experiment:
        return pd.DataFrame(columns=columns)
    runs = client().search_runs(
        [experiment], filter_string=f"tags.`{KIND}` = 'search' and tags.`{TARGET}` = '{target}'",
        order_by=["attributes.start_time ASC"], max_results=1000,
    )
    rows = []
    for run in runs:
        for metric in client().get_metric_history(run.info.run_id, "best_score"):
            if metric.step > 0:  # step 0 holds the reused evaluations and old step-less values
                rows.append({"run_id": run.info.run_id, "name": run.info.run_name,
                             "strategy": run.data.tags.get(STRATEGY, ""), "step": int(metric.step),
                             "best_score": float(metric.value)})
    frame = pd.DataFrame(rows, columns=columns)
    # the final answer is logged at the last step after its curve point: keep the curve's
    return frame.drop_duplicates(["run_id", "step"], keep="first").reset_index(drop=True)


def log_figure(run_id: str | None, figure, name: str) -> None:
    """Attach a figure to an MLflow run (the search's run) under ``report/``."""
    if run_id:
        client().log_figure(run_id, figure, f"report/{name}")


def annotate_search_run(
    run_id: str | None, best: Mapping, best_run: str | None, summary: str,
    optimum: tuple[Sequence[str], float] | None = None,
) -> None:
    """Make the search's run readable in the MLflow UI: its description, gain, best run, summary.

    ``mlflow.note.content`` is what the UI shows as the run's description; the metrics let the
    compare view and the runs table sort searches by gain and (for tables) by regret.
    """
    if not run_id:
        return
    run = client().get_run(run_id)
    tags = {
        NOTE: summary,
        CANDIDATES: SEPARATOR.join(best.get("candidates", [])),
        METRIC: str(best.get("metric", "")),
        STOP_REASON: str(best.get("stop_reason", "")),
    }
    if run.info.run_name == "search":
        # kedro-mlflow names a run after its pipeline: every search would read "search" in the UI
        tags[RUN_NAME] = f"search {best['target']} ({best.get('strategy', '')})"
    if best_run:
        tags[BEST_RUN] = best_run
    for key, value in tags.items():
        client().set_tag(run_id, key, value)
    metrics = {"evaluations_fraction": (best.get("evaluations_new", 0) + best.get("evaluations_reused", 0))
               / max(int(best.get("combinations") or 1), 1)}
    if best.get("target_alone_score") is not None:
        metrics["target_alone_score"] = float(best["target_alone_score"])
        metrics["gain_over_alone"] = float(best["score"]) - float(best["target_alone_score"])
    if best.get("test_score") is not None:
        metrics["best_test_score"] = float(best["test_score"])
    if optimum is not None:
        metrics["optimum_score"] = float(optimum[1])
        metrics["regret"] = float(optimum[1]) - float(best["score"])
    _log_metrics(run_id, {k: v for k, v in metrics.items() if math.isfinite(v)})
    client().log_text(run_id, summary, "report/search_summary.md")


class EvaluationRunHook:
    """Kedro hook: a node of the ``evaluate`` pipeline that fails inside an open evaluation run
    (its input ``evaluation_run``) marks that run FAILED with the reason, so that a run left
    behind is never taken for a result."""

    @hook_impl
    def on_node_error(self, error, node, catalog, inputs, is_async, run_id) -> None:
        run = (inputs or {}).get("evaluation_run")
        if isinstance(run, Mapping) and run.get("run_id"):
            fail_evaluation(run["run_id"], f"{type(error).__name__}: {error}")


# --- many processes on one store: liveness, orphans, claims, the store's creation --------------


def _tag(key: str, value: str):
    from mlflow.entities import RunTag

    return RunTag(key, str(value))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_dead(tags: Mapping[str, str]) -> bool | None:
    """True or False where this machine can tell (the run's process ran here), else None."""
    if tags.get(HOST) != socket.gethostname() or not str(tags.get(PID, "")).isdigit():
        return None
    return not _pid_alive(int(tags[PID]))


def run_is_dead(run, parents: dict | None = None) -> bool:
    """Whether a RUNNING run was left behind by a process that is gone.

    A run with a heartbeat (a search) is dead when its process is gone or its heartbeat is older
    than STALE_S; an evaluation run when the process that opened it is gone (checked on the same
    host) or its parent search is dead. A run nobody can vouch for either way (another host, no
    heartbeat) is left alone: a live search is never marked dead.
    """
    if run.info.status != "RUNNING":
        return False
    tags = run.data.tags
    if _process_dead(tags):
        return True
    beat = tags.get(HEARTBEAT)
    if beat is not None:
        try:
            return time.time() - float(beat) > STALE_S
        except ValueError:
            return False
    parent_id = tags.get(PARENT_RUN)
    if parent_id:
        cache = parents if parents is not None else {}
        if parent_id not in cache:
            try:
                parent = client().get_run(parent_id)
                cache[parent_id] = parent.info.status != "RUNNING" or run_is_dead(parent, cache)
            except Exception:  # noqa: BLE001 - a deleted parent vouches for nothing
                cache[parent_id] = False
        return cache[parent_id]
    return False


def reap_orphans(experiment: str, keep: str | None = None) -> int:
    """Mark the runs of ``experiment`` that dead processes left RUNNING: FINISHED for an
    evaluation that was tagged finished (all its scores were written), else KILLED. Returns how
    many were marked."""
    runs = client().search_runs([experiment], filter_string="attributes.status = 'RUNNING'", max_results=50000)
    parents: dict = {}
    reaped = 0
    for run in runs:
        if run.info.run_id == keep or not run_is_dead(run, parents):
            continue
        finished = run.data.tags.get(STATUS) == "finished"
        try:
            client().set_terminated(run.info.run_id, "FINISHED" if finished else "KILLED")
        except Exception as exc:  # noqa: BLE001 - another search reaped it first
            log.debug("could not mark %s: %s", run.info.run_id, exc)
            continue
        reaped += 1
    if reaped:
        log.info("marked %d run(s) that a dead process left RUNNING as KILLED (or FINISHED)", reaped)
    return reaped


class Heartbeat:
    """Refreshes a run's HEARTBEAT tag every HEARTBEAT_S seconds while the process lives."""

    def __init__(self, run_id: str, every_s: float = HEARTBEAT_S):
        self.run_id = run_id
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="mtlsearch-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        client().set_tag(self.run_id, HEARTBEAT, f"{time.time():.0f}")
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                client().set_tag(self.run_id, HEARTBEAT, f"{time.time():.0f}")
            except Exception as exc:  # noqa: BLE001 - a missed beat is no reason to stop a search
                log.debug("heartbeat of %s: %s", self.run_id, exc)

    def stop(self) -> None:
        self._stop.set()


def claim_evaluation(
    datasets: Sequence[str], fingerprint: str, params: Mapping[str, object], *, target: str | None = None,
    parent_run_id: str | None = None, experiment: str | None = None, extra_tags: Mapping[str, str] | None = None,
    poll_s: float = 1.0,
):
    """Open the run of an evaluation unless another process has it: returns ``(run_id, None)``
    when this process is to evaluate, ``(None, run)`` with the finished run of another search.

    The look-up and the run's creation happen under a lock file of the store on this machine, so
    that two searches on one store never evaluate one combination at once; while another live
    process holds the combination, this one waits for it to finish. A FAILED run of the other
    process is raised as :class:`ClaimFailed`.
    """
    from filelock import FileLock

    name = combination_name(datasets)
    experiment = experiment or experiment_id()
    query = f"tags.`{FINGERPRINT}` = '{fingerprint}' and tags.`{DATASETS}` = '{name}'"
    waited_on: set[str] = set()
    lock = FileLock(str(lock_path(tracking_uri())))
    while True:
        with lock:
            runs = client().search_runs([experiment], filter_string=query, max_results=1000)
            done = [r for r in runs if r.data.tags.get(STATUS) == "finished"]
            if done:
                return None, max(done, key=lambda r: r.info.start_time)
            failed = [r for r in runs if r.info.run_id in waited_on and r.data.tags.get(STATUS) == "failed"]
            if failed:
                raise ClaimFailed(failed[0].data.tags.get(FAILURE_REASON, "failed in another search"))
            live = [r for r in runs if r.info.status == "RUNNING" and not run_is_dead(r)]
            if not live:
                return start_evaluation(datasets, fingerprint, params, target=target, parent_run_id=parent_run_id,
                                        experiment=experiment, extra_tags=extra_tags), None
        if not waited_on:
            log.info("%s is being evaluated by another process (run %s): waiting for it", name, live[0].info.run_id)
        waited_on.update(r.info.run_id for r in live)
        time.sleep(poll_s)


class ClaimFailed(RuntimeError):
    """The evaluation another process was making of the same combination failed."""


def run_scores(run, datasets: Sequence[str], metric: str) -> dict[str, float]:
    """The members' selection-split scores of a finished evaluation run."""
    return _scores(run.data.metrics, tuple(datasets), f".{metric}")


def prepare_store(uri: str | None = None) -> None:
    """Create a new sqlite store once (see :func:`mtlsearch.locks.create_once`)."""
    import mlflow

    uri = uri or tracking_uri()
    if uri.startswith("sqlite:///"):
        create_once(uri, lambda: mlflow.MlflowClient(uri).search_experiments(max_results=1))


class StoreHook:
    """Kedro hook: creates a new sqlite store before kedro-mlflow (or anything else) opens it,
    so that a search started beside another client of the same new store does not race it; and
    marks kedro-mlflow's run of the pipeline with this process and a heartbeat the moment it is
    opened, so that a rerun can tell it from a live one if this process dies."""

    _heartbeat: Heartbeat | None = None

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None:
            return
        tags = dict(process_tags())
        runner = run_params.get("runner")
        if runner is not None:
            # kedro-mlflow tags the runner object's repr (with its address); its class is what tells
            name = runner if isinstance(runner, str) else repr(runner)
            match = re.match(r"<([\w.]+) object at 0x[0-9a-f]+>", name)
            tags["runner"] = match.group(1).rsplit(".", 1)[-1] if match else name
        try:
            client().log_batch(run.info.run_id, tags=[_tag(k, v) for k, v in tags.items()])
        except Exception as exc:  # noqa: BLE001 - an active run of another store is not this run's
            log.debug("no liveness tags on %s: %s", run.info.run_id, exc)
            return
        self._heartbeat = Heartbeat(run.info.run_id).start()

    @hook_impl
    def after_pipeline_run(self, run_params, run_result, pipeline, catalog) -> None:
        self._stop()

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        try:
            uri = context.config_loader["mlflow"]["server"]["mlflow_tracking_uri"]
        except (KeyError, TypeError, ValueError):
            return
        if isinstance(uri, str):
            prepare_store(uri)
