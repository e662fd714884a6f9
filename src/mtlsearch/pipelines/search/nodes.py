"""Nodes of the search pipeline: thin wrappers around :mod:`mtlsearch.search.run` and
:mod:`mtlsearch.evaluation.evaluators`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.evaluation.evaluators import FinetuneEvaluator, TrackedTable, table_evaluator
from mtlsearch.evaluation.recipe import EvaluationConfig
from mtlsearch.finetune.base_model import Pretrained
from mtlsearch.search.run import SearchSettings, run_tracked_search


def make_evaluator(
    examples: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained,
    search: dict, formatting: dict, finetune: dict, scoring: dict, evaluate: dict,
) -> FinetuneEvaluator:
    """Real evaluations (the evaluate pipeline's recipe) of combinations with ``search.target``."""
    settings = SearchSettings.from_params(search)
    config = EvaluationConfig(formatting=formatting, finetune=finetune, scoring=scoring, seed=int(evaluate.get("seed", 0)))
    return FinetuneEvaluator(examples, tokenizer, base_model, config, settings.target)


def make_table_evaluator(search: dict) -> TrackedTable:
    """Look-ups in ``search.table_path``: no data, no model, nothing trained."""
    settings = SearchSettings.from_params(search)
    return table_evaluator(settings.table_path, settings.target, settings.table_noise, settings.table_delay_s, settings.seed)


def run_search(evaluator, search: dict) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Search, recording every evaluation in MLflow, then confirm the best against seed noise;
    the history, the best combination, the surrogate's predictions.

    The split it selects on is the evaluator's (its formatting parameters), so that this node
    takes, and its MLflow run logs, only the parameters that its evaluations depend on."""
    config = getattr(evaluator, "config", None)
    split = config.selection_split if config is not None else "table"
    return run_tracked_search(evaluator, SearchSettings.from_params(search), split)
