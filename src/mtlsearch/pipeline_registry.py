"""Project pipelines."""

import pkgutil
import re

import click
from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from mtlsearch import pipelines as pipeline_package
from mtlsearch.pipelines import report


def register_pipelines() -> dict[str, Pipeline]:
    try:
        pipelines = find_pipelines(raise_errors=True)
    except ImportError as error:
        # `kedro run --pipeline serach` imports mtlsearch.pipelines.serach: say what there is
        known = sorted(m.name for m in pkgutil.iter_modules(pipeline_package.__path__) if m.ispkg)
        asked = re.search(r"mtlsearch\.pipelines\.(\w+)", str(error))
        if asked and asked.group(1) not in known:
            raise click.ClickException(
                f"--pipeline: no pipeline named {asked.group(1)!r}; expected one of {', '.join(known)}"
            ) from None
        raise
    pipelines["__default__"] = pipelines.get("ingestion", Pipeline([])) + pipelines.get(
        "formatting", Pipeline([])
    )
    # A search ends with its report; `report` alone redraws it from the latest search outputs.
    # Built here rather than taken from `pipelines`, which holds only the requested pipelines
    # when a run names one (`kedro run --pipeline search` discovers `search` alone).
    if "search" in pipelines:
        pipelines["search"] = pipelines["search"] + report.create_pipeline()
    return pipelines
