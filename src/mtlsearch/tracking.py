"""MLflow as the ledger of evaluations: the one source of truth for what has been evaluated.

Every evaluation is an MLflow run tagged with its combination (``mtlsearch.datasets``) and the
fingerprint of everything else its scores depend on (``mtlsearch.fingerprint``); it is tagged
``mtlsearch.status=finished`` only once all its metrics are logged. A search reads the finished
runs of its fingerprint at start, so a rerun after an interruption (even ``kill -9``) reuses
every finished evaluation, and a run left RUNNING or FAILED is evaluated again. The store is
whatever MLflow is configured with (``MLFLOW_TRACKING_URI``; a local sqlite file by default).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from mtlsearch.search.loop import Evaluation

log = logging.getLogger(__name__)

STATUS = "mtlsearch.status"
FINGERPRINT = "mtlsearch.fingerprint"
DATASETS = "mtlsearch.datasets"


def member_metrics(scores: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{member: {metric: value}}`` as flat MLflow metrics ``member.metric``."""
    return {f"{member}.{name}": float(value) for member, values in scores.items() for name, value in values.items()}


class MlflowLedger:
    """Finished evaluations of one fingerprint, read from and written to MLflow runs.

    ``record`` annotates the evaluation's run (made by the evaluator) with the search's view of
    it: the iteration, the surrogate's prediction, and the search run that asked for it.
    """

    def __init__(self, fingerprint: str, metric: str, experiment_id: str | None = None, search_run_id: str | None = None):
        import mlflow

        self.fingerprint = fingerprint
        self.metric = metric
        self.client = mlflow.MlflowClient()
        self.experiment_id = experiment_id or _current_experiment_id()
        self.search_run_id = search_run_id

    def finished(self) -> list[Evaluation]:
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{FINGERPRINT}` = '{self.fingerprint}' and tags.`{STATUS}` = 'finished'",
            order_by=["attributes.start_time ASC"],
            max_results=50000,
        )
        evaluations = []
        suffix = f".{self.metric}"
        for run in runs:
            datasets = tuple(sorted(run.data.tags[DATASETS].split("+")))
            scores = {
                key[: -len(suffix)]: value
                for key, value in run.data.metrics.items()
                if key.endswith(suffix) and key[: -len(suffix)] in datasets
            }
            evaluations.append(Evaluation(datasets=datasets, scores=scores, run_id=run.info.run_id))
        return evaluations

    def record(self, evaluation: Evaluation) -> None:
        # The evaluator (possibly on another machine) made and finished the run; find it by its
        # combination and fingerprint, the newest if an interrupted attempt left an older one.
        name = "+".join(sorted(evaluation.datasets))
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(
                f"tags.`{FINGERPRINT}` = '{self.fingerprint}' and tags.`{STATUS}` = 'finished' "
                f"and tags.`{DATASETS}` = '{name}'"
            ),
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs:
            raise RuntimeError(f"no finished MLflow run was made for the evaluation of {name}")
        run_id = runs[0].info.run_id
        evaluation.run_id = run_id
        self.client.set_tag(run_id, "mtlsearch.iteration", str(evaluation.iteration))
        if evaluation.predicted is not None:
            self.client.set_tag(run_id, "mtlsearch.predicted", f"{evaluation.predicted:.6f}")
        if self.search_run_id:
            self.client.set_tag(run_id, "mtlsearch.search_run", self.search_run_id)


def _current_experiment_id() -> str:
    import mlflow

    run = mlflow.active_run()
    if run is not None:
        return run.info.experiment_id
    experiment = mlflow.get_experiment_by_name("mtlsearch") or mlflow.get_experiment(
        mlflow.create_experiment("mtlsearch")
    )
    return experiment.experiment_id


def log_table_evaluation(
    datasets: tuple[str, ...],
    scores: Mapping[str, float],
    metric: str,
    fingerprint: str,
    params: Mapping[str, str],
    experiment_id: str,
    parent_run_id: str | None,
    target: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """One finished MLflow run for a table look-up, tagged like a real evaluation."""
    import mlflow

    from mtlsearch.evaluation.recipe import run_tags

    client = mlflow.MlflowClient(tracking_uri)
    tags = run_tags(datasets, fingerprint, target)
    tags["mtlsearch.evaluator"] = "table"
    if parent_run_id:
        tags["mlflow.parentRunId"] = parent_run_id
    run = client.create_run(experiment_id, run_name="+".join(datasets), tags=tags)
    run_id = run.info.run_id
    from mlflow.entities import Metric, Param

    client.log_batch(
        run_id,
        metrics=[Metric(k, v, int(time.time() * 1000), 0) for k, v in member_metrics({m: {metric: s} for m, s in scores.items()}).items()],
        params=[Param(k, str(v)[:500]) for k, v in {**params, "combination": "+".join(datasets)}.items()],
    )
    client.set_tag(run_id, STATUS, "finished")
    client.set_terminated(run_id, "FINISHED")
    return run_id
