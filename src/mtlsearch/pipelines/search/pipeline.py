from kedro.pipeline import Pipeline, node

from mtlsearch.composition import configured_evaluator, needs_data
from mtlsearch.pipelines.finetune import base_pipeline
from mtlsearch.pipelines.ingestion import create_pipeline as ingestion_pipeline

from .nodes import make_evaluator, make_table_evaluator, run_search


def evaluator_pipeline(evaluator: str, output: str = "evaluator", search: str = "params:search",
                       make=make_evaluator) -> Pipeline:
    """What answers the evaluations: a table alone, or ingestion and the base model feeding the
    fine-tune evaluator, with ``examples``, ``tokenizer`` and ``base_model`` as catalog datasets."""
    if not needs_data(evaluator):
        return Pipeline([node(make_table_evaluator, inputs=search, outputs=output, name=f"make_table_{output}")])
    inputs = ["examples", "tokenizer", "base_model", search, "params:formatting", "params:finetune",
              "params:scoring", "params:evaluate"]
    return ingestion_pipeline() + base_pipeline() + Pipeline([node(make, inputs=inputs, outputs=output, name=f"make_{output}")])


def create_pipeline(evaluator: str | None = None, **kwargs) -> Pipeline:
    return evaluator_pipeline(evaluator or configured_evaluator("search")) + Pipeline(
        [
            node(
                run_search,
                inputs=["evaluator", "params:search"],
                outputs=["search_history", "best_combination", "surrogate_predictions"],
                name="run_search",
            ),
        ]
    )
