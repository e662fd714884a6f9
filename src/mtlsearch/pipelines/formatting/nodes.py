"""Nodes of the formatting pipeline: thin wrappers around :mod:`mtlsearch.formatting.mixtures`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.formatting.mixtures import combination_evaluation_sets, combination_mixture


def build_training_mixture(examples: pd.DataFrame, formatting: dict, evaluate: dict) -> pd.DataFrame:
    """The formatted training mixture of ``evaluate.datasets`` under ``evaluate.seed``."""
    return combination_mixture(
        examples, evaluate["datasets"], formatting, int(evaluate.get("seed", 0)), evaluate.get("target")
    )


def build_evaluation_sets(examples: pd.DataFrame, formatting: dict, evaluate: dict) -> pd.DataFrame:
    """The formatted, fixed scoring subsets (selection split and test) of every member."""
    return combination_evaluation_sets(examples, evaluate["datasets"], formatting)
