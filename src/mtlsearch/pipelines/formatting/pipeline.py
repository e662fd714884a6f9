from kedro.pipeline import Pipeline, node

from .nodes import build_evaluation_sets, build_training_mixture


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                build_training_mixture,
                inputs=["examples", "params:formatting", "params:evaluate"],
                outputs="training_mixture",
                name="build_training_mixture",
            ),
            node(
                build_evaluation_sets,
                inputs=["examples", "params:formatting", "params:evaluate"],
                outputs="evaluation_sets",
                name="build_evaluation_sets",
            ),
        ]
    )
