"""Constraints on combinations (search.min_datasets, max_datasets, required, excluded): kept by
every strategy, the confirmation and the report; impossible ones refused before any run."""

from __future__ import annotations

import itertools
import os

import mlflow
import pandas as pd
import pytest
from mlflow_runs import finished_runs

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.evaluators import table_evaluator
from mtlsearch.landscape.synthetic import generate_landscape, write_table
from mtlsearch.reporting import report as reporting
from mtlsearch.search.loop import (
    Constraints,
    ConstraintViolation,
    InMemoryLedger,
    run_search,
)
from mtlsearch.search.run import SearchSettings, run_tracked_search, tracked_search
from mtlsearch.strategies import STRATEGIES, make_strategy
from mtlsearch.strategies.relatedness import SIGNAL_STRATEGIES

CANDIDATES = ("aux00", "aux01", "aux02", "aux03", "aux04")
# The table's optimum is aux01+aux03+aux04+t: each of these rules it out
CONSTRAINTS = {
    "min": {"min_datasets": 4},
    "max": {"max_datasets": 2},
    "required": {"required": "aux00"},
    "excluded": {"excluded": "aux02+aux03"},
    "combined": {"required": "aux01", "excluded": "aux03", "min_datasets": 2, "max_datasets": 3},
}


def feasible(datasets: str, constraint: dict) -> bool:
    """Whether a combination's name keeps to the constraint (written out again, independently
    of the search's own check)."""
    members = set(datasets.split("+"))
    auxiliaries = members - {"t"}
    required = set(constraint.get("required", "").split("+")) - {""}
    excluded = set(constraint.get("excluded", "").split("+")) - {""}
    return ("t" in members and required <= members and not excluded & members
            and constraint.get("min_datasets", 0) <= len(auxiliaries) <= constraint.get("max_datasets", 99))


@pytest.fixture
def landscape(project):
    # a search outside Kedro tracks where MLflow was last pointed (an evaluation points it at its
    # own store), which may be an earlier test's
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    path = project / "landscape.csv"
    write_table(generate_landscape("pairwise", len(CANDIDATES), seed=0, target="t"), path)
    return path


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One store and table for the many searches of the strategy x constraint matrix (a new
    sqlite store costs seconds); each search tells its own runs by their parent."""
    root = tmp_path_factory.mktemp("constraints")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    path = write_table(generate_landscape("pairwise", len(CANDIDATES), seed=0, target="t"), root / "landscape.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri, path


SEEDS = itertools.count(10, 10)  # a seed per search: its own fingerprints, its confirmation's too


def settings_for(table, strategy: str, constraint: dict, **extra) -> SearchSettings:
    params = {"target": "t", "evaluator": "table", "table_path": str(table), "strategy": strategy, "seed": 1,
              **constraint, **extra}
    if strategy in SIGNAL_STRATEGIES:
        # the signals come from a table; the strategy takes one value per candidate it chooses among
        free = [c for c in CANDIDATES if c not in constraint.get("excluded", "") and c not in constraint.get("required", "")]
        signals = table.parent / "signals.csv"
        pd.DataFrame({"candidate": free, "gradts_tau": [0.9 - 0.2 * i for i in range(len(free))],
                      "in_pvi_group": [i % 2 == 0 for i in range(len(free))]}).to_csv(signals, index=False)
        params["relatedness_path"] = str(signals)
        params["strategy_options"] = ({"tau": [0.9 - 0.2 * i for i in range(len(free))]} if strategy == "gradts"
                                      else {"in_group": [i % 2 == 0 for i in range(len(free))]})
    return SearchSettings.from_params(params)


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_no_strategy_evaluates_a_combination_outside_the_constraints(strategy, name, shared_store):
    uri, landscape = shared_store
    mlflow.set_tracking_uri(uri)
    constraint = CONSTRAINTS[name]
    seed = next(SEEDS)
    # noise: the search ends with a confirmation, whose evaluations must keep to them too
    settings = settings_for(landscape, strategy, constraint, budget=5, patience=None, stopping="patience",
                            table_noise=0.01, confirm={"top_k": 2, "seeds": 1}, seed=seed)
    evaluator = table_evaluator(landscape, "t", 0.01, 0.0, seed)
    history, best, predictions = run_tracked_search(evaluator, settings, "table")
    assert (history["status"] == "finished").all()
    for datasets in history["datasets"]:
        assert feasible(datasets, constraint), datasets
    runs = evaluation_datasets(best["search_run_id"])
    for datasets in runs:
        assert feasible(datasets, constraint), datasets
    if strategy in SIGNAL_STRATEGIES and history.empty:
        # a signal picks its few combinations itself: under these bounds it may have none left
        assert runs == [] and best["confirmation"] is None
        return
    assert len(history) >= 1
    assert len(runs) > len(history)  # the confirmation's evaluations are runs of the store too
    confirmation = best["confirmation"]
    assert confirmation is not None
    for row in confirmation["rows"]:
        assert feasible(row["datasets"], constraint), row
    assert feasible(best["datasets"], constraint)
    for datasets in predictions["datasets"]:
        assert feasible(datasets, constraint), datasets
    expected = {"required": [], "excluded": [], "min_datasets": 0, "max_datasets": None}
    expected.update({k: sorted(v.split("+")) if isinstance(v, str) else v for k, v in constraint.items()})
    assert {k: best["constraints"][k] for k in expected} == expected
    assert {k: best["settings"][k] for k in expected} == expected


def evaluation_datasets(parent: str) -> list[str]:
    """The combinations of every evaluation run of the search run ``parent``, whichever
    experiment holds it (a search outside Kedro tracks into MLflow's default one)."""
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, f"tags.`mtlsearch.kind` = 'evaluation' and "
                              f"tags.`mlflow.parentRunId` = '{parent}'", max_results=10000)
    return [r.data.tags["mtlsearch.datasets"] for r in runs]


