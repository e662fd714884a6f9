"""Formatting: instruction prompts for examples, the training mixture of a combination, and the
fixed evaluation subsets.

A combination is written as dataset ids joined by '+' (``bc5cdr+healthadvice``); its members are
handled in sorted order, so ``a+b`` and ``b+a`` name the same mixture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mtlsearch.errors import ConfigError
from mtlsearch.formatting.prompts import build_prompt, parse_response, serialize_items
from mtlsearch.ingestion.splits import unit_hash

MIXING = ("equal", "proportional", "temperature")


def parse_combination(value: str | Iterable[str]) -> tuple[str, ...]:
    """Sorted, distinct dataset ids from ``'a+b'`` or a list of ids."""
    ids = value.split("+") if isinstance(value, str) else list(value)
    ids = [i.strip() for i in ids if str(i).strip()]
    if not ids:
        raise ConfigError(f"a combination names at least one dataset id, got {value!r}")
    return tuple(sorted(set(ids)))


def combination_name(datasets: Iterable[str]) -> str:
    return "+".join(sorted(set(datasets)))


def check_datasets(examples: pd.DataFrame, datasets: Sequence[str]) -> None:
    present = set(examples["dataset"].unique())
    unknown = [d for d in datasets if d not in present]
    if unknown:
        raise ConfigError(
            f"dataset(s) {unknown} are not in the examples table; present: {sorted(present)}"
        )


def instruction_for(dataset: str, task: str, params: Mapping) -> str:
    """The dataset's own instruction, else the task's default one."""
    own = (params.get("instructions") or {}).get(dataset)
    if own:
        return own
    default = (params.get("default_instructions") or {}).get(task)
    if not default:
        raise ConfigError(f"no instruction for dataset '{dataset}' and no default for task '{task}' in formatting")
    return default


def format_examples(examples: pd.DataFrame, params: Mapping) -> pd.DataFrame:
    """Add ``prompt`` and ``response`` columns; the response parses back to ``items`` exactly."""
    template = params.get("template")
    out = examples.copy()
    instructions = {
        (d, t): instruction_for(d, t, params) for d, t in out[["dataset", "task"]].drop_duplicates().itertuples(index=False)
    }
    out["prompt"] = [
        build_prompt(instructions[(d, t)], text, template)
        for d, t, text in zip(out["dataset"], out["task"], out["text"])
    ]
    out["response"] = [serialize_items(list(items)) for items in out["items"]]
    for row in out.itertuples(index=False):
        if parse_response(row.response) != list(row.items):
            raise ValueError(
                f"dataset '{row.dataset}', example '{row.example_id}': its items do not survive "
                f"serialization ({list(row.items)!r} -> {row.response!r})"
            )
    return out


def _shares(sizes: Mapping[str, int], budget: int, strategy: str, temperature: float) -> dict[str, int]:
    names = sorted(sizes)
    if strategy == "equal":
        return {name: budget // len(names) for name in names}
    if strategy not in MIXING:
        raise ConfigError(f"mixing strategy must be one of {MIXING}, got {strategy!r}")
    power = 1.0 if strategy == "proportional" else 1.0 / float(temperature)
    weights = np.array([sizes[n] ** power for n in names], dtype=float)
    raw = budget * weights / weights.sum()
    counts = np.floor(raw).astype(int)
    # largest remainders get the examples lost to rounding, so the shares add up to the budget
    for i in np.argsort(-(raw - counts))[: budget - counts.sum()]:
        counts[i] += 1
    return dict(zip(names, counts.tolist()))


def training_mixture(
    examples: pd.DataFrame,
    datasets: Sequence[str],
    budget: int = 5000,
    strategy: str = "equal",
    temperature: float = 2.0,
    seed: int = 0,
) -> pd.DataFrame:
    """The training examples of a combination under a total budget.

    ``equal`` gives each of the n datasets ``budget // n`` examples (the reference method);
    ``proportional`` shares by training-set size; ``temperature`` by size**(1/T). A dataset
    with enough examples is sampled without replacement, otherwise with replacement. The draw
    of each dataset depends on (seed, dataset) only, so it does not change when other members do.
    """
    datasets = parse_combination(datasets)
    check_datasets(examples, datasets)
    train = examples[examples["split"] == "train"]
    sizes = {d: int((train["dataset"] == d).sum()) for d in datasets}
    empty = [d for d, n in sizes.items() if n == 0]
    if empty:
        raise ConfigError(f"dataset(s) {empty} have no training examples")
    parts = []
    for dataset, count in _shares(sizes, int(budget), strategy, temperature).items():
        pool = train[train["dataset"] == dataset]
        rng = np.random.default_rng([int(seed), int(unit_hash(0, dataset) * 2**32)])
        replace = count > len(pool)
        index = rng.choice(len(pool), size=count, replace=replace)
        parts.append(pool.iloc[index])
    mixture = pd.concat(parts, ignore_index=True)
    order = np.random.default_rng(int(seed)).permutation(len(mixture))
    return mixture.iloc[order].reset_index(drop=True)


def evaluation_subset(
    examples: pd.DataFrame, datasets: Sequence[str], max_examples: int = 1000, seed: int = 0, split: str = "test"
) -> pd.DataFrame:
    """Per dataset a fixed subset of at most ``max_examples`` of ``split``.

    The subset is the examples with the smallest seeded hash of their id: it depends only on
    the dataset and the seed, so every combination is scored on the same examples.
    """
    datasets = parse_combination(datasets)
    check_datasets(examples, datasets)
    parts = []
    for dataset in datasets:
        pool = examples[(examples["dataset"] == dataset) & (examples["split"] == split)]
        if pool.empty:
            raise ConfigError(f"dataset '{dataset}' has no '{split}' examples to score")
        keys = pool["example_id"].map(lambda e: unit_hash(seed, f"{dataset}\x1f{e}"))
        parts.append(pool.assign(_key=keys).nsmallest(int(max_examples), "_key").drop(columns="_key"))
    return pd.concat(parts, ignore_index=True)
