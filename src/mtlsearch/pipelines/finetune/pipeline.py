from kedro.pipeline import Pipeline, node

from .nodes import build_base_model, build_tokenizer, finetune_adapter


def base_pipeline() -> Pipeline:
    """The tokenizer and base model every evaluation starts from."""
    return Pipeline(
        [
            node(
                build_tokenizer,
                inputs=["examples", "tokenizer_previous", "params:model"],
                outputs="tokenizer",
                name="build_tokenizer",
            ),
            node(
                build_base_model,
                inputs=["examples", "tokenizer", "base_model_previous", "params:model"],
                outputs="base_model",
                name="build_base_model",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return base_pipeline() + Pipeline(
        [
            node(
                finetune_adapter,
                inputs=["training_mixture", "tokenizer", "base_model", "params:finetune", "params:evaluate"],
                outputs=["adapter", "training_stats"],
                name="finetune_adapter",
            )
        ]
    )
