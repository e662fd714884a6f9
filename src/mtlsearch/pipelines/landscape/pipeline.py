from kedro.pipeline import Pipeline, node

from .nodes import landscape_noise, landscape_summary, landscape_table, prepare_evaluator


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                prepare_evaluator,
                inputs=[
                    "raw_root", "tokenizer_previous", "base_model_previous", "params:landscape",
                    "params:search", "params:ingestion", "params:model",
                    "params:formatting", "params:finetune", "params:scoring", "params:evaluate",
                ],
                outputs=["landscape_evaluator", "tokenizer", "base_model"],
                name="prepare_landscape_evaluator",
            ),
            node(
                landscape_table,
                inputs=["landscape_evaluator", "params:landscape", "params:search"],
                outputs="landscape_table",
                name="record_landscape",
            ),
            node(
                landscape_noise,
                inputs=["landscape_evaluator", "landscape_table", "params:landscape", "params:search"],
                outputs="landscape_noise",
                name="measure_seed_noise",
            ),
            node(
                landscape_summary,
                inputs=["landscape_table", "landscape_noise", "params:landscape"],
                outputs=["landscape_summary", "landscape_report"],
                name="summarize_landscape",
            ),
        ]
    )
