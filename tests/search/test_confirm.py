"""Confirmation against noise, and selection on the dev split with the test split only reported."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from interrupt import kill_9_when
from mtlsearch import tracking
from mtlsearch.landscape.synthetic import generate_landscape, write_table
from mtlsearch.search.confirm import confirm, extra_seeds, paired_gain, top_combinations, verdict
from mtlsearch.search.run import SearchSettings, run_tracked_search

A, B, T = ("a", "t"), ("b", "t"), ("t",)


def fixed(scores: dict[tuple[int, tuple], float]):
    return lambda seed, datasets: (scores[(seed, datasets)], None)


def test_verdict_on_hand_made_scores():
    base = {T: (0.50, None), A: (0.60, None), B: (0.52, None)}
    # a gains about 0.1 under every seed: helps
    helped = confirm([A, B], T, 0, base, [1, 2], fixed({
        (1, T): 0.51, (1, A): 0.60, (1, B): 0.49, (2, T): 0.49, (2, A): 0.58, (2, B): 0.53}))
    assert helped["pick"] == "a+t" and helped["verdict"] == "helps"
    gain = helped["gain_over_alone"]
    assert gain["mean"] == pytest.approx((0.10 + 0.09 + 0.09) / 3)
    assert gain["ci_low"] > 0 and gain["ci_high"] > gain["mean"]
    rows = {r["datasets"]: r for r in helped["rows"]}
    assert rows["a+t"]["n"] == 3 and rows["a+t"]["mean"] == pytest.approx(0.5933333)
    assert rows["a+t"]["sd"] == pytest.approx(pd.Series([0.60, 0.60, 0.58]).std())

    # the single best observation (b, 0.70) is a lucky draw: its mean loses to the target alone
    lucky = confirm([B], T, 0, {T: (0.50, None), B: (0.70, None)}, [1, 2],
                    fixed({(1, T): 0.52, (1, B): 0.40, (2, T): 0.50, (2, B): 0.41}))
    assert lucky["pick"] == "t" and lucky["verdict"] == "no detectable gain"
    assert lucky["gain_over_alone"]["mean"] == 0.0

    # a gain within the noise
    unclear = paired_gain_of({0: 0.55, 1: 0.47, 2: 0.53}, {0: 0.50, 1: 0.50, 2: 0.50})
    assert verdict(unclear) == "no detectable gain" and unclear["ci_low"] < 0 < unclear["ci_high"]
    worse = paired_gain_of({0: 0.40, 1: 0.41, 2: 0.39}, {0: 0.50, 1: 0.51, 2: 0.50})
    assert verdict(worse) == "hurts"


def test_a_failed_confirmation_evaluation_leaves_its_row_a_seed_short():
    base = {T: (0.50, None), A: (0.60, None)}
    answers = {(1, T): (0.51, None), (2, T): (0.49, None), (2, A): (0.58, None)}  # (1, A) failed
    confirmed = confirm([A], T, 0, base, [1, 2], lambda seed, datasets: answers.get((seed, datasets)))
    rows = {r["datasets"]: r for r in confirmed["rows"]}
    assert rows["a+t"]["n"] == 2 and rows["t"]["n"] == 3
    assert confirmed["gain_over_alone"]["mean"] == pytest.approx((0.10 + 0.09) / 2)  # paired on seeds 0, 2


def paired_gain_of(pick: dict, alone: dict) -> dict:
    from mtlsearch.search.confirm import Confirmed

    return paired_gain(Confirmed(A, pick), Confirmed(T, alone))


def test_top_combinations_follow_the_posterior_mean_and_leave_out_the_target_alone():
    observed = {T: 0.5, A: 0.7, B: 0.6, ("a", "b", "t"): 0.65}
    assert top_combinations(observed, None, T, 2) == [A, ("a", "b", "t")]
    predicted = {A: 0.55, B: 0.62, ("a", "b", "t"): 0.60, T: 0.9}
    assert top_combinations(observed, predicted, T, 2) == [B, ("a", "b", "t")]
    assert extra_seeds(2, 5) == [6, 7] and extra_seeds([0, 3, 4], 0) == [3, 4]


class SplitScores:
    """An evaluator whose dev and test rankings disagree: combinations with ``a`` are best on
    test, those with ``b`` on dev. Its runs are real MLflow runs with both splits' metrics."""

    ids = ("a", "b", "c", "t")
    fingerprint = "split-scores"
    seed = 0

    def scores(self, datasets) -> tuple[float, float]:
        dev = 0.5 + 0.2 * ("b" in datasets) - 0.05 * ("c" in datasets)
        test = 0.5 + 0.2 * ("a" in datasets) - 0.05 * ("c" in datasets)
        return dev, test

    def evaluate(self, datasets, *, metric, target=None, parent_run_id=None, experiment_id=None):
        dev, test = self.scores(datasets)
        run_id = tracking.start_evaluation(datasets, self.fingerprint, {}, target=target,
                                           parent_run_id=parent_run_id, experiment=experiment_id)
        members = {m: {metric: (dev if m == "t" else 0.0)} for m in datasets}
        tests = {m: {metric: (test if m == "t" else 0.0)} for m in datasets}
        tracking.finish_evaluation(run_id, {"dev": members, "test": tests}, "dev")
        return {m: v[metric] for m, v in members.items()}


