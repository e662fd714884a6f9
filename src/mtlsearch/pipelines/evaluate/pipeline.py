from kedro.pipeline import Pipeline, node

from mtlsearch.pipelines.finetune import base_pipeline
from mtlsearch.pipelines.ingestion import create_pipeline as ingestion_pipeline

from .nodes import evaluate


def create_pipeline(**kwargs) -> Pipeline:
    # ingestion and the base artifacts are part of it, so that one command works on a fresh
    # clone; the base artifacts are rebuilt only when their inputs changed
    return (
        ingestion_pipeline()
        + base_pipeline()
        + Pipeline(
            [
                node(
                    evaluate,
                    inputs=[
                        "examples", "tokenizer", "base_model",
                        "params:evaluate", "params:formatting", "params:finetune", "params:scoring",
                    ],
                    outputs=["adapter", "predictions", "evaluation_metrics", "training_stats"],
                    name="evaluate_combination",
                )
            ]
        )
    )
