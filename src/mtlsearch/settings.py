"""Project settings: the hooks, the config loader and the resolvers the configuration uses."""

import warnings

from kedro.config import OmegaConfigLoader

# Notices of the libraries to their own developers, shown on every start, that a user of this
# project cannot act on (the README's command is `kedro run --pipeline ...`, which Kedro still
# takes).
for _message in (r"register_new_resolver\(\) is deprecated", r"Add type hints to the `predict` method",
                 r"Option '--pipeline' is deprecated", r"`isinstance\(treespec, LeafSpec\)` is deprecated"):
    warnings.filterwarnings("ignore", message=f".*{_message}")
from omegaconf.resolvers import oc

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # oc.env is allowed everywhere (not only in credentials) so that MTLSEARCH_RAW_DIR and
    # MLFLOW_TRACKING_URI override paths in the catalog and parameters without editing files.
    "custom_resolvers": {"oc.env": oc.env},
    # Deep-merge parameters across environments, so that conf/local (or another env) can add one
    # dataset under ingestion.datasets without restating the built-in ones.
    "merge_strategy": {"parameters": "soft"},
}

from mtlsearch.composition import EvaluatorChoice  # noqa: E402
from mtlsearch.hooks import ExamplesCheck, ParameterCheck  # noqa: E402
from mtlsearch.logs import ConsoleHook  # noqa: E402
from mtlsearch.tracking import EvaluationRunHook, StoreHook  # noqa: E402

# ParameterCheck checks every parameter when the context is created, so that a bad key stops a
# run before any node (kedro-mlflow registers its own hooks through its entry point).
HOOKS = (ConsoleHook(), StoreHook(), ParameterCheck(), ExamplesCheck(), EvaluatorChoice(), EvaluationRunHook())
