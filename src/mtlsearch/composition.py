"""Which evaluator this run's parameters name, so that the ``search`` and ``landscape`` pipelines
hold ingestion and the base model only when their evaluator needs them.

A score table, or the user's own trainer (``python``, ``command``), needs no raw data and no
model: its search is the evaluator node, the search and the report. Kedro builds pipelines
without the run's parameters, so a hook reads them when the context is created (``--params``
included) and the pipelines are registered again after it.
"""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

DATA_FREE_EVALUATORS = ("table", "python", "command")
_configured = {"search": "finetune", "landscape": "finetune"}


def configured_evaluator(pipeline: str = "search") -> str:
    return _configured.get(pipeline, "finetune")


def needs_data(evaluator: str) -> bool:
    return evaluator not in DATA_FREE_EVALUATORS


def use_evaluator(evaluator: str) -> None:
    """Build the ``search`` and ``landscape`` pipelines for ``evaluator`` from now on."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    changed = _configured != {"search": evaluator, "landscape": evaluator}
    _configured.update(search=evaluator, landscape=evaluator)
    if changed and PACKAGE_NAME:
        # pipelines registered before the parameters were known (or by an earlier session of
        # this process) are dropped, so the next access builds them for this evaluator
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")


class EvaluatorChoice:
    """Kedro hook: record ``search.evaluator`` before the run's pipelines are built."""

    @hook_impl
    def after_context_created(self, context) -> None:
        search = context.params.get("search") or {}
        use_evaluator(str(search.get("evaluator") or "finetune"))
        # and whether the search computes relatedness signals first (gradts, pvi)
        from mtlsearch.pipelines.relatedness.pipeline import use_signals

        use_signals(search)
