from kedro.pipeline import Pipeline, node

from .nodes import prepare_evaluator, run_search


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                prepare_evaluator,
                inputs=[
                    "raw_root", "tokenizer_previous", "base_model_previous",
                    "params:search", "params:ingestion", "params:model",
                    "params:formatting", "params:finetune", "params:scoring", "params:evaluate",
                ],
                outputs=["evaluator", "tokenizer", "base_model"],
                name="prepare_evaluator",
            ),
            node(
                run_search,
                inputs=["evaluator", "params:search"],
                outputs=["search_history", "best_combination", "surrogate_predictions"],
                name="run_search",
            ),
        ]
    )
