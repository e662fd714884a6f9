"""Confirmation against noise: the search's top combinations and the target alone, re-evaluated
under extra seeds; the pick is the best mean, and its gain over the target alone is a paired
interval over the seeds.

Under constraints the baseline is the smallest feasible combination, the target(s) with the
required datasets, when the size bounds allow it; when they do not there is no baseline, and
neither a gain nor a verdict. Scores are the search's objective (one target's score, or the
weighted mean of several targets').

One evaluation's seed noise is of the order of the differences a search looks for (see
docs/landscapes), so the best single observation is biased upwards: the maximum of noisy scores.
Knows nothing of MLflow or Kedro: ``evaluate(seed, datasets)`` answers from the ledger or runs an
evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mtlsearch.combinations import combination_name

VERDICTS = ("helps", "no detectable gain", "hurts")


@dataclass
class Confirmed:
    datasets: tuple[str, ...]
    scores: dict[int, float] = field(default_factory=dict)  # seed -> target score (selection split)
    test_scores: dict[int, float] = field(default_factory=dict)  # seed -> target score on test

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.scores.values())))

    @property
    def sd(self) -> float:
        values = list(self.scores.values())
        return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")

    @property
    def test_mean(self) -> float | None:
        return float(np.mean(list(self.test_scores.values()))) if self.test_scores else None


def extra_seeds(seeds: int | Sequence[int], base_seed: int) -> list[int]:
    """``search.confirm.seeds``: a count of seeds after the search's own, or the seeds themselves."""
    if isinstance(seeds, int):
        return [base_seed + i for i in range(1, seeds + 1)]
    return [int(s) for s in seeds if int(s) != base_seed]


def paired_gain(pick: Confirmed, alone: Confirmed, confidence: float = 0.95) -> dict[str, float]:
    """Mean and t-interval of the pick's gain over the target alone, paired by seed (a seed
    draws the same mixture sample and initialisation noise for both)."""
    from scipy import stats

    seeds = sorted(set(pick.scores) & set(alone.scores))
    diffs = np.array([pick.scores[s] - alone.scores[s] for s in seeds], dtype=float)
    mean = float(diffs.mean()) if len(diffs) else float("nan")
    if len(diffs) < 2:
        return {"mean": mean, "ci_low": float("nan"), "ci_high": float("nan"), "n": int(len(diffs))}
    half = float(stats.t.ppf(0.5 + confidence / 2, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs)))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": int(len(diffs))}


def verdict(gain: Mapping[str, float]) -> str:
    """``helps`` when the interval lies above 0, ``hurts`` when below, else ``no detectable gain``."""
    low, high = gain.get("ci_low", float("nan")), gain.get("ci_high", float("nan"))
    if math.isfinite(low) and low > 0:
        return "helps"
    if math.isfinite(high) and high < 0:
        return "hurts"
    return "no detectable gain"


def top_combinations(
    observed: Mapping[tuple[str, ...], float],
    predicted: Mapping[tuple[str, ...], float] | None,
    alone: tuple[str, ...] | None,
    top_k: int,
) -> list[tuple[str, ...]]:
    """The ``top_k`` evaluated combinations other than the target alone (the baseline; None:
    none), by the surrogate's posterior mean where the strategy has one (it pools the evidence of
    similar combinations), else by the observed score."""
    def rank(datasets: tuple[str, ...]) -> float:
        if predicted and datasets in predicted and math.isfinite(predicted[datasets]):
            return float(predicted[datasets])
        return float(observed[datasets])

    others = [d for d in observed if d != alone]
    return sorted(others, key=lambda d: (-rank(d), combination_name(d)))[: max(int(top_k), 0)]


def confirm(
    combinations: Sequence[tuple[str, ...]],
    alone: tuple[str, ...] | None,
    base_seed: int,
    base: Mapping[tuple[str, ...], tuple[float, float | None]],
    seeds: Sequence[int],
    evaluate: Callable[[int, tuple[str, ...]], tuple[float, float | None]],
    baseline_reason: str = "",
) -> dict:
    """Re-evaluate ``combinations`` and the target alone (``alone``, the baseline) under each of
    ``seeds``.

    ``base`` holds each combination's (score, test score) under the search's own seed;
    ``evaluate(seed, datasets)`` gives the same pair under another seed (None where that
    evaluation failed). Returns the
    ``confirmation`` record of ``best_combination``: the seeds, one row per combination (mean,
    sd, n over every seed), the pick (best mean), its paired gain over the baseline with a
    95% interval, and the verdict. With no baseline (``alone`` None, ``baseline_reason`` saying
    why) the gain and the verdict are None.
    """
    rows: dict[tuple[str, ...], Confirmed] = {}
    wanted = [c for c in combinations if c != alone]
    for datasets in [alone, *wanted] if alone is not None else wanted:
        row = rows.setdefault(datasets, Confirmed(datasets))
        if datasets in base:
            score, test = base[datasets]
            row.scores[base_seed] = float(score)
            if test is not None:
                row.test_scores[base_seed] = float(test)
    for seed in seeds:
        for datasets, row in rows.items():
            answer = evaluate(int(seed), datasets)
            if answer is None:  # that evaluation failed: the row has one seed fewer
                continue
            score, test = answer
            row.scores[int(seed)] = float(score)
            if test is not None:
                row.test_scores[int(seed)] = float(test)
    if not rows:
        raise ValueError("nothing to confirm: no combination and no baseline")
    pick = max(rows.values(), key=lambda r: (r.mean, -len(r.datasets)))
    baseline = rows.get(alone) if alone is not None else None
    gain = paired_gain(pick, baseline) if baseline is not None else None
    return {
        "seeds": [int(base_seed), *[int(s) for s in seeds]],
        "rows": [
            {"datasets": combination_name(r.datasets), "mean": r.mean, "sd": r.sd, "n": r.n,
             "test_mean": r.test_mean}
            for r in sorted(rows.values(), key=lambda r: -r.mean)
        ],
        "pick": combination_name(pick.datasets),
        "pick_test_mean": pick.test_mean,
        "alone_mean": baseline.mean if baseline is not None else None,
        "alone_test_mean": baseline.test_mean if baseline is not None else None,
        "gain_over_alone": {k: gain[k] for k in ("mean", "ci_low", "ci_high")} if gain is not None else None,
        "verdict": verdict(gain) if gain is not None else None,
        "baseline": combination_name(alone) if alone is not None else None,
        "baseline_reason": "" if alone is not None else baseline_reason,
    }