def test_the_search_selects_on_dev_and_reports_the_test_score(project):
    settings = SearchSettings.from_params({"target": "t", "strategy": "exhaustive", "budget": 8, "patience": None,
                                           "stopping": "patience", "confirm": {"top_k": 0}})
    history, best, _ = run_tracked_search(SplitScores(), settings, "dev")
    assert len(history) == 8 and set(history["split"]) == {"dev"}
    evaluator = SplitScores()
    for row in history.itertuples():
        dev, test = evaluator.scores(row.datasets.split("+"))
        assert row.score == pytest.approx(dev) and row.test_score == pytest.approx(test)
    # the best on test (a+t, 0.7) is not the pick: the pick is the best on dev
    assert best["datasets"] == "b+t" and best["score"] == pytest.approx(0.7)
    assert best["selection_split"] == "dev"
    assert best["test_score"] == pytest.approx(0.5)
    assert best["target_alone_test_score"] == pytest.approx(0.5) and best["target_alone_score"] == pytest.approx(0.5)
    assert best["confirmation"] is None
    run = mlflow.MlflowClient().get_run(best["search_run_id"])
    assert run.data.metrics["best_score"] == pytest.approx(0.7)
    assert run.data.metrics["best_test_score"] == pytest.approx(0.5)


def finished(uri: str) -> pd.DataFrame:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    if experiment is None:
        return pd.DataFrame(columns=["datasets", "fingerprint"])
    runs = client.search_runs([experiment.experiment_id],
                              "tags.`mtlsearch.kind` = 'evaluation' and tags.`mtlsearch.status` = 'finished'",
                              max_results=10000)
    return pd.DataFrame([{"datasets": r.data.tags["mtlsearch.datasets"], "fingerprint": r.data.tags["mtlsearch.fingerprint"]}
                         for r in runs], columns=["datasets", "fingerprint"])


def test_confirmation_resumes_after_kill_9_without_repeating_an_evaluation(project, load):
    table = project / "landscape.csv"
    # two candidates: the search evaluates all four combinations, so a rerun's search adds none
    # and its confirmation asks for the same combinations as the interrupted one
    write_table(generate_landscape("pairwise", 2, seed=3, target="t"), table)
    params = (f"search.evaluator=table,search.table_path={table},search.target=t,search.budget=4,"
              "search.stopping=patience,search.patience=null,search.table_noise=0.02,search.table_delay_s=0.4,"
              "search.strategy=exhaustive")
    command = [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params]
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    uri = os.environ["MLFLOW_TRACKING_URI"]
    finished(uri)  # create the store first: two processes migrating one new sqlite file race

    def confirming() -> bool:
        runs = finished(uri)
        # the search's four evaluations share one fingerprint; confirmation runs have others
        return len(runs) >= 6 and runs["fingerprint"].nunique() > 1

    kill_9_when(command, project, confirming, "a confirmation evaluation finished")
    before = finished(uri)
    rerun = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = finished(uri)
    pairs = list(zip(after["fingerprint"], after["datasets"]))
    assert len(pairs) == len(set(pairs)), "an evaluation was made twice"
    assert set(zip(before["fingerprint"], before["datasets"])) <= set(pairs)
    best = load("best_combination")
    confirmation = best["confirmation"]
    assert confirmation["seeds"] == [0, 1, 2]  # the search's own seed and two more
    # the three combinations with an auxiliary and the target alone, again under two more seeds
    assert len(after) == 4 + 4 * 2
    assert all(row["n"] == 3 for row in confirmation["rows"])
    assert confirmation["verdict"] in ("helps", "no detectable gain", "hurts")
    assert math.isfinite(confirmation["gain_over_alone"]["mean"])
    assert best["datasets"] in {row["datasets"] for row in confirmation["rows"]}
