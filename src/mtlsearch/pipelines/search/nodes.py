"""Nodes of the search pipeline: thin wrappers around :mod:`mtlsearch.search.run` and
:mod:`mtlsearch.evaluation.evaluators`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.evaluators import FinetuneEvaluator, TrackedTable, table_evaluator
from mtlsearch.evaluation.external import ExternalEvaluator, external_evaluator
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
    """Look-ups in ``search.table_path``: no data, no model, nothing trained. With several
    targets the rows of the first are read (every combination holds them all), the others'
    scores from their ``score_<id>`` columns."""
    settings = SearchSettings.from_params(search)
    return table_evaluator(settings.table_path, settings.objective.targets[0], settings.table_noise,
                           settings.table_delay_s, settings.seed)


def make_external_evaluator(search: dict) -> ExternalEvaluator:
    """The user's trainer (``search.callable`` or ``search.command``) on ``search.candidates``:
    no data, no model; a callable that cannot be imported stops the run here."""
    return external_evaluator(SearchSettings.from_params(search))


def run_search(evaluator, search: dict, relatedness: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Search, recording every evaluation in MLflow, then confirm the best against seed noise;
    the history, the best combination, the surrogate's predictions.

    The split it selects on is the evaluator's (its formatting parameters), so that this node
    takes, and its MLflow run logs, only the parameters that its evaluations depend on.

    Strategies gradts and pvi get their signals from ``relatedness`` (computed before in the
    pipeline) or ``search.relatedness_path``; what the signals cost is counted with the search
    (``signal_cost_evaluations``)."""
    config = getattr(evaluator, "config", None)
    split = getattr(evaluator, "selection_split", None) or (config.selection_split if config is not None else "table")
    settings = SearchSettings.from_params(search)
    cost = with_signals(settings, evaluator, relatedness)
    history, best, predictions = run_tracked_search(evaluator, settings, split)
    if cost is not None:
        history = history.assign(signal_cost_evaluations=cost)
    return history, best, predictions


def with_signals(settings: SearchSettings, evaluator, relatedness: pd.DataFrame | None) -> float | None:
    """Give a relatedness strategy its signals, or the default strategy its prior
    (``strategy_options.prior``), as an option and record their cost in ``settings``; None for
    a search that reads no signal."""
    from mtlsearch.relatedness.signals import prior_effects, read_signals, signal_cost, signal_kind, strategy_options
    from mtlsearch.search.run import search_candidates

    kind = signal_kind(settings.strategy, settings.strategy_options)
    if kind is None:
        return None
    where = "relatedness"
    if relatedness is None:
        if settings.relatedness_path is None:
            raise ConfigError(f"search.relatedness_path: a {kind} signal is needed here "
                              "(the search pipeline computes one when it is null)")
        relatedness, where = read_signals(settings.relatedness_path), "search.relatedness_path"
    candidates = search_candidates(settings, evaluator)
    if kind == settings.strategy:
        options = strategy_options(relatedness, candidates, kind, where)
    else:  # the default strategy's prior over each auxiliary's main effect
        options = {"prior_effects": [float(v) for v in prior_effects(relatedness, candidates, kind)]}
    settings.strategy_options = {**options, **dict(settings.strategy_options)}
    settings.signal_cost_evaluations = signal_cost(relatedness, kind)
    return settings.signal_cost_evaluations
