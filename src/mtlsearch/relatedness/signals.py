"""The signal table: one row per dataset with its GradTS tau, its PVI distribution's summary and
test against the target's, and the compute each took; reading one from a file; and what the
strategies and a prior take from it.

Columns of a computed table: ``candidate``, ``role`` (``target`` for the target's own row, which
carries the compute shared by every candidate, else ``auxiliary``), ``gradts_tau``,
``pvi_mean``, ``pvi_sd``, ``pvi_n``, ``pvi_pvalue``, ``in_pvi_group``, the compute in
evaluation-equivalents (``gradts_cost_evaluations``, ``pvi_cost_evaluations`` and both together,
``cost_evaluations``; each signal counts the dataset's fine-tune alone) and in seconds
(``gradts_seconds``, ``pvi_seconds``, ``seconds``), and the runs it used (``alone_run_id``,
``null_run_id``, with ``alone_reused``, ``null_reused``).

A table given as ``search.relatedness_path`` (CSV or JSON records) stands in for a computed one:
it needs ``candidate``, ``gradts_tau`` and ``in_pvi_group``; ``pvi_mean``, ``pvi_pvalue``,
``cost_evaluations`` (and the per-signal costs) are optional. A row naming the target is
optional and only adds its cost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mtlsearch.errors import ConfigError
from mtlsearch.relatedness.gradts import gradts_tau
from mtlsearch.relatedness.pvi import DEFAULT_ALPHA, pvi_group

KINDS = ("gradts", "pvi")
REQUIRED_COLUMNS = ("candidate", "gradts_tau", "in_pvi_group")
COLUMNS = (
    "candidate", "role", "gradts_tau", "pvi_mean", "pvi_sd", "pvi_n", "pvi_pvalue", "in_pvi_group",
    "gradts_cost_evaluations", "pvi_cost_evaluations", "cost_evaluations", "gradts_seconds", "pvi_seconds",
    "seconds", "alone_run_id", "alone_reused", "null_run_id", "null_reused",
)
_COPIED = ("gradts_cost_evaluations", "pvi_cost_evaluations", "cost_evaluations", "gradts_seconds", "pvi_seconds",
           "seconds", "alone_run_id", "alone_reused", "null_run_id", "null_reused")


def signal_kind(strategy: str | None, strategy_options: Mapping | None) -> str | None:
    """The signal a search reads: its strategy's (gradts, pvi) or its default strategy's prior
    (``strategy_options.prior``); None for a search that reads none."""
    if strategy in KINDS:
        return str(strategy)
    prior = dict(strategy_options or {}).get("prior")
    return str(prior) if prior in KINDS else None


def signal_table(measurements: Mapping, alpha: float = DEFAULT_ALPHA) -> pd.DataFrame:
    """The table of :func:`mtlsearch.relatedness.measure.measure_relatedness`'s measurements:
    the target's row first, then the candidates in their order."""
    target = measurements["target"]
    datasets = measurements["datasets"]
    reference = np.asarray(datasets[target]["head_importance"], dtype=float)
    groups = pvi_group({name: m["pvi"] for name, m in datasets.items()}, target, alpha)
    own = np.asarray(datasets[target]["pvi"], dtype=float)
    rows = [{
        "candidate": target, "role": "target", "gradts_tau": gradts_tau(reference, reference),
        "pvi_mean": float(own.mean()), "pvi_sd": float(own.std(ddof=1)) if len(own) > 1 else math.nan,
        "pvi_n": len(own), "pvi_pvalue": 1.0, "in_pvi_group": True,
        **{k: datasets[target][k] for k in _COPIED},
    }]
    for name in measurements["candidates"]:
        rows.append({
            "candidate": name, "role": "auxiliary",
            "gradts_tau": gradts_tau(reference, datasets[name]["head_importance"]),
            **groups[name], **{k: datasets[name][k] for k in _COPIED},
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _flag(value, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def check_signals(signals: pd.DataFrame, where: str = "relatedness") -> pd.DataFrame:
    """``signals`` with typed columns; ConfigError naming ``where`` for a missing column, a
    duplicate candidate, a tau that is no number or a group flag that is no boolean."""
    missing = [c for c in REQUIRED_COLUMNS if c not in signals.columns]
    if missing:
        raise ConfigError(f"{where}: the signal table lacks column(s) {missing}; expected at least "
                          f"{list(REQUIRED_COLUMNS)}, found {list(signals.columns)}")
    out = signals.copy()
    out["candidate"] = out["candidate"].astype(str)
    duplicated = sorted(set(out.loc[out["candidate"].duplicated(), "candidate"]))
    if duplicated:
        raise ConfigError(f"{where}: candidate(s) {duplicated} appear more than once in the signal table")
    for column in ("gradts_tau", "pvi_mean", "pvi_pvalue", "cost_evaluations", "gradts_cost_evaluations",
                   "pvi_cost_evaluations"):
        if column in out.columns:
            values = pd.to_numeric(out[column], errors="coerce")
            bad = out.loc[values.isna() & out[column].notna(), column]
            if len(bad):
                raise ConfigError(f"{where}: column {column} expected numbers, got {bad.iloc[0]!r}")
            out[column] = values.astype(float)
    out["in_pvi_group"] = [_flag(v, f"{where}: in_pvi_group of {c!r}") for c, v in zip(out["candidate"], out["in_pvi_group"])]
    return out


def read_signals(path: str | Path, where: str = "search.relatedness_path") -> pd.DataFrame:
    """A signal table from a CSV or JSON (records) file, checked."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{where}: expected a CSV or JSON signal table, got {str(path)!r} (no such file)")
    try:
        frame = pd.read_json(path) if path.suffix.lower() == ".json" else pd.read_csv(path)
    except ValueError as exc:
        raise ConfigError(f"{where}: {str(path)!r} is not a readable signal table: {exc}") from None
    return check_signals(frame, f"{where} ({path})")


def aligned(signals: pd.DataFrame, candidates: Sequence[str], where: str = "relatedness") -> pd.DataFrame:
    """The candidates' rows, in the order of ``candidates``; ConfigError naming any the table lacks."""
    signals = check_signals(signals, where)
    by_name = signals.set_index("candidate")
    missing = [c for c in candidates if c not in by_name.index]
    if missing:
        raise ConfigError(f"{where}: the signal table has no row for candidate(s) {missing}; "
                          f"it has {sorted(by_name.index)}")
    return by_name.loc[list(candidates)].reset_index()


def strategy_options(signals: pd.DataFrame, candidates: Sequence[str], kind: str,
                     where: str = "relatedness") -> dict:
    """The option a relatedness strategy takes its signals by: ``tau`` (gradts) or
    ``in_group`` (pvi), one value per candidate in order."""
    rows = aligned(signals, candidates, where)
    if kind == "gradts":
        return {"tau": [float(v) for v in rows["gradts_tau"]]}
    if kind == "pvi":
        return {"in_group": [bool(v) for v in rows["in_pvi_group"]]}
    raise ConfigError(f"signal kind: expected one of {list(KINDS)}, got {kind!r}")


def signal_cost(signals: pd.DataFrame, kind: str | None = None) -> float:
    """What computing the signals took, in evaluation-equivalents, over every row (the target's
    shared compute included): the ``<kind>_cost_evaluations`` column where there is one, else
    ``cost_evaluations``, else 0 (a table that does not say)."""
    for column in ([f"{kind}_cost_evaluations"] if kind else []) + ["cost_evaluations"]:
        if column in signals.columns:
            return float(pd.to_numeric(signals[column], errors="coerce").fillna(0.0).sum())
    return 0.0


def prior_effects(signals: pd.DataFrame, candidates: Sequence[str], kind: str) -> np.ndarray:
    """Each candidate's prior main effect on the target, in order: for ``gradts`` its tau minus
    the candidates' mean tau (a candidate whose tau is undefined gets 0), for ``pvi`` +1 in the
    target's PVI group and -1 outside it."""
    rows = aligned(signals, candidates)
    if kind == "gradts":
        tau = rows["gradts_tau"].to_numpy(dtype=float)
        finite = np.isfinite(tau)
        if not finite.any():
            return np.zeros(len(tau))
        return np.where(finite, tau - tau[finite].mean(), 0.0)
    if kind == "pvi":
        return np.where(rows["in_pvi_group"].to_numpy(dtype=bool), 1.0, -1.0)
    raise ConfigError(f"prior_effects kind: expected one of {list(KINDS)}, got {kind!r}")
