"""Project hooks: every run's parameters, and the freshness of the ``examples`` it reads, are
checked before its first node."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl
from kedro.io import DatasetError

from mtlsearch.errors import ConfigError, UserError
from mtlsearch.parameters import validate_parameters

EXAMPLES = "examples"
RECORD = "examples_inputs"  # what ingestion read to write EXAMPLES (conf/base/catalog.yml)


class ParameterError(ConfigError):
    """A parameter that does not fit, found when the run starts: the ``kedro`` command line prints
    it as ``Error: <message>`` (exit status 1), like every :class:`UserError`; the message names
    the key and what was expected, which is all there is to fix."""


class StaleExamplesError(UserError):
    """``examples`` is not what ingestion would write now; printed by the ``kedro`` command line
    as one ``Error:`` line that says to ingest again."""


class ExamplesCheck:
    """Refuse a run that would read an ``examples`` older than the raw data or the ingestion
    parameters, before its first node.

    A pipeline that reads ``examples`` without producing it (formatting, finetune) is checked
    against the record ingestion wrote beside it (:func:`mtlsearch.ingestion.examples.stale_reason`).
    A pipeline that ingests marks the record unfinished first, so that if it fails, the older
    ``examples`` it leaves is refused rather than used.
    """

    @hook_impl(tryfirst=True)  # before kedro-mlflow opens a run for a run that stops here
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        ingests = EXAMPLES in pipeline.all_outputs()
        if ingests and run_params.get("only_missing_outputs"):
            # the runner skips ingestion when its persistent outputs exist: then examples is read as it is
            ingests = not (catalog.exists(EXAMPLES) and catalog.exists(RECORD))
        if ingests:
            from mtlsearch.ingestion.examples import INCOMPLETE_RECORD

            catalog.save(RECORD, dict(INCOMPLETE_RECORD))
        elif EXAMPLES in pipeline.all_inputs():
            check_examples(catalog)


def check_examples(catalog) -> None:
    """StaleExamplesError unless ``examples`` exists and is what its record says it was read from."""
    # imported here, as pandas is: a run that reads no examples does not need it
    from mtlsearch.ingestion.examples import stale_reason

    rerun = "run `kedro run --pipeline ingestion` first"
    if not catalog.exists(EXAMPLES):
        raise StaleExamplesError(f"examples does not exist; {rerun}")
    record = catalog.load(RECORD) if catalog.exists(RECORD) else None
    try:
        raw_root = catalog.load("raw_root")
    except DatasetError:
        raw_root = None
    reason = stale_reason(record, raw_root, catalog.load("params:ingestion"))
    if reason:
        raise StaleExamplesError(f"examples is out of date: {reason}; {rerun}")


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
