"""Project hooks: every run's parameters are checked before its first node."""

from __future__ import annotations

import click
from kedro.framework.hooks import hook_impl

from mtlsearch.errors import ConfigError
from mtlsearch.parameters import validate_parameters


class ParameterError(click.ClickException, ConfigError):
    """A ConfigError that the ``kedro`` command line prints as ``Error: <message>`` (exit
    status 1) instead of a traceback: the message names the key and what was expected, which
    is all there is to fix. Code running a session catches it as the ConfigError it also is."""


class ParameterCheck:
    """Validate ``context.params`` (``--params`` overrides included) as soon as the context exists.

    A misspelt key or a wrong value then stops ``kedro run`` at its start, with any pipeline,
    instead of after ingestion and the base model were built, or never (a misspelt key was
    silently ignored). ``tryfirst``: before plugins' hooks (kedro-mlflow's sets up tracking).
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        try:
            validate_parameters(context.params)
        except ConfigError as error:
            raise ParameterError(str(error)) from None
