from kedro.pipeline import Pipeline, node

from .nodes import score_adapter


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                score_adapter,
                inputs=["evaluation_sets", "tokenizer", "base_model", "adapter", "params:scoring"],
                outputs=["predictions", "evaluation_metrics"],
                name="score_adapter",
            )
        ]
    )
