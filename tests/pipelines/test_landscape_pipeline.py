"""The landscape pipeline in real Kedro sessions: every subset of a pool through the MLflow
ledger, the seed-noise repeats, the summary, and reuse by a later run and by a search."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.table import TableEvaluator
from mtlsearch.landscape.synthetic import generate_landscape, write_table

from mlflow_runs import finished_runs


@pytest.fixture
def table(project):
    path = project / "synthetic.csv"
    write_table(generate_landscape("pairwise", 5, seed=4, target="t"), path)
    # every member scored, as a real evaluation scores them: an auxiliary's score falls with
    # the number of datasets sharing the mixture
    frame = pd.read_csv(path)
    members = frame["datasets"].str.split("+")
    for aux in sorted({m for ms in members for m in ms} - {"t"}):
        frame[f"score_{aux}"] = [0.9 - 0.05 * len(ms) if aux in ms else np.nan for ms in members]
    frame.to_csv(path, index=False)
    return path


def params(table, pool, noise=0.0, **landscape):
    values = {
        "search.evaluator": "table", "search.table_path": str(table), "search.table_noise": noise,
        "landscape.target": "t", "landscape.pool": "+".join(pool), "landscape.noise_seeds": [7, 8],
    }
    values.update({f"landscape.{k}": v for k, v in landscape.items()})
    return values


def auxiliaries(table) -> list[str]:
    ids = {m for d in pd.read_csv(table)["datasets"] for m in d.split("+")}
    return sorted(ids - {"t"})


def test_landscape_holds_every_subset_of_the_pool_in_the_table_format(project, run_pipeline, load, table):
    pool = auxiliaries(table)[:3]
    run_pipeline("landscape", params(table, pool))
    landscape = load("landscape_table")
    truth = pd.read_csv(table).set_index("datasets")["score"]

    assert len(landscape) == 8 and landscape["datasets"].is_unique
    assert set(landscape["datasets"]) == {
        "+".join(sorted({"t", *[p for i, p in enumerate(pool) if mask >> i & 1]})) for mask in range(8)
    }
    assert list(landscape["size"]) == sorted(landscape["size"])
    for row in landscape.itertuples():
        assert row.score == pytest.approx(truth[row.datasets])
        assert row.score_t == pytest.approx(row.score)
        members = row.datasets.split("+")
        for aux in pool:
            expected = 0.9 - 0.05 * len(members) if aux in members else np.nan
            assert getattr(row, f"score_{aux}") == pytest.approx(expected, nan_ok=True)
    assert landscape["fingerprint"].nunique() == 1 and not landscape["reused"].any()

    # the recorded landscape is itself a table the table evaluator reads
    saved = project / "recorded.csv"
    landscape.to_csv(saved, index=False)
    recorded = TableEvaluator(saved, "t")
    assert recorded.optimum()[1] == pytest.approx(landscape["score"].max())
    assert set(recorded.ids) == {"t", *pool}


def test_seed_noise_repeats_three_combinations_under_each_seed(project, run_pipeline, load, table):
    pool = auxiliaries(table)[:3]
    run_pipeline("landscape", params(table, pool, noise=0.05))
    landscape = load("landscape_table")
    noise = load("landscape_noise")
    summary = load("landscape_summary")

    best = landscape.loc[landscape["score"].idxmax(), "datasets"]
    combos = ["t", best if best not in ("t", "+".join(sorted(["t", *pool]))) else None, "+".join(sorted(["t", *pool]))]
    assert set(noise["datasets"]) <= set(landscape["datasets"])
    assert "t" in set(noise["datasets"]) and combos[2] in set(noise["datasets"])
    assert noise["datasets"].nunique() == 3
    assert sorted(noise["seed"].unique()) == [0, 7, 8]
    assert len(noise) == 9
    # seed 0 is the landscape's own evaluation; other seeds draw other noise
    own = noise[noise["seed"] == 0].set_index("datasets")["score"]
    for name, score in own.items():
        assert score == pytest.approx(landscape.set_index("datasets").loc[name, "score"])
    assert noise.groupby("datasets")["score"].std().gt(0).all()
    # three fingerprints: one per seed
    assert noise["fingerprint"].nunique() == 3

    assert summary["combinations"] == 8 and set(summary["effects"]) == set(pool)
    assert summary["noise_sd"] == pytest.approx(
        float(np.sqrt((noise.groupby("datasets")["score"].std() ** 2).mean()))
    )
    assert summary["spread_sd"] == pytest.approx(landscape["score"].std())
    with_first = landscape[landscape["datasets"].str.split("+").map(lambda m: pool[0] in m)]["score"].mean()
    without_first = landscape[landscape["datasets"].str.split("+").map(lambda m: pool[0] not in m)]["score"].mean()
    assert summary["effects"][pool[0]] == pytest.approx(with_first - without_first)
    assert "| t | 8 |" in load("landscape_report")


def test_a_rerun_and_a_later_search_reuse_the_landscape(project, run_pipeline, load, table):
    pool = auxiliaries(table)[:3]
    run_pipeline("landscape", params(table, pool, noise=0.05))
    first = load("landscape_table")
    runs = finished_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(runs) == 8 + 2 * 3  # the landscape and two seeds of three combinations

    run_pipeline("landscape", params(table, pool, noise=0.05))
    again = load("landscape_table")
    assert len(finished_runs(os.environ["MLFLOW_TRACKING_URI"])) == len(runs)
    assert again["reused"].all()
    assert list(again["score"]) == pytest.approx(list(first["score"]))

    search = {k: v for k, v in params(table, pool, noise=0.05).items() if k.startswith("search.")}
    # no confirmation: the test is about reuse, and a confirmation's mean is not the landscape's score
    search.update({"search.target": "t", "search.candidates": "+".join(pool), "search.budget": 3,
                   "search.confirm": {"top_k": 0}})
    run_pipeline("search", search)
    best = load("best_combination")
    assert best["evaluations_reused"] == 8 and best["evaluations_new"] == 0
    assert best["score"] == pytest.approx(first["score"].max())


def test_configured_noise_combinations_and_bad_pools(project, run_pipeline, load, table):
    pool = auxiliaries(table)[:2]
    run_pipeline("landscape", params(table, pool, noise_combinations=[pool[0], ""], noise_seeds=[3]))
    noise = load("landscape_noise")
    assert set(noise["datasets"]) == {"t", "+".join(sorted(["t", pool[0]]))}
    assert len(noise) == 4

    with pytest.raises(ConfigError, match="landscape.pool"):
        run_pipeline("landscape", params(table, ["t", pool[0]]))
    with pytest.raises(ConfigError, match="landscape.noise_combinations"):
        run_pipeline("landscape", params(table, pool, noise_combinations=["nope"]))
