"""Project commands: Kedro's own ``kedro run``, whose ``--params`` says what to do when a value
holds ids joined by commas (``evaluate.datasets=bc5cdr,healthadvice``): Kedro splits
``--params`` on commas and would only say that ``healthadvice`` has no ``=``."""

from __future__ import annotations

import copy

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import _split_params


def _params(ctx: click.Context, param: click.Parameter, value):
    try:
        return _split_params(ctx, param, value)
    except click.UsageError:
        items = [item.strip() for item in str(value or "").split(",")]
        for before, item in zip(items, items[1:]):
            if "=" not in item and "=" in before:
                key, _, first = before.partition("=")
                raise click.UsageError(
                    f"--params: {item!r} has no '=': Kedro splits --params on commas; join dataset ids "
                    f"with '+', e.g. {key.strip()}={first.strip()}+{item}", ctx
                ) from None
        raise


run = copy.copy(kedro_run)
run.params = [copy.copy(p) for p in kedro_run.params]
for _option in run.params:
    if _option.name == "params":
        _option.callback = _params


@click.group(name="mtlsearch")
def cli() -> None:
    """mtlsearch's commands (Kedro's, with clearer messages)."""


cli.add_command(run)
