"""Formatting: instruction prompts for examples, the training mixture of a combination, and the
fixed evaluation subsets.

A combination is written as dataset ids joined by '+' (``bc5cdr+healthadvice``); its members are
handled in sorted order, so ``a+b`` and ``b+a`` name the same mixture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mtlsearch.combinations import combination_name, parse_combination  # noqa: F401 (re-exported)
from mtlsearch.errors import ConfigError
from mtlsearch.formatting.prompts import build_prompt, parse_response, serialize_items
from mtlsearch.ingestion.splits import unit_hash

MIXING = ("equal", "proportional", "temperature")
# equal: every member's share comes out of the budget (the reference); fixed_target: the target
# keeps its examples as when alone and the auxiliaries' shares come on top
POLICIES = ("equal", "fixed_target")


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
    fixed_target: str | None = None,
) -> pd.DataFrame:
    """The training examples of a combination under a total budget.

    With ``fixed_target`` (a member) that member keeps the ``budget`` examples it has alone and
    every other member adds its share on top, so an auxiliary's effect is not confounded with the
    examples it takes from the target.

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
    shares = _shares(sizes, int(budget), strategy, temperature)
    if fixed_target is not None:
        if fixed_target not in datasets:
            raise ConfigError(f"the fixed target {fixed_target!r} is not a member of {list(datasets)}")
        shares[fixed_target] = int(budget)
    parts = []
    for dataset, count in shares.items():
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
            hint = (
                "; a search selects on formatting.evaluation.selection_split=dev: give the dataset a dev "
                "split (split policy carve_dev or grouped) or set selection_split=test"
                if split == "dev" else ""
            )
            raise ConfigError(f"dataset '{dataset}' has no '{split}' examples to score{hint}")
        keys = pool["example_id"].map(lambda e: unit_hash(seed, f"{dataset}\x1f{e}"))
        parts.append(pool.assign(_key=keys).nsmallest(int(max_examples), "_key").drop(columns="_key"))
    return pd.concat(parts, ignore_index=True)


SELECTION_SPLITS = ("dev", "test")


def selection_split(formatting: Mapping) -> str:
    """The split whose scores the search maximises (``formatting.evaluation.selection_split``)."""
    split = str((formatting.get("evaluation") or {}).get("selection_split", "dev"))
    if split not in SELECTION_SPLITS:
        raise ConfigError(f"formatting.evaluation.selection_split: expected one of {SELECTION_SPLITS}, got {split!r}")
    return split


def mixture_policy(formatting: Mapping) -> str:
    policy = str((formatting.get("mixture") or {}).get("policy", "equal"))
    if policy not in POLICIES:
        raise ConfigError(f"formatting.mixture.policy: expected one of {POLICIES}, got {policy!r}")
    return policy


def combination_mixture(
    examples: pd.DataFrame, datasets, formatting: Mapping, seed: int = 0, target: str | None = None
) -> pd.DataFrame:
    """The formatted training mixture of a combination.

    Under ``formatting.mixture.policy: fixed_target`` the ``target`` keeps its examples as when
    alone (a combination of one member is its own target).

    The evaluation's ``seed`` offsets the mixture's own seed, so that the same combination under
    another seed is another draw: repeated seeds measure the noise of one evaluation.
    """
    mixing = formatting["mixture"]
    members = parse_combination(datasets)
    fixed = None
    if mixture_policy(formatting) == "fixed_target":
        fixed = target or (members[0] if len(members) == 1 else None)
        if fixed is None:
            raise ConfigError(
                "formatting.mixture.policy fixed_target: name the target of the combination "
                f"{'+'.join(members)} (evaluate.target, or search.target in a search)"
            )
    mixture = training_mixture(
        examples, members, mixing["budget"], mixing.get("strategy", "equal"),
        mixing.get("temperature", 2.0), int(mixing.get("seed", 0)) + int(seed), fixed_target=fixed,
    )
    return format_examples(mixture, formatting)


def combination_evaluation_sets(examples: pd.DataFrame, datasets, formatting: Mapping) -> pd.DataFrame:
    """The formatted, fixed scoring subsets of every member: of the selection split (what a search
    maximises) and of the test split (what is reported), each with its ``split`` column.

    They do not depend on the evaluation's seed: every combination is scored on the same examples.
    """
    subset = formatting["evaluation"]
    splits = dict.fromkeys([selection_split(formatting), "test"])
    parts = [
        evaluation_subset(examples, datasets, subset["max_examples"], subset.get("seed", 0), split=split)
        for split in splits
    ]
    return format_examples(pd.concat(parts, ignore_index=True), formatting)
