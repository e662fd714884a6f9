"""Interchangeable strategies that decide which dataset combinations to evaluate next."""

from __future__ import annotations

import inspect

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    Combination,
    Observation,
    Proposal,
    Strategy,
    inclusion_matrix,
    to_combination,
    to_mask,
)
from mtlsearch.strategies.baselines import (
    ExhaustiveStrategy,
    GreedyStrategy,
    LinearStrategy,
    ListedStrategy,
    RandomStrategy,
)
from mtlsearch.strategies.paper import PaperStrategy
from mtlsearch.strategies.surrogate import SurrogateStrategy
from mtlsearch.strategies.tpe import TPEStrategy

STRATEGIES: dict[str, type[Strategy]] = {
    "paper": PaperStrategy,
    "surrogate": SurrogateStrategy,
    "exhaustive": ExhaustiveStrategy,
    "random": RandomStrategy,
    "greedy": GreedyStrategy,
    "linear": LinearStrategy,
    "tpe": TPEStrategy,
}
DEFAULT_STRATEGY = "surrogate"


def make_strategy(name: str, n_candidates: int, seed: int = 0, **options) -> Strategy:
    """Build the strategy registered as ``name``; ConfigError on an unknown name or option."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown search strategy {name!r}; expected one of {sorted(STRATEGIES)}"
        ) from None
    try:
        inspect.signature(cls).bind(n_candidates, seed, **options)
    except TypeError as error:
        raise ConfigError(
            f"strategy {name!r}: invalid options {sorted(options)}: {error}"
        ) from None
    return cls(n_candidates, seed, **options)


__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "Combination",
    "ExhaustiveStrategy",
    "GreedyStrategy",
    "LinearStrategy",
    "ListedStrategy",
    "Observation",
    "PaperStrategy",
    "Proposal",
    "RandomStrategy",
    "Strategy",
    "SurrogateStrategy",
    "TPEStrategy",
    "inclusion_matrix",
    "make_strategy",
    "to_combination",
    "to_mask",
]
