"""Shared fixtures: an isolated copy of the project for real Kedro sessions, and the real data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("MTLSEARCH_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(autouse=True)
def fresh_kedro_mlflow_hook():
    """kedro-mlflow's hook is one object per process and keeps the run id of the last pipeline it
    tracked; a later pipeline it does not track (formatting, evaluate) would reopen that run in
    the next test's store. Each test starts as a new ``kedro run`` process would."""
    from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook

    mlflow_hook.run_id = None
    yield


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration in a temp dir, as the working directory.

    Catalog paths are relative to the working directory, so every artifact of a test run lands
    under the temp dir; MLflow tracks into a sqlite store there.
    """
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    # the package is imported from its installation; kedro only checks that src/ exists
    (root / "src").mkdir()
    (root / "conf" / "local").mkdir()
    for layer in ("01_raw", "02_intermediate", "03_primary", "04_feature", "05_model_input",
                  "06_models", "07_model_output", "08_reporting"):
        (root / "data" / layer).mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MTLSEARCH_RAW_DIR", raising=False)
    bootstrap_project(root)
    return root


@pytest.fixture
def table(project) -> Path:
    """A synthetic score table of target t with four auxiliaries (aux00..aux03), in the project."""
    from mtlsearch.landscape.synthetic import generate_landscape, write_table

    path = project / "landscape.csv"
    write_table(generate_landscape("pairwise", 4, seed=3, target="t"), path)
    return path


@pytest.fixture
def run_pipeline(project) -> Callable[..., dict]:
    """Run a registered pipeline in a real Kedro session of the project copy."""

    def run(pipeline: str, params: dict | None = None, env: str | None = None):
        # dotted keys as on the command line (--params a.b=c) become nested mappings
        nested: dict = {}
        for key, value in (params or {}).items():
            *parents, leaf = key.split(".")
            target = nested
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        try:
            with KedroSession.create(project_path=project, env=env, runtime_params=nested) as session:
                return session.run(pipeline_names=[pipeline])
        finally:
            # kedro-mlflow re-enters its run at every node and closes it once at the end, which
            # leaves it on MLflow's stack of active runs in this process; a second session in
            # the same process (a CLI run is one process per session) must not log into it
            import mlflow

            while mlflow.active_run() is not None:
                mlflow.end_run()

    return run


@pytest.fixture
def load(project) -> Callable[..., object]:
    """Load a catalog dataset of the project copy."""

    def _load(name: str, env: str | None = None):
        with KedroSession.create(project_path=project, env=env) as session:
            return session.load_context().catalog.load(name)

    return _load


def project_parameters(env: str | None = None) -> dict:
    """The project's parameters as its configuration defines them."""
    from kedro.framework.project import settings

    loader = OmegaConfigLoader(str(REPO / "conf"), env=env, **settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real datasets beside the repository; CI has them, so there they must be present."""
    if not SHARED_DATASETS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the real datasets are missing in CI: {SHARED_DATASETS}")
        pytest.skip(f"real datasets not available at {SHARED_DATASETS}")
    return SHARED_DATASETS


TINY_PARAMETERS = """
model:
  config:
    hidden_size: 32
    intermediate_size: 64
    num_hidden_layers: 2
    num_attention_heads: 2
    num_key_value_heads: 2
    max_position_embeddings: 640
  tokenizer:
    vocab_size: 400
  pretrain:
    max_steps: 5
    batch_size: 4
    block_size: 32
    progress_bar: false
finetune:
  max_steps: 4
  batch_size: 4
  max_length: 600
  warmup_steps: 1
  lora:
    r: 4
    alpha: 8
  progress_bar: false
formatting:
  mixture:
    budget: 24
  evaluation:
    max_examples: 6
scoring:
  batch_size: 4
  max_new_tokens:
    ner: 8
    re: 8
    ee: 8
    tc: 4
"""

IOB_SENTENCES = "".join(
    f"Protein{i}\tB-GENE\nbinds\tO\nto\tO\nDNA{i}\tB-GENE\n.\tO\n\nThe\tO\ncell\tO\ngrew\tO\n{i}\tO\n.\tO\n\n"
    for i in range(12)
)
HEALTH_CSV = "label,pmid,sentence,design\n" + "".join(
    f'{i % 3},{100 + i},"Patients should take drug {i}, says study {i}.",RCT\n' for i in range(40)
)


@pytest.fixture
def tiny_project(project) -> Path:
    """The project copy with a tiny model configuration and small raw datasets of two formats."""
    (project / "conf" / "local" / "parameters_tiny.yml").write_text(TINY_PARAMETERS)
    raw = project / "data" / "01_raw"
    (raw / "bc2gm").mkdir(parents=True)
    for name in ("train.tsv", "devel.tsv", "test.tsv"):
        (raw / "bc2gm" / name).write_text(IOB_SENTENCES)
    (raw / "healthadvice").mkdir()
    (raw / "healthadvice" / "annotations_structured_abstract.csv").write_text(HEALTH_CSV)
    return project