def brute_force_optimum(table, constraint: dict) -> tuple[str, float]:
    frame = pd.read_csv(table)
    frame = frame[frame["datasets"].map(lambda d: feasible(d, constraint))]
    best = frame.loc[frame["score"].idxmax()]
    return best["datasets"], float(best["score"])


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_exhaustive_finds_the_best_feasible_combination_and_the_report_says_so(name, project, landscape):
    constraint = CONSTRAINTS[name]
    optimum, optimum_score = brute_force_optimum(landscape, constraint)
    n_feasible = int(pd.read_csv(landscape)["datasets"].map(lambda d: feasible(d, constraint)).sum())
    settings = settings_for(landscape, "exhaustive", constraint, budget=32, patience=None, stopping="patience")
    history, best, _ = run_tracked_search(table_evaluator(landscape, "t"), settings, "table")
    # every feasible combination, each once, and nothing else
    assert len(history) == n_feasible and history["datasets"].is_unique
    assert best["datasets"] == optimum and best["score"] == pytest.approx(optimum_score)
    assert best["combinations"] == n_feasible
    assert set(best["candidates"]) == set(CANDIDATES) - set(constraint.get("excluded", "").split("+"))
    # the unconstrained optimum lies outside every one of these constraints
    assert brute_force_optimum(landscape, {})[0] == "aux01+aux03+aux04+t" != optimum
    report_optimum = reporting.exhaustive_optimum({}, best)
    assert report_optimum == (tuple(optimum.split("+")), pytest.approx(optimum_score))
    summary = reporting.search_summary(best, history, report_optimum)
    assert f"| constraints | {best['constraints']['description']} |" in summary
    assert best["constraints"]["description"] != "none"
    assert f"| exhaustive optimum (feasible) | {optimum_score:.4f} (`{optimum}`) |" in summary
    assert "| regret | 0.0000 |" in summary
    assert f"{n_feasible} of the {n_feasible} combinations the constraints allow (100%)" in summary


