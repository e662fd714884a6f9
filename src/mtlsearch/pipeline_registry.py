"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from mtlsearch.pipelines import report


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = pipelines.get("ingestion", Pipeline([])) + pipelines.get(
        "formatting", Pipeline([])
    )
    # A search ends with its report; `report` alone redraws it from the latest search outputs.
    # Built here rather than taken from `pipelines`, which holds only the requested pipelines
    # when a run names one (`kedro run --pipeline search` discovers `search` alone).
    if "search" in pipelines:
        pipelines["search"] = pipelines["search"] + report.create_pipeline()
    return pipelines
