"""The signal table: reading one, what the strategies and a prior take from it, its cost."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.relatedness.signals import (
    prior_effects,
    read_signals,
    signal_cost,
    signal_table,
    strategy_options,
)

ROWS = [
    {"candidate": "t", "role": "target", "gradts_tau": 1.0, "in_pvi_group": True, "cost_evaluations": 2.5,
     "gradts_cost_evaluations": 1.25},
    {"candidate": "a", "gradts_tau": 0.8, "in_pvi_group": "true", "cost_evaluations": 2.5, "gradts_cost_evaluations": 1.25},
    {"candidate": "b", "gradts_tau": 0.2, "in_pvi_group": "False", "cost_evaluations": 2.5, "gradts_cost_evaluations": 1.25},
    {"candidate": "c", "gradts_tau": 0.5, "in_pvi_group": 1, "cost_evaluations": 2.5, "gradts_cost_evaluations": 1.25},
]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_read_a_signal_table(tmp_path, suffix):
    path = tmp_path / f"signals{suffix}"
    if suffix == ".csv":
        pd.DataFrame(ROWS).to_csv(path, index=False)
    else:
        path.write_text(json.dumps(ROWS))
    signals = read_signals(path)
    assert strategy_options(signals, ["c", "a", "b"], "gradts") == {"tau": [0.5, 0.8, 0.2]}
    assert strategy_options(signals, ["c", "a", "b"], "pvi") == {"in_group": [True, True, False]}
    # every row's cost, the target's shared compute included; the signal's own column first
    assert signal_cost(signals, "gradts") == pytest.approx(5.0)
    assert signal_cost(signals, "pvi") == pytest.approx(10.0)
    assert signal_cost(signals.drop(columns=["cost_evaluations", "gradts_cost_evaluations"]), "pvi") == 0.0


def test_prior_effects():
    signals = pd.DataFrame(ROWS)
    np.testing.assert_allclose(prior_effects(signals, ["a", "b", "c"], "gradts"), [0.3, -0.3, 0.0])
    np.testing.assert_allclose(prior_effects(signals, ["b", "a"], "pvi"), [-1.0, 1.0])
    with pytest.raises(ConfigError, match=r"no row for candidate\(s\) \['z'\]"):
        prior_effects(signals, ["a", "z"], "gradts")
    with pytest.raises(ConfigError, match="expected one of"):
        prior_effects(signals, ["a"], "other")


def test_bad_tables_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="search.relatedness_path: .*no such file"):
        read_signals(tmp_path / "none.csv")
    path = tmp_path / "s.csv"
    pd.DataFrame([{"candidate": "a", "gradts_tau": 0.1}]).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"lacks column\(s\) \['in_pvi_group'\]"):
        read_signals(path)
    pd.DataFrame([{"candidate": "a", "gradts_tau": "high", "in_pvi_group": True}]).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="gradts_tau expected numbers, got 'high'"):
        read_signals(path)
    pd.DataFrame([{"candidate": "a", "gradts_tau": 0.1, "in_pvi_group": "maybe"}]).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="in_pvi_group of 'a': expected true or false, got 'maybe'"):
        read_signals(path)


def test_table_of_measurements():
    measurements = {
        "target": "t", "candidates": ["a", "b"],
        "datasets": {
            name: {"head_importance": matrix, "pvi": pvi, "gradts_cost_evaluations": 1.1, "pvi_cost_evaluations": 2.1,
                   "cost_evaluations": 2.2, "gradts_seconds": 1.0, "pvi_seconds": 2.0, "seconds": 3.0,
                   "alone_run_id": f"r{name}", "alone_reused": False, "null_run_id": f"n{name}", "null_reused": True}
            for name, matrix, pvi in [("t", [[0.0, 1.0], [0.5, 0.2]], [1.0, 2.0, 3.0]),
                                      ("a", [[0.1, 0.9], [0.6, 0.3]], [1.1, 2.2, 2.9]),
                                      ("b", [[1.0, 0.0], [0.2, 0.5]], [7.0, 8.0, 9.5])]
        },
    }
    table = signal_table(measurements)
    assert list(table["candidate"]) == ["t", "a", "b"] and list(table["role"]) == ["target", "auxiliary", "auxiliary"]
    assert table["gradts_tau"].tolist() == pytest.approx([1.0, 1.0, -1.0])
    assert table["in_pvi_group"].tolist() == [True, True, False]
    assert table.loc[2, "pvi_mean"] == pytest.approx(8.1666667)
    assert signal_cost(table, "pvi") == pytest.approx(6.3)
