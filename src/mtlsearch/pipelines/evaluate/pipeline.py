from kedro.pipeline import Pipeline, node

from mtlsearch.pipelines.finetune import base_pipeline
from mtlsearch.pipelines.finetune.nodes import finetune_adapter
from mtlsearch.pipelines.formatting import create_pipeline as formatting_pipeline
from mtlsearch.pipelines.ingestion import create_pipeline as ingestion_pipeline
from mtlsearch.pipelines.scoring.nodes import score_adapter

from .nodes import open_evaluation_run, record_evaluation_run


def create_pipeline(**kwargs) -> Pipeline:
    # ingestion and the base artifacts are part of it, so that one command works on a fresh
    # clone; the base artifacts are rebuilt only when their inputs changed. The formatting,
    # finetune and scoring nodes are the ones of their own pipelines, here inside one MLflow run.
    return (
        ingestion_pipeline()
        + base_pipeline()
        + formatting_pipeline()
        + Pipeline(
            [
                node(
                    open_evaluation_run,
                    inputs=["examples", "tokenizer", "base_model", "params:evaluate", "params:formatting",
                            "params:finetune", "params:scoring"],
                    outputs="evaluation_run",
                    name="open_evaluation_run",
                ),
                node(
                    finetune_adapter,
                    inputs=["training_mixture", "tokenizer", "base_model", "params:finetune", "params:evaluate",
                            "evaluation_run"],
                    outputs=["adapter", "training_stats"],
                    name="finetune_adapter_in_run",
                ),
                node(
                    score_adapter,
                    inputs=["evaluation_sets", "tokenizer", "base_model", "adapter", "params:scoring", "evaluation_run"],
                    outputs=["predictions", "evaluation_metrics"],
                    name="score_adapter_in_run",
                ),
                node(
                    record_evaluation_run,
                    inputs=["evaluation_run", "evaluation_metrics", "training_stats", "predictions", "adapter"],
                    outputs="evaluation_record",
                    name="record_evaluation_run",
                ),
            ]
        )
    )