def test_the_baseline_is_the_smallest_feasible_combination_or_none(project, landscape):
    common = {"budget": 32, "patience": None, "stopping": "patience", "table_noise": 0.01,
              "confirm": {"top_k": 2, "seeds": 2}, "reuse": False}
    evaluator = table_evaluator(landscape, "t", 0.01, 0.0, 1)

    _, best = tracked_search(evaluator, settings_for(landscape, "exhaustive", {"required": "aux01"}, **common))
    confirmation = best["confirmation"]
    assert best["baseline"] == confirmation["baseline"] == "aux01+t"
    rows = {r["datasets"]: r for r in confirmation["rows"]}
    assert "t" not in rows and rows["aux01+t"]["n"] == 3
    assert best["target_alone_score"] == pytest.approx(rows["aux01+t"]["mean"])
    assert confirmation["verdict"] in ("helps", "no detectable gain", "hurts")
    assert confirmation["gain_over_alone"] is not None

    # one auxiliary at least: no combination without one is feasible, so no baseline and no verdict
    _, best = tracked_search(evaluator, settings_for(landscape, "exhaustive", {"min_datasets": 1}, **common))
    confirmation = best["confirmation"]
    assert best["baseline"] is None and confirmation["baseline"] is None
    assert confirmation["gain_over_alone"] is None and confirmation["verdict"] is None
    assert "search.min_datasets 1" in confirmation["baseline_reason"] == best["baseline_reason"]
    assert best["target_alone_score"] is None
    assert all(feasible(r["datasets"], {"min_datasets": 1}) for r in confirmation["rows"])
    run = mlflow.MlflowClient().get_run(best["search_run_id"])
    assert "mtlsearch.verdict" not in run.data.tags
    assert run.data.tags["mtlsearch.constraints"] == "at least 1 auxiliaries"
    summary = reporting.search_summary(best, pd.DataFrame(columns=["datasets", "score", "predicted", "reused",
                                                                   "run_id", "status", "order"]))
    assert "no verdict: no feasible baseline" in summary and "| why no baseline |" in summary

    # without constraints the baseline is the target alone, as before
    _, best = tracked_search(evaluator, settings_for(landscape, "exhaustive", {}, **common))
    assert best["baseline"] == best["confirmation"]["baseline"] == "t"
    assert best["confirmation"]["verdict"] is not None


IMPOSSIBLE_PARAMS = [
    ({"required": "aux01", "excluded": "aux01"}, "search.required and search.excluded both name 'aux01'"),
    ({"required": "t"}, "search.required: expected auxiliary ids other than the target 't'"),
    ({"excluded": "t"}, "search.excluded: expected auxiliary ids other than the target 't'"),
    ({"min_datasets": 3, "max_datasets": 2}, r"search.min_datasets: expected at most search.max_datasets \(2\)"),
    ({"required": "aux00+aux01", "max_datasets": 1}, r"search.max_datasets: expected at least the 2 search.required"),
    ({"candidates": "aux00+aux01", "min_datasets": 3}, "search.min_datasets: expected at most the 2 candidates"),
    ({"candidates": "aux00+aux01", "required": "aux02"}, r"search.required: expected ids among search.candidates"),
    ({"min_datasets": -1}, "search.min_datasets: expected a non-negative integer"),
    ({"required": "aux00,aux01"}, r"search.required: expected dataset ids joined by '\+'"),
]
IMPOSSIBLE_POOL = [
    ({"required": "zz"}, r"search.required \['zz'\] are not among the evaluator's datasets other than the target"),
    ({"excluded": "zz"}, r"search.excluded \['zz'\] are not among"),
    ({"min_datasets": 6}, r"search.min_datasets 6: expected at most the 5 auxiliaries"),
    ({"min_datasets": 4, "excluded": "aux00+aux01"}, r"search.min_datasets 4: expected at most the 3 auxiliaries"),
]


