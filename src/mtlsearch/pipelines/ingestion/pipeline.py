from kedro.pipeline import Pipeline, node

from .nodes import describe_datasets, read_raw_datasets


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                read_raw_datasets,
                inputs=["raw_root", "params:ingestion"],
                outputs="examples",
                name="read_raw_datasets",
            ),
            node(
                describe_datasets,
                inputs=["examples", "params:ingestion"],
                outputs="dataset_cards",
                name="describe_datasets",
            ),
        ]
    )
