from kedro.pipeline import Pipeline, node

from mtlsearch.composition import configured_evaluator
from mtlsearch.pipelines.search.pipeline import evaluator_pipeline

from .nodes import landscape_noise, landscape_search, landscape_summary, landscape_table


def create_pipeline(evaluator: str | None = None, **kwargs) -> Pipeline:
    # the search's evaluator, aimed at the landscape's target
    return (
        Pipeline([node(landscape_search, inputs=["params:landscape", "params:search"], outputs="landscape_search_params",
                       name="aim_search_at_landscape")])
        + evaluator_pipeline(evaluator or configured_evaluator("landscape"), output="landscape_evaluator",
                             search="landscape_search_params")
        + Pipeline(
            [
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
    )
