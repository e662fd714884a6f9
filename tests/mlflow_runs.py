"""The evaluation runs of a real MLflow store, as a table the tests read."""

from __future__ import annotations

import mlflow
import pandas as pd


def finished_runs(tracking_uri: str) -> pd.DataFrame:
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    if experiment is None:
        return pd.DataFrame(columns=["datasets", "status", "run_id"])
    runs = client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'evaluation'", max_results=10000)
    return pd.DataFrame(
        [
            {"datasets": r.data.tags["mtlsearch.datasets"], "status": r.data.tags.get("mtlsearch.status"),
             "run_id": r.info.run_id, "parent": r.data.tags.get("mlflow.parentRunId")}
            for r in runs
        ],
        columns=["datasets", "status", "run_id", "parent"],
    )
