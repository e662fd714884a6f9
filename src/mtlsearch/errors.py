"""Errors raised on bad input, each naming where the problem is and what was expected."""

from __future__ import annotations

from pathlib import Path

import click


class UserError(click.ClickException):
    """An error the user can act on, already said in one line: ``kedro run`` prints that line
    (click's ``Error: ...``) instead of a traceback."""

    def __init__(self, message: str):
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class DatasetFormatError(UserError, ValueError):
    """A raw file does not have the format its reader expects.

    The message names the dataset, the file, the place in it (``line 12`` or
    ``record 'DDI-DrugBank.d236.s29'``) and what was expected there.
    """

    def __init__(
        self,
        dataset: str,
        file: str | Path,
        where: str | int | None,
        expected: str,
        found: object | None = None,
    ):
        self.dataset = dataset
        self.file = str(file)
        self.where = f"line {where}" if isinstance(where, int) else where
        self.expected = expected
        self.found = found
        place = f"{self.file}, {self.where}" if self.where else self.file
        message = f"dataset '{dataset}': {place}: expected {expected}"
        if found is not None:
            text = repr(found)
            message += f", found {text[:120] + '...' if len(text) > 120 else text}"
        super().__init__(message)


class ConfigError(UserError, ValueError):
    """The configuration names something that does not exist or does not fit."""


def reject_unknown(section: str, params, known) -> None:
    """ConfigError naming the keys of ``params`` that ``section`` does not know."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{section}: unknown parameter(s) {unknown}; expected some of {sorted(known)}")
