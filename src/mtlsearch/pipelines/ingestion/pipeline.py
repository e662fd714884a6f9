from kedro.pipeline import Pipeline, node

from .nodes import describe_datasets, read_raw_datasets, record_raw_inputs


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                read_raw_datasets,
                inputs=["raw_root", "params:ingestion"],
                outputs=["examples", "raw_snapshot"],
                name="read_raw_datasets",
            ),
            node(
                record_raw_inputs,
                inputs=["examples", "raw_snapshot"],
                outputs="examples_inputs",
                name="record_raw_inputs",
            ),
            node(
                describe_datasets,
                inputs=["examples", "params:ingestion"],
                outputs="dataset_cards",
                name="describe_datasets",
            ),
        ]
    )
