"""Relatedness signals in real Kedro sessions: the gradts and pvi strategies through the search
pipeline on a signal table, and the relatedness pipeline on the real data with a tiny model."""

from __future__ import annotations

import os

import mlflow
import pandas as pd
import pytest
from conftest import TINY_PARAMETERS
from mlflow_runs import finished_runs

from mtlsearch.errors import ConfigError

SIGNALS = [
    {"candidate": "t", "role": "target", "gradts_tau": 1.0, "in_pvi_group": True, "cost_evaluations": 2.5,
     "gradts_cost_evaluations": 1.25, "pvi_cost_evaluations": 2.5},
    *[{"candidate": name, "role": "auxiliary", "gradts_tau": tau, "in_pvi_group": group, "pvi_pvalue": p,
       "cost_evaluations": 2.5, "gradts_cost_evaluations": 1.25, "pvi_cost_evaluations": 2.5}
      for name, tau, group, p in [("aux00", 0.9, True, 0.4), ("aux01", 0.1, False, 0.01),
                                  ("aux02", 0.6, True, 0.2), ("aux03", 0.3, False, 0.001)]],
]


@pytest.fixture
def signals(project):
    path = project / "signals.csv"
    pd.DataFrame(SIGNALS).to_csv(path, index=False)
    return path


def table_params(table, signals, **extra):
    params = {"search.evaluator": "table", "search.table_path": str(table), "search.target": "t",
              "search.relatedness_path": str(signals), "search.patience": None, "search.stopping": "patience",
              "search.budget": 8}
    params.update({f"search.{k}": v for k, v in extra.items()})
    return params


@pytest.mark.parametrize("strategy, options, cost", [
    ("gradts", {"variant": "thres"}, 6.25),
    ("gradts", {"variant": "trial"}, 6.25),
    ("pvi", {}, 12.5),
])
def test_signal_strategies_search_through_the_pipeline(strategy, options, cost, project, run_pipeline, load, table,
                                                       signals):
    run_pipeline("search", table_params(table, signals, strategy=strategy, strategy_options=options))
    history, best = load("search_history"), load("best_combination")
    order = list(history["datasets"])
    if options.get("variant") == "thres":
        assert order == ["aux00+aux02+t", "t"]  # tau >= 0.47, then the target alone
    elif options.get("variant") == "trial":
        assert order[:3] == ["t", "aux00+t", "aux00+aux02+t"]  # by decreasing tau
        scores = list(history["score"])
        # stops at the first prefix that scores below the one before (or when all are added)
        assert all(b >= a for a, b in zip(scores[:-2], scores[1:-1]))
        assert len(order) == 5 or scores[-1] < scores[-2]
    else:
        assert order[:2] == ["t", "aux00+aux02+t"]  # the target alone and its PVI group
        assert set(order[2:4]) <= {"aux00+t", "aux02+t"}
    truth = dict(zip(*pd.read_csv(table)[["datasets", "score"]].T.values))
    assert best["score"] == pytest.approx(max(truth[d] for d in order))
    # the signals' compute counted beside the evaluations (the target's shared row included)
    assert best["signal_cost_evaluations"] == pytest.approx(cost)
    assert best["prior_weight"] is None  # no surrogate, no prior to believe
    assert "prior weight" not in load("search_summary")
    assert history["signal_cost_evaluations"].tolist() == pytest.approx([cost] * len(history))
    run = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).get_run(best["search_run_id"])
    assert run.data.metrics["signal_cost_evaluations"] == pytest.approx(cost)


@pytest.mark.parametrize("reverse", [False, True])
def test_the_default_strategy_takes_a_prior_from_the_signal_table(reverse, project, run_pipeline, load, table):
    # the signal is the table's own main effects (each auxiliary's mean score with it minus
    # without it), right or reversed
    scores = pd.read_csv(table)
    members = scores["datasets"].str.split("+")
    rows = [dict(row) for row in SIGNALS]
    for row in rows[1:]:
        inside = members.apply(lambda m, name=row["candidate"]: name in m)
        effect = scores["score"][inside].mean() - scores["score"][~inside].mean()
        row["gradts_tau"] = 0.5 + (-effect if reverse else effect)
    path = project / "prior.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    run_pipeline("search", table_params(table, path, strategy="surrogate", strategy_options={"prior": "gradts"}))
    history, best = load("search_history"), load("best_combination")
    # the evidence believes the right signal and shrinks the reversed one away; with a prior
    # the design is the target alone and the whole pool, right or reversed
    if reverse:
        assert best["prior_weight"] < 0.1, best["prior_weight"]
    else:
        assert best["prior_weight"] > 0.2, best["prior_weight"]
    assert list(history["datasets"])[:2] == ["t", "aux00+aux01+aux02+aux03+t"]
    run = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).get_run(best["search_run_id"])
    assert run.data.metrics["prior_weight"] == pytest.approx(best["prior_weight"])
    assert f"| prior weight | {best['prior_weight']:.2f} " in load("search_summary")
    assert best["signal_cost_evaluations"] == pytest.approx(6.25)
    with pytest.raises(ConfigError, match="search.relatedness_path: expected a signal table for strategy_options.prior"):
        run_pipeline("search", {**table_params(table, path, strategy="surrogate", strategy_options={"prior": "pvi"}),
                                "search.relatedness_path": None})


