"""Every search is an Optuna study in its storage: one trial per evaluation, named by dataset."""

from __future__ import annotations

import os

import optuna
import pytest
from optuna.trial import TrialState



def params(table, **extra):
    return {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t", "search.seed": 1,
            "search.budget": 7, "search.stopping": "patience", "search.patience": None,
            **{f"search.{k}": v for k, v in extra.items()}}


def study_of(best, project):
    import mlflow

    run = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).get_run(best["search_run_id"])
    storage = run.data.tags["mtlsearch.optuna_storage"]
    assert storage == f"sqlite:///{project / 'optuna.db'}"  # beside the MLflow store
    return optuna.load_study(study_name=run.data.tags["mtlsearch.optuna_study"], storage=storage)


@pytest.mark.parametrize("strategy", ["tpe", "greedy", "surrogate"])
def test_the_study_holds_one_trial_per_evaluation(strategy, project, run_pipeline, load, table):
    run_pipeline("search", params(table, strategy=strategy))
    history, best = load("search_history"), load("best_combination")
    study = study_of(best, project)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == len(history)
    assert {t.user_attrs["datasets"] for t in complete} == set(history["datasets"])
    for trial in complete:
        members = set(trial.user_attrs["datasets"].split("+")) - {"t"}
        assert trial.params == {c: int(c in members) for c in best["candidates"]}
        score = history.loc[history["datasets"] == trial.user_attrs["datasets"], "score"].item()
        assert trial.value == pytest.approx(score)
    assert study.best_value == pytest.approx(history["score"].max())
    assert not study.get_trials(states=(TrialState.RUNNING,))
    # Optuna's own figures read it
    assert optuna.visualization.plot_optimization_history(study).data


def test_reused_evaluations_are_added_trials_of_the_next_search(project, run_pipeline, load, table):
    run_pipeline("search", params(table, strategy="random", budget=4))
    run_pipeline("search", params(table, strategy="tpe", budget=3))
    best = load("best_combination")
    study = study_of(best, project)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 7
    assert sum(t.user_attrs["reused"] for t in complete) == 4
    assert len(optuna.get_all_study_names(f"sqlite:///{project / 'optuna.db'}")) == 2  # one study per search


def test_optuna_dashboard_shows_the_study_of_a_search(project, run_pipeline, load, table, tmp_path):
    import shutil
    import sys
    from pathlib import Path

    from headless import chromium_page, free_port, keep_screenshot, served

    run_pipeline("search", params(table, strategy="surrogate"))
    best = load("best_combination")
    study = study_of(best, project)
    port = free_port()
    executable = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent)) or "optuna-dashboard"
    base = f"http://127.0.0.1:{port}"
    command = [executable, f"sqlite:///{project / 'optuna.db'}", "--host", "127.0.0.1", "--port", str(port)]
    with served(command, f"{base}/api/studies", tmp_path / "dashboard.log"):
        with chromium_page(base, tmp_path / "chromium") as page:
            page.goto(f"{base}/dashboard", wait_until="load")
            page.get_by_text(study.study_name).first.wait_for(timeout=60_000)
            page.goto(f"{base}/dashboard/studies/{study._study_id}", wait_until="load")
            # the best trial's card and the study's attributes, which link it to its MLflow run
            page.get_by_text(f"Best Trial (number={study.best_trial.number})").first.wait_for(timeout=60_000)
            page.get_by_text(best["search_run_id"]).first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "optuna-dashboard.png"))
    assert (tmp_path / "optuna-dashboard.png").stat().st_size > 0
    keep_screenshot(tmp_path / "optuna-dashboard.png")
