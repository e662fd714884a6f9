"""Landscape studies: every combination of a small pool scored for one target, and the noise of
one evaluation, measured by evaluating a few combinations again under other seeds.

A landscape is recorded through the ledger like any search (it is the exhaustive strategy over
the pool), so it resumes after an interruption and shares its evaluations with searches. Its
table is in the table evaluator's CSV format (``datasets``, ``score``, ``score_<member>``), so
strategies can be benchmarked on it without training.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mtlsearch.errors import ConfigError, reject_unknown
from mtlsearch.combinations import SEPARATOR
from mtlsearch.evaluation.table import MEMBER_SCORE_PREFIX
from mtlsearch.search.loop import SearchResult
from mtlsearch.strategies.baselines import ListedStrategy
from mtlsearch.search.run import SearchSettings, tracked_search
from mtlsearch.tracking import NoiseRun

log = logging.getLogger(__name__)


@dataclass
class LandscapeSettings:
    """The ``landscape`` parameters (conf/base/parameters_landscape.yml)."""

    target: str
    pool: list[str]
    noise_seeds: list[int]
    noise_combinations: list[str] | None = None

    @classmethod
    def from_params(cls, params: Mapping) -> LandscapeSettings:
        reject_unknown("landscape", params, cls.__dataclass_fields__)
        if not params.get("target"):
            raise ConfigError("landscape.target: name the target dataset id")
        pool = params.get("pool") or []
        if isinstance(pool, str):
            pool = [p for p in pool.split(SEPARATOR) if p]
        if not pool or len(set(pool)) != len(pool) or params["target"] in pool:
            raise ConfigError(
                f"landscape.pool: expected distinct auxiliary ids other than the target joined by '+', got {pool!r}"
            )
        seeds = params.get("noise_seeds") or []
        if isinstance(seeds, int | str):
            seeds = [seeds]
        combos = params.get("noise_combinations")
        if isinstance(combos, str):
            combos = [combos]
        return cls(str(params["target"]), list(pool), [int(s) for s in seeds], combos)

    def search_settings(self, search: Mapping, **overrides) -> SearchSettings:
        """The search parameters (evaluator, executor, metric) aimed at this landscape."""
        # every subset is evaluated once: no stopping rule, no confirmation, every stored result reused
        values = {**dict(search), "target": self.target, "candidates": list(self.pool), "patience": None,
                  "stopping": "patience", "confirm": {"top_k": 0, "seeds": 0}, "reuse": True}
        values.update(overrides)
        return SearchSettings.from_params(values)


def record_landscape(evaluator, settings: LandscapeSettings, search: Mapping) -> pd.DataFrame:
    """Evaluate every subset of the pool with the target (reusing finished evaluations)."""
    n = len(settings.pool)
    search_settings = settings.search_settings(search, strategy="exhaustive", budget=2**n)
    result, _ = tracked_search(evaluator, search_settings)
    if len(result.history) != 2**n:
        raise RuntimeError(
            f"landscape of {settings.target}: {len(result.history)} of {2**n} combinations evaluated "
            f"(search stopped: {result.stop_reason})"
        )
    return landscape_table(result, settings, evaluator.fingerprint)


def landscape_table(result: SearchResult, settings: LandscapeSettings, fingerprint: str) -> pd.DataFrame:
    """One row per combination (smallest first): datasets, score (the target's), every member's
    score, whether it was reused, its MLflow run and the fingerprint of the evaluations."""
    members = [settings.target, *settings.pool]
    rows = []
    for evaluation in result.history:
        row = {
            "datasets": SEPARATOR.join(sorted(evaluation.datasets)),
            "size": len(evaluation.datasets) - 1,
            "score": evaluation.scores[settings.target],
        }
        for member in members:
            row[MEMBER_SCORE_PREFIX + member] = evaluation.scores.get(member, np.nan)
        row.update({"reused": bool(evaluation.reused), "run_id": evaluation.run_id, "fingerprint": fingerprint})
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["size", "datasets"], ignore_index=True)


def noise_combinations(landscape: pd.DataFrame, settings: LandscapeSettings) -> list[tuple[str, ...]]:
    """The combinations to repeat under other seeds: those configured, else the target alone,
    the landscape's best and the whole pool (distinct; the next best where they coincide)."""
    if settings.noise_combinations:
        chosen = []
        for text in settings.noise_combinations:
            members = tuple(sorted({settings.target, *[m for m in str(text).split(SEPARATOR) if m]}))
            outside = sorted(set(members) - {settings.target, *settings.pool})
            if outside:
                raise ConfigError(f"landscape.noise_combinations: {outside} are not in the pool {settings.pool}")
            chosen.append(members)
        return list(dict.fromkeys(chosen))
    alone = (settings.target,)
    whole = tuple(sorted([settings.target, *settings.pool]))
    ranked = [tuple(d.split(SEPARATOR)) for d in landscape.sort_values("score", ascending=False, kind="stable")["datasets"]]
    chosen = [alone, whole]
    best = next(d for d in ranked if d not in chosen) if len(ranked) > 2 else None
    return [alone] + ([best] if best else []) + ([whole] if whole != alone else [])


def measure_noise(
    evaluator, landscape: pd.DataFrame, settings: LandscapeSettings, search: Mapping
) -> pd.DataFrame:
    """The noise combinations' target scores under the evaluator's seed (from the landscape)
    and under each of ``noise_seeds`` (new evaluations through the ledger, reused on a rerun)."""
    combos = noise_combinations(landscape, settings)
    position = {name: i for i, name in enumerate(settings.pool)}
    listed = [[position[m] for m in combo if m != settings.target] for combo in combos]
    by_datasets = landscape.set_index("datasets")
    rows = []
    base_seed = int(getattr(evaluator, "seed", 0))
    for combo in combos:
        name = SEPARATOR.join(combo)
        rows.append({"datasets": name, "seed": base_seed, "score": float(by_datasets.loc[name, "score"]),
                     "fingerprint": by_datasets.loc[name, "fingerprint"]})
    for seed in settings.noise_seeds:
        if seed == base_seed:
            continue
        seeded = evaluator.with_seed(seed)
        search_settings = settings.search_settings(search, strategy="exhaustive", budget=len(combos), seed=seed)
        with NoiseRun(f"noise {settings.target} seed {seed}"):
            result, _ = tracked_search(seeded, search_settings, strategy=ListedStrategy(len(settings.pool), seed, listed))
        scores = {SEPARATOR.join(e.datasets): e.scores[settings.target] for e in result.history}
        for combo in combos:
            name = SEPARATOR.join(combo)
            rows.append({"datasets": name, "seed": seed, "score": scores[name], "fingerprint": seeded.fingerprint})
    return pd.DataFrame(rows, columns=["datasets", "seed", "score", "fingerprint"])


def summarize(landscape: pd.DataFrame, noise: pd.DataFrame, settings: LandscapeSettings) -> dict:
    """Spread of the landscape against the noise of one evaluation, and each auxiliary's effect
    (mean score of the combinations with it minus those without)."""
    scores = landscape["score"].astype(float)
    members = landscape["datasets"].str.split(SEPARATOR)
    effects = {
        aux: float(scores[members.map(lambda m, a=aux: a in m)].mean() - scores[members.map(lambda m, a=aux: a not in m)].mean())
        for aux in settings.pool
    }
    per_combination = noise.groupby("datasets")["score"].agg(["mean", "std", "count"])
    noise_sd = float(np.sqrt((per_combination["std"] ** 2).mean())) if len(per_combination) else float("nan")
    best = landscape.loc[scores.idxmax()]
    alone = landscape.loc[landscape["size"] == 0, "score"]
    spread_sd = float(scores.std(ddof=1)) if len(scores) > 1 else 0.0
    return {
        "target": settings.target,
        "pool": list(settings.pool),
        "combinations": int(len(landscape)),
        "fingerprint": str(landscape["fingerprint"].iloc[0]),
        "best": {"datasets": best["datasets"], "score": float(best["score"])},
        "target_alone": float(alone.iloc[0]) if len(alone) else None,
        "worst": float(scores.min()),
        "range": float(scores.max() - scores.min()),
        "spread_sd": spread_sd,
        "noise_sd": noise_sd,
        "spread_to_noise": spread_sd / noise_sd if noise_sd > 0 else None,
        "noise": {
            name: {"mean": float(row["mean"]), "sd": float(row["std"]), "seeds": int(row["count"])}
            for name, row in per_combination.iterrows()
        },
        "effects": dict(sorted(effects.items(), key=lambda kv: -kv[1])),
    }


def summary_markdown(summaries: Sequence[Mapping]) -> str:
    """The landscapes' summaries as Markdown tables (one row per target)."""
    lines = [
        "| target | combinations | alone | best | best score | range | spread sd | noise sd | spread / noise |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        ratio = "n/a" if s["spread_to_noise"] is None else f"{s['spread_to_noise']:.2f}"
        alone = "n/a" if s["target_alone"] is None else f"{s['target_alone']:.4f}"
        lines.append(
            f"| {s['target']} | {s['combinations']} | {alone} | {s['best']['datasets']} | "
            f"{s['best']['score']:.4f} | {s['range']:.4f} | {s['spread_sd']:.4f} | {s['noise_sd']:.4f} | {ratio} |"
        )
    lines += ["", "| target | auxiliary | effect (mean with - mean without) |", "|---|---|---|"]
    for s in summaries:
        for aux, effect in s["effects"].items():
            lines.append(f"| {s['target']} | {aux} | {effect:+.4f} |")
    return "\n".join(lines) + "\n"