@pytest.mark.parametrize(("constraint", "message"), IMPOSSIBLE_PARAMS + IMPOSSIBLE_POOL)
def test_impossible_constraints_are_one_line_errors_before_any_run(constraint, message, project, landscape):
    with pytest.raises(ConfigError, match=message) as caught:
        settings = settings_for(landscape, "exhaustive", constraint)
        tracked_search(table_evaluator(landscape, "t"), settings)
    assert "\n" not in str(caught.value)
    # nothing ran: no search run, no evaluation, no study
    uri = os.environ["MLFLOW_TRACKING_URI"]
    if (project / "mlflow.db").exists():
        client = mlflow.MlflowClient(uri)
        experiments = [e.experiment_id for e in client.search_experiments()]
        assert client.search_runs(experiments) == []
    assert not (project / "optuna.db").exists()


def test_impossible_constraints_stop_the_pipeline_before_its_first_evaluation(project, run_pipeline, landscape):
    params = {"search.evaluator": "table", "search.table_path": str(landscape), "search.target": "t"}
    with pytest.raises(ConfigError, match="search.required and search.excluded both name 'aux01'"):
        run_pipeline("search", {**params, "search.required": "aux01", "search.excluded": "aux01"})
    with pytest.raises(ConfigError, match=r"search.min_datasets 6: expected at most the 5 auxiliaries"):
        run_pipeline("search", {**params, "search.min_datasets": 6})
    assert finished_runs(os.environ["MLFLOW_TRACKING_URI"]).empty


def test_the_loop_refuses_a_proposal_outside_the_constraints():
    calls = []

    def evaluate(datasets):
        calls.append(datasets)
        return {"t": 0.5}

    # built without size bounds: its first proposal, the target alone, has no auxiliary
    unbounded = make_strategy("exhaustive", 4, seed=0)
    with pytest.raises(ConstraintViolation, match=r"proposed t, outside the search's constraints \(at least 1 "
                                                  r"auxiliaries\): it has 0 auxiliaries, fewer than min_datasets 1"):
        run_search("t", ("a", "b", "c", "d"), unbounded, evaluate, InMemoryLedger(), budget=4, patience=None,
                   progress=None, constraints=Constraints(min_datasets=1))
    assert calls == []
    with pytest.raises(ValueError, match="must be neither targets, required nor candidates"):
        run_search("t", ("a", "b"), make_strategy("exhaustive", 2), evaluate, InMemoryLedger(), budget=1,
                   patience=None, progress=None, constraints=Constraints(excluded=("a",)))
    with pytest.raises(ValueError, match="exclude the target"):
        run_search("t", ("a", "b"), make_strategy("exhaustive", 2), evaluate, InMemoryLedger(), budget=1,
                   patience=None, progress=None, constraints=Constraints(required=("a",)))
    assert calls == []


def test_reused_evaluations_outside_the_constraints_are_left_aside():
    from mtlsearch.search.loop import Evaluation

    ledger = InMemoryLedger([
        Evaluation(("t",), {"t": 0.9}),                    # too small
        Evaluation(("a", "t"), {"t": 0.6}),                # lacks the required b
        Evaluation(("b", "t"), {"t": 0.55}),               # reusable
        Evaluation(("b", "c", "t"), {"t": 0.95}),          # holds the excluded c
    ])
    calls = []

    def evaluate(datasets):
        calls.append(datasets)
        return {"t": 0.5 + 0.01 * len(datasets)}

    result = run_search("t", ("a", "d"), make_strategy("exhaustive", 2), evaluate, ledger, budget=10,
                        patience=None, progress=None,
                        constraints=Constraints(required=("b",), excluded=("c",), min_datasets=1))
    assert [e.datasets for e in result.history if e.reused] == [("b", "t")]
    assert calls == [("a", "b", "t"), ("b", "d", "t"), ("a", "b", "d", "t")]
    assert result.best == (("b", "t"), pytest.approx(0.55))
