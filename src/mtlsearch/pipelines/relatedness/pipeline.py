from kedro.pipeline import Pipeline, node

from .nodes import compute_relatedness, plot_relatedness

# Whether this run's search computes its signals first (strategy gradts or pvi, or a prior from
# one, without search.relatedness_path); Kedro builds pipelines before the run's parameters are known, so
# mtlsearch.composition's hook sets it when the context is created, as it does the evaluator.
_configured = {"search": False}


def needs_signals(search: dict) -> bool:
    from mtlsearch.relatedness.signals import signal_kind

    search = search or {}
    return signal_kind(search.get("strategy"), search.get("strategy_options")) is not None \
        and not search.get("relatedness_path")


def configured_signals() -> bool:
    return _configured["search"]


def use_signals(search: dict) -> None:
    """Build the ``search`` pipeline with (or without) the relatedness nodes from now on, as
    the search parameters ``search`` need."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    wanted = needs_signals(search)
    changed = _configured["search"] != wanted
    _configured["search"] = wanted
    if changed and PACKAGE_NAME:
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")


def signal_pipeline(evaluator: str = "evaluator") -> Pipeline:
    """The signal table and its figure from ``evaluator`` (a fine-tune evaluator)."""
    return Pipeline(
        [
            node(
                compute_relatedness,
                inputs=[evaluator, "params:search", "params:relatedness"],
                outputs=["relatedness", "relatedness_measurements"],
                name="compute_relatedness",
            ),
            node(
                plot_relatedness,
                inputs=["relatedness", "relatedness_measurements"],
                outputs="relatedness_plot",
                name="plot_relatedness",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    # the search's fine-tune evaluator (ingestion and the base model included), so that the
    # single-dataset fine-tunes are the evaluations a search of the same settings reuses
    from mtlsearch.pipelines.search.pipeline import evaluator_pipeline

    return evaluator_pipeline("finetune") + signal_pipeline()
