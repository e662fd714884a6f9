from kedro.pipeline import Pipeline, node

from mtlsearch.composition import configured_evaluator, needs_data
from mtlsearch.pipelines.finetune import base_pipeline
from mtlsearch.pipelines.ingestion import create_pipeline as ingestion_pipeline

from .nodes import make_evaluator, make_external_evaluator, make_table_evaluator, run_search


def evaluator_pipeline(evaluator: str, output: str = "evaluator", search: str = "params:search",
                       make=make_evaluator) -> Pipeline:
    """What answers the evaluations: a table or the user's trainer alone, or ingestion and the
    base model feeding the fine-tune evaluator, with ``examples``, ``tokenizer`` and ``base_model``
    as catalog datasets."""
    if not needs_data(evaluator):
        make_alone = make_table_evaluator if evaluator == "table" else make_external_evaluator
        return Pipeline([node(make_alone, inputs=search, outputs=output, name=f"make_{evaluator}_{output}")])
    inputs = ["examples", "tokenizer", "base_model", search, "params:formatting", "params:finetune",
              "params:scoring", "params:evaluate"]
    return ingestion_pipeline() + base_pipeline() + Pipeline([node(make, inputs=inputs, outputs=output, name=f"make_{output}")])


def create_pipeline(evaluator: str | None = None, **kwargs) -> Pipeline:
    # a gradts or pvi search without search.relatedness_path computes its signals first
    from mtlsearch.pipelines.relatedness.pipeline import configured_signals, signal_pipeline

    signals = configured_signals()
    return evaluator_pipeline(evaluator or configured_evaluator("search")) + (
        signal_pipeline() if signals else Pipeline([])
    ) + Pipeline(
        [
            node(
                run_search,
                inputs=["evaluator", "params:search", *(["relatedness"] if signals else [])],
                outputs=["search_history", "best_combination", "surrogate_predictions"],
                name="run_search",
            ),
        ]
    )
