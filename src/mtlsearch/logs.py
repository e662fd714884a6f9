"""The console when it is not a terminal: one plain line per record.

Kedro logs through rich, which wraps at 80 columns when it cannot see a terminal's width, so a
run piped to a file spreads one evaluation's line over 3-5 lines. Kedro only lets
``conf/logging.yml`` name handlers of ``logging`` and ``kedro.logging``, so the swap happens in a
hook, as soon as the context exists.
"""

from __future__ import annotations

import logging
import sys

from kedro.framework.hooks import hook_impl

PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time of the record (it may be replaced)."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def plain_when_piped() -> bool:
    """Replace the root logger's rich handlers by a plain handler on stdout when stdout is not a
    terminal; returns whether it did."""
    if sys.stdout.isatty():
        return False
    from rich.logging import RichHandler

    root = logging.getLogger()
    swapped = False
    for handler in list(root.handlers):
        if isinstance(handler, RichHandler):
            plain = StdoutHandler()
            plain.setLevel(handler.level)
            plain.setFormatter(logging.Formatter(PLAIN_FORMAT, "%H:%M:%S"))
            root.removeHandler(handler)
            root.addHandler(plain)
            swapped = True
    return swapped


class ConsoleHook:
    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        plain_when_piped()
