"""Interchangeable strategies that decide which dataset combinations to evaluate next."""

from __future__ import annotations

import inspect

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    Combination,
    Observation,
    Proposal,
    SizeBounds,
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
from mtlsearch.strategies.relatedness import GradTSStrategy, PVIStrategy
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
    "gradts": GradTSStrategy,
    "pvi": PVIStrategy,
}
DEFAULT_STRATEGY = "surrogate"


def make_strategy(
    name: str,
    n_candidates: int,
    seed: int = 0,
    size_bounds: SizeBounds | None = None,
    **options,
) -> Strategy:
    """Build the strategy registered as ``name``; ConfigError on an unknown name or option.

    ``size_bounds`` (None: any size) restricts every proposal, and what the strategy's model
    ranges over, to combinations of that many auxiliaries."""
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
    return cls(n_candidates, seed, size_bounds=size_bounds, **options)


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
    "SizeBounds",
    "Strategy",
    "SurrogateStrategy",
    "TPEStrategy",
    "inclusion_matrix",
    "make_strategy",
    "to_combination",
    "to_mask",
]
