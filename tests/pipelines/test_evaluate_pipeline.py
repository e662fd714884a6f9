"""The evaluate pipeline end to end: raw files -> tiny model fine-tune -> scores, one MLflow run."""

from __future__ import annotations

import os

import mlflow
import pytest

from mtlsearch.finetune.training import TrainingDivergedError


def evaluation_runs():
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("mtlsearch")
    return client, client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'evaluation'")


def test_evaluate_pipeline_end_to_end(tiny_project, run_pipeline, load):
    run_pipeline("evaluate", {"evaluate.datasets": "healthadvice+bc2gm"})
    metrics = load("evaluation_metrics")
    # scored on the split the search selects on (dev) and on test, which is reported
    assert set(metrics) == {"dev", "test"}
    for split in metrics.values():
        assert set(split) == {"bc2gm", "healthadvice"}
        for values in split.values():
            assert {"precision", "recall", "f1"} <= set(values)
            assert all(0.0 <= values[k] <= 1.0 for k in ("precision", "recall", "f1"))
        assert {"accuracy", "macro_f1"} <= set(split["healthadvice"])

    predictions = load("predictions")
    assert set(predictions["dataset"]) == {"bc2gm", "healthadvice"}
    assert set(predictions["split"]) == {"dev", "test"}
    assert {"input", "gold", "output", "predicted"} <= set(predictions.columns)
    sizes = predictions[predictions["split"] == "test"].groupby("dataset").size()
    assert sizes["bc2gm"] == 6 and 1 <= sizes["healthadvice"] <= 6  # at most max_examples test examples

    client, runs = evaluation_runs()
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.data.tags["mtlsearch.status"] == "finished"
    assert run.data.params["combination"] == "bc2gm+healthadvice"
    assert run.data.params["finetune.lora.r"] == "4"
    assert {"bc2gm.f1", "healthadvice.f1", "healthadvice.accuracy", "bc2gm.test.f1", "train_loss",
            "tokens_per_s"} <= set(run.data.metrics)
    assert run.data.metrics["healthadvice.f1"] == metrics["dev"]["healthadvice"]["f1"]
    assert run.data.metrics["healthadvice.test.f1"] == metrics["test"]["healthadvice"]["f1"]
    assert run.data.tags["mtlsearch.selection_split"] == "dev"
    assert load("evaluation_record")["run_id"] == run.info.run_id
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"predictions.json", "adapter"} <= artifacts
    # the keys every run shares, whatever its target: comparable columns in the runs table
    assert run.data.metrics["score.healthadvice"] == metrics["dev"]["healthadvice"]["f1"]
    assert run.data.metrics["score_test.bc2gm"] == metrics["test"]["bc2gm"]["f1"]
    curve = client.get_metric_history(run.info.run_id, "loss")
    assert len(curve) > 1 and [m.step for m in curve] == sorted(m.step for m in curve)  # a training-loss chart
    shown = client.load_table(run.info.experiment_id, artifact_file="predictions.json", run_ids=[run.info.run_id])
    assert len(shown) == len(predictions) and shown["gold"].map(type).eq(str).all()

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
    with pytest.raises(TrainingDivergedError):
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


def test_the_stage_pipelines_in_a_row_and_the_search_recipe_give_the_evaluate_metrics(tiny_project, run_pipeline, load):
    """One recipe: formatting -> finetune -> scoring as three runs, the evaluate pipeline, and the
    search's evaluator agree for a non-zero seed."""
    params = {"evaluate.datasets": "healthadvice+bc2gm", "evaluate.seed": 2}
    run_pipeline("evaluate", params)
    evaluated = load("evaluation_metrics")
    for stage in ("formatting", "finetune", "scoring"):
        run_pipeline(stage, params)
    assert load("evaluation_metrics") == evaluated
    mixture = load("training_mixture")

    from mtlsearch.evaluation.recipe import EvaluationConfig, evaluate_combination

    config = EvaluationConfig(
        formatting=project_parameters_of(tiny_project)["formatting"],
        finetune=project_parameters_of(tiny_project)["finetune"],
        scoring=project_parameters_of(tiny_project)["scoring"],
        seed=2,
    )
    result = evaluate_combination("bc2gm+healthadvice", load("examples"), load("tokenizer"), load("base_model"),
                                  config, tracking_run=False)
    assert result.metrics == evaluated
    # another seed is another draw of the mixture and of the fine-tune
    run_pipeline("formatting", {**params, "evaluate.seed": 3})
    assert not load("training_mixture").equals(mixture)


def project_parameters_of(project):
    from kedro.config import OmegaConfigLoader
    from kedro.framework.project import settings

    return OmegaConfigLoader(str(project / "conf"), **settings.CONFIG_LOADER_ARGS)["parameters"]
