"""The evaluate pipeline end to end: raw files -> tiny model fine-tune -> scores, one MLflow run."""

from __future__ import annotations

import os

import mlflow
import pytest

from mtlsearch.evaluation.recipe import EvaluationFailed


def evaluation_runs():
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("mtlsearch")
    return client, client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'evaluation'")


def test_evaluate_pipeline_end_to_end(tiny_project, run_pipeline, load):
    run_pipeline("evaluate", {"evaluate.datasets": "healthadvice+bc2gm"})
    metrics = load("evaluation_metrics")
    assert set(metrics) == {"bc2gm", "healthadvice"}
    for values in metrics.values():
        assert {"precision", "recall", "f1"} <= set(values)
        assert all(0.0 <= values[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert {"accuracy", "macro_f1"} <= set(metrics["healthadvice"])

    predictions = load("predictions")
    assert set(predictions["dataset"]) == {"bc2gm", "healthadvice"}
    assert {"input", "gold", "output", "predicted"} <= set(predictions.columns)
    sizes = predictions.groupby("dataset").size()
    assert sizes["bc2gm"] == 6 and 1 <= sizes["healthadvice"] <= 6  # at most max_examples test examples

    client, runs = evaluation_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.data.tags["mtlsearch.status"] == "finished"
    assert run.data.params["combination"] == "bc2gm+healthadvice"
    assert run.data.params["finetune.lora.r"] == "4"
    assert {"bc2gm.f1", "healthadvice.f1", "healthadvice.accuracy", "train_loss", "tokens_per_s"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"predictions.parquet", "adapter"} <= artifacts

    # the adapter artifact loads onto the base model
    from mtlsearch.finetune.training import load_adapter

    base = load("base_model")
    adapted = load_adapter(base.value, load("adapter"))
    assert any("lora" in name for name, _ in adapted.named_parameters())


def test_base_artifacts_are_built_once(tiny_project, run_pipeline, load, caplog):
    run_pipeline("evaluate", {"evaluate.datasets": "healthadvice"})
    first = load("base_model").fingerprint
    with caplog.at_level("INFO", logger="mtlsearch"):
        run_pipeline("evaluate", {"evaluate.datasets": "bc2gm"})
    assert "base model %s is up to date: reused" % first in caplog.text
    assert "tokenizer" in caplog.text and "is up to date" in caplog.text


def test_failed_evaluation_is_a_failed_run_with_its_reason(tiny_project, run_pipeline, load):
    with pytest.raises(EvaluationFailed, match="healthadvice"):
        run_pipeline("evaluate", {"evaluate.datasets": "healthadvice", "finetune.lr": 1.0e30})
    _, runs = evaluation_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FAILED"
    assert run.data.tags["mtlsearch.status"] == "failed"
    assert "TrainingDivergedError" in run.data.tags["failure_reason"]
    assert "healthadvice.f1" not in run.data.metrics
    with pytest.raises(Exception):
        load("evaluation_metrics")
