"""Ready-made synthetic landscapes for any number of candidates, with a known optimum, as
callables for a ``python`` evaluator (``mtlsearch.landscapes:pool40``): given the sorted tuple of
member ids (the target ``target`` included) each returns ``{"target": score}``.

See :mod:`mtlsearch.landscape.functional` for how they are built and why their optimum is
exact.
"""

from mtlsearch.landscape.functional import (
    KINDS,
    TARGET,
    FunctionalLandscape,
    candidate_ids,
    functional_landscape,
    pool24,
    pool40,
    pool64,
)

__all__ = [
    "KINDS",
    "TARGET",
    "FunctionalLandscape",
    "candidate_ids",
    "functional_landscape",
    "pool24",
    "pool40",
    "pool64",
]
