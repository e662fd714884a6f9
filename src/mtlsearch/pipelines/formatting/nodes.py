"""Nodes of the formatting pipeline: thin wrappers around :mod:`mtlsearch.formatting.mixtures`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.formatting.mixtures import evaluation_subset, format_examples, parse_combination, training_mixture


def build_training_mixture(examples: pd.DataFrame, formatting: dict, evaluate: dict) -> pd.DataFrame:
    """The formatted training mixture of the combination ``evaluate.datasets``."""
    mixing = formatting["mixture"]
    mixture = training_mixture(
        examples,
        parse_combination(evaluate["datasets"]),
        budget=mixing["budget"],
        strategy=mixing["strategy"],
        temperature=mixing["temperature"],
        seed=mixing["seed"],
    )
    return format_examples(mixture, formatting)


def build_evaluation_sets(examples: pd.DataFrame, formatting: dict, evaluate: dict) -> pd.DataFrame:
    """The formatted, fixed test subsets of every member of ``evaluate.datasets``."""
    subset = formatting["evaluation"]
    return format_examples(
        evaluation_subset(
            examples, parse_combination(evaluate["datasets"]), subset["max_examples"], subset["seed"]
        ),
        formatting,
    )