def test_signal_strategies_need_a_table_with_every_candidate(project, run_pipeline, table, signals):
    with pytest.raises(ConfigError, match="search.relatedness_path: expected a signal table for strategy 'pvi'"):
        run_pipeline("search", {**table_params(table, signals, strategy="pvi"), "search.relatedness_path": None})
    short = project / "short.csv"
    pd.DataFrame(SIGNALS[:3]).to_csv(short, index=False)
    with pytest.raises(ConfigError, match=r"no row for candidate\(s\) \['aux02', 'aux03'\]"):
        run_pipeline("search", table_params(table, short, strategy="gradts"))
    with pytest.raises(ConfigError, match="search.relatedness_path: expected a CSV or JSON signal table"):
        run_pipeline("search", table_params(table, project / "none.csv", strategy="gradts"))
    with pytest.raises(ConfigError, match="relatedness.pvi.alpha: expected a number in"):
        run_pipeline("search", {**table_params(table, signals, strategy="pvi"), "relatedness.pvi.alpha": 2})


REAL = ("healthadvice", "git", "bc5cdr")
RELATEDNESS = """
relatedness:
  gradts:
    batches: 2
  pvi:
    examples: 4
    batch_size: 4
"""


def test_relatedness_pipeline_on_real_data_then_a_search_that_reuses_it(project, run_pipeline, load, shared_datasets,
                                                                        monkeypatch, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in REAL:  # links, so that only these are ingested; the shared files stay where they are
        (raw / name).symlink_to(shared_datasets / name)
    monkeypatch.setenv("MTLSEARCH_RAW_DIR", str(raw))
    (project / "conf" / "local" / "parameters_tiny.yml").write_text(TINY_PARAMETERS + RELATEDNESS)
    params = {"search.target": "healthadvice", "search.candidates": "git+bc5cdr"}
    run_pipeline("relatedness", params)

    table = load("relatedness")
    assert list(table["candidate"]) == list(REAL) and list(table["role"]) == ["target", "auxiliary", "auxiliary"]
    assert table["gradts_tau"].between(-1, 1).all() and table.loc[0, "gradts_tau"] == pytest.approx(1.0)
    assert (table["pvi_n"] == 4).all() and table["pvi_pvalue"].between(0, 1).all()
    assert table["in_pvi_group"].dtype == bool and bool(table.loc[0, "in_pvi_group"])
    assert not table["alone_reused"].any() and not table["null_reused"].any()
    # a fine-tune counts 1, the gradient passes 2 batches of the fine-tune's 4 (max_steps 4)
    assert table["gradts_cost_evaluations"].tolist() == pytest.approx([1.5] * 3)
    assert (table["pvi_cost_evaluations"] > 2).all() and (table["seconds"] > 0).all()
    measurements = load("relatedness_measurements")
    assert set(measurements["datasets"]) == set(REAL)
    assert pd.DataFrame(measurements["datasets"]["git"]["head_importance"]).shape == (2, 2)

    uri = os.environ["MLFLOW_TRACKING_URI"]
    runs = finished_runs(uri)
    assert sorted(runs["datasets"]) == sorted(REAL) and set(runs["status"]) == {"finished"}
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch").experiment_id
    nulls = client.search_runs([experiment], "tags.`mtlsearch.kind` = 'null_model'")
    assert sorted(r.data.tags["mtlsearch.datasets"] for r in nulls) == sorted(REAL)
    assert all(r.data.tags["mtlsearch.status"] == "finished" for r in nulls)
    parent = client.get_run(measurements["run_id"])
    assert parent.data.metrics["gradts_tau.git"] == pytest.approx(table.loc[1, "gradts_tau"])
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert "relatedness.json" in artifacts
    assert "report/relatedness.png" in {a.path for a in client.list_artifacts(parent.info.run_id, "report")}
    assert set(runs["parent"]) == {parent.info.run_id}

    # a gradts search without a signal table computes it first: every fine-tune is reused, and the
    # search reuses the target alone
    run_pipeline("search", {**params, "search.strategy": "gradts", "search.budget": 1, "search.confirm.top_k": 0})
    again = load("relatedness")
    assert again["alone_reused"].all() and again["null_reused"].all()
    assert again["gradts_tau"].tolist() == pytest.approx(table["gradts_tau"].tolist())
    assert again["pvi_pvalue"].tolist() == pytest.approx(table["pvi_pvalue"].tolist())
    history, best = load("search_history"), load("best_combination")
    assert history.loc[history["datasets"] == "healthadvice", "reused"].tolist() == [True]
    assert best["signal_cost_evaluations"] == pytest.approx(again["gradts_cost_evaluations"].sum())
    assert len(client.search_runs([experiment], "tags.`mtlsearch.kind` = 'null_model'")) == 3
    assert len(finished_runs(uri)) == 3 + int((~history["reused"]).sum())
