"""How a combination of datasets is named: member ids joined by '+', in sorted order.

Every module that writes or reads a combination's name (tags, tables, reports, parameters) goes
through here, so ``a+b`` and ``b+a`` always name the same mixture and the separator is defined once.
"""

from __future__ import annotations

from collections.abc import Iterable

from mtlsearch.errors import ConfigError

# '+' rather than ',' because Kedro's --params splits on commas.
SEPARATOR = "+"


def members(value: str | Iterable[str]) -> list[str]:
    """The ids of ``'a+b'`` (or of a list of ids) in the order given, blanks dropped."""
    ids = str(value).split(SEPARATOR) if isinstance(value, str) else [str(i) for i in value]
    return [i.strip() for i in ids if i.strip()]


def parse_combination(value: str | Iterable[str]) -> tuple[str, ...]:
    """Sorted, distinct dataset ids from ``'a+b'`` or a list of ids."""
    ids = members(value)
    if not ids:
        raise ConfigError(f"a combination names at least one dataset id, got {value!r}")
    return tuple(sorted(set(ids)))


def combination_name(datasets: Iterable[str]) -> str:
    return SEPARATOR.join(sorted(set(datasets)))
