"""Typed parameters: every group validated at the start of a run, in real Kedro sessions and from
the command line, each error one line naming the dotted key."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import os
import subprocess
import sys
import traceback
import typing

import mlflow
import pytest
from kedro.framework.session import KedroSession

from mtlsearch import parameters as P
from mtlsearch.errors import ConfigError
from mtlsearch.hooks import ParameterError
from mtlsearch.parameters import validate_parameters
from conftest import REPO

TABLE = {"search.evaluator": "table", "search.table_path": "T", "search.target": "t"}


def configured_parameters(env: str = "base") -> dict:
    """The parameters of conf/base, or of conf/base under ``env``, as the project's settings load
    them (conf/local left out: a test's project copy has none)."""
    from kedro.config import OmegaConfigLoader

    from mtlsearch.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(REPO / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": env})["parameters"]


BASE = configured_parameters()
DECLARED = ", ".join(BASE["ingestion"]["datasets"])


def written_files(project) -> list[str]:
    return sorted(str(p.relative_to(project)) for p in (project / "data").rglob("*") if p.is_file())


def mlflow_runs() -> list:
    uri = os.environ["MLFLOW_TRACKING_URI"]
    if not os.path.exists(uri.removeprefix("sqlite:///")):
        return []
    client = mlflow.MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments) if experiments else []


def fails_at_start(run_pipeline, project, pipeline: str, params: dict) -> str:
    """The one-line message of the ConfigError the run stops with, having run no node."""
    with pytest.raises(ConfigError) as error:
        run_pipeline(pipeline, params)
    message = str(error.value)
    assert "\n" not in message
    # raised by the project's hook as the context was created, before the runner started
    assert isinstance(error.value, ParameterError)
    frames = [frame.name for frame in traceback.extract_tb(error.tb)]
    assert "after_context_created" in frames and "_run" not in frames
    assert written_files(project) == []
    assert mlflow_runs() == []
    return message


def with_overrides(params: dict, overrides: dict) -> dict:
    """``params`` with dotted ``overrides`` deep-merged, as --params does."""
    merged = copy.deepcopy(params)
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        target = merged
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return merged


# --- real runs -------------------------------------------------------------------------------


def test_unknown_finetune_key_stops_a_table_search_before_any_node(project, run_pipeline):
    message = fails_at_start(run_pipeline, project, "search", {**TABLE, "finetune.lrr": 1})
    assert message == (
        "finetune.lrr: unknown parameter (value 1); expected one of " + ", ".join(sorted(P.FinetuneParams.keys()))
    )


def test_unknown_strategy_stops_a_table_search_before_any_node(project, run_pipeline):
    message = fails_at_start(run_pipeline, project, "search", {**TABLE, "search.strategy": "tpee"})
    assert message == (
        "search.strategy: unknown strategy 'tpee'; expected one of exhaustive, gradts, greedy, linear, paper, pvi, "
        "random, surrogate, tpe"
    )


CASES = [
    ({**TABLE, "search.budget": "abc"}, "search.budget: expected a non-negative integer, got 'abc'"),
    ({**TABLE, "search.patience": "abc"},
     "search.patience: expected a positive integer, or null, 0 or 'none' for no limit, got 'abc'"),
    ({**TABLE, "formatting.mixture.budget": 0}, "formatting.mixture.budget: expected a positive integer, got 0"),
    ({**TABLE, "formatting.mixture.budget": -5}, "formatting.mixture.budget: expected a positive integer, got -5"),
    ({**TABLE, "formatting.evaluation.max_examples": 0},
     "formatting.evaluation.max_examples: expected a positive integer, got 0"),
    ({**TABLE, "search.metric": "nosuch"},
     "search.metric: unknown metric 'nosuch'; expected one of precision, recall, f1, accuracy, macro_f1"),
    ({**TABLE, "finetune.lr": -1}, "finetune.lr: expected a positive number, got -1"),
    ({**TABLE, "finetune.max_steps": 0}, "finetune.max_steps: expected a positive integer, got 0"),
    ({**TABLE, "model.configg.x": 1},
     "model.configg: unknown parameter (value {'x': 1}); expected one of config, device_map, load_in_4bit, "
     "name_or_path, pretrain, seed, tokenizer, torch_dtype"),
    # the fine-tune evaluator (the default) trains on declared datasets only
    ({"evaluate.datasets": "nosuch+healthadvice"},
     "evaluate.datasets: unknown dataset 'nosuch' (in 'nosuch+healthadvice'); expected ids declared under "
     f"ingestion.datasets ({DECLARED})"),
    ({"search.target": "nosuch"},
     f"search.target: unknown dataset 'nosuch'; expected ids declared under ingestion.datasets ({DECLARED})"),
    ({"search.candidates": "bc2gm+nosuch"},
     "search.candidates: unknown dataset 'nosuch' (in 'bc2gm+nosuch'); expected ids declared under "
     f"ingestion.datasets ({DECLARED})"),
    ({"formatting.evaluation.max_examples": None},
     "formatting.evaluation.max_examples: expected a positive integer, got None"),
    # accuracy and macro-F1 exist for classification only: a ner member's scores lack them
    ({"search.metric": "accuracy", "search.target": "bc2gm"},
     "search.metric: 'accuracy' is scored for classification (tc) datasets only, but search.target has 'bc2gm' "
     "(task ner); expected one of precision, recall, f1, or tc datasets only"),
    ({"search.metric": "macro_f1", "search.candidates": "ade+bc2gm"},
     "search.metric: 'macro_f1' is scored for classification (tc) datasets only, but search.candidates has "
     "'bc2gm' (task ner); expected one of precision, recall, f1, or tc datasets only"),
    ({"search.max_failures": -1}, "search.max_failures: expected a non-negative integer, got -1"),
    ({"search.max_failures": "abc"}, "search.max_failures: expected a non-negative integer, got 'abc'"),
    ({"search.max_failures": 1.5}, "search.max_failures: expected a non-negative integer, got 1.5"),
    ({"search.retry_failed": "yes"}, "search.retry_failed: expected true or false, got 'yes'"),
    ({"search.retry_failed": 1}, "search.retry_failed: expected true or false, got 1"),
]


@pytest.mark.parametrize(("params", "message"), CASES, ids=[f"{k}={v}" for p, _ in CASES for k, v in [list(p.items())[-1]]])
def test_bad_parameter_stops_the_run_with_one_line(params, message, project, run_pipeline):
    assert fails_at_start(run_pipeline, project, "search", params) == message


def test_other_pipelines_are_checked_too(project, run_pipeline):
    assert fails_at_start(run_pipeline, project, "ingestion", {"finetune.max_steps": 0}).startswith("finetune.max_steps:")
    assert fails_at_start(run_pipeline, project, "evaluate", {"scoring.batch_size": 0}).startswith("scoring.batch_size:")


def unknown(key: str, dataset: str, value: str, declared: str = DECLARED) -> str:
    within = "" if value == dataset else f" (in '{value}')"
    return f"{key}: unknown dataset '{dataset}'{within}; expected ids declared under ingestion.datasets ({declared})"


COMMA = ("evaluate.datasets: expected dataset ids joined by '+', got 'bc5cdr,healthadvice'; join ids with '+' "
         "(e.g. bc5cdr+healthadvice), as --params splits on commas")
DATASET_CASES = [
    # the pipelines that would otherwise build the tokenizer and the base model first
    ("evaluate", {"evaluate.datasets": "healthadvice+nosuch"},
     unknown("evaluate.datasets", "nosuch", "healthadvice+nosuch")),
    # the evaluate pipeline fine-tunes whatever evaluator a search is set to
    ("evaluate", {**TABLE, "evaluate.datasets": "healthadvice+nosuch"},
     unknown("evaluate.datasets", "nosuch", "healthadvice+nosuch")),
    ("search", {"search.target": "nosuch"}, unknown("search.target", "nosuch", "nosuch")),
    ("search", {"search.evaluator": "finetune", "search.candidates": "bc2gm+nosuch"},
     unknown("search.candidates", "nosuch", "bc2gm+nosuch")),
    ("formatting", {"evaluate.datasets": "bc5cdr,healthadvice"}, COMMA),
    ("evaluate", {"evaluate.datasets": "bc5cdr,healthadvice"}, COMMA),
]


@pytest.mark.parametrize(("pipeline", "params", "message"), DATASET_CASES,
                         ids=[f"{pipe}:{list(p.items())[-1][1]}" for pipe, p, _ in DATASET_CASES])
def test_unknown_or_comma_joined_dataset_ids_stop_the_run_at_its_start(pipeline, params, message, project,
                                                                       run_pipeline):
    assert fails_at_start(run_pipeline, project, pipeline, params) == message


def test_known_ids_are_the_built_in_and_the_user_declared_datasets(project, run_pipeline):
    (project / "conf" / "local" / "parameters_mine.yml").write_text(
        "ingestion:\n"
        "  datasets:\n"
        "    mine: {task: tc, reader: canonical_jsonl, files: {all: all.jsonl}}\n"
    )
    declared = DECLARED + ", mine"
    assert fails_at_start(run_pipeline, project, "evaluate", {"evaluate.datasets": "mine+nosuch"}) == unknown(
        "evaluate.datasets", "nosuch", "mine+nosuch", declared)
    assert fails_at_start(run_pipeline, project, "search", {"search.candidates": "mine+nosuch"}) == unknown(
        "search.candidates", "nosuch", "mine+nosuch", declared)
    # and a declared one passes the check
    with KedroSession.create(project_path=project, runtime_params={"evaluate": {"datasets": "mine+healthadvice"},
                                                                   "search": {"candidates": "mine"}}) as session:
        typed = validate_parameters(session.load_context().params)
    assert typed["evaluate"].members == ["mine", "healthadvice"] and typed["search"].candidates == ["mine"]


def test_the_check_sees_runtime_overrides_and_passes_valid_ones(project):
    overrides = {"search": {"budget": 3, "patience": "none", "candidates": "bc2gm+ddi"}}
    with KedroSession.create(project_path=project, runtime_params=overrides) as session:
        context = session.load_context()  # the hook has run: no error
        typed = validate_parameters(context.params)
    assert typed["search"].budget == 3 and typed["search"].patience is None
    assert typed["search"].candidates == ["bc2gm", "ddi"]


def test_a_valid_table_search_still_runs(project, run_pipeline, load):
    from mtlsearch.landscape.synthetic import generate_landscape, write_table

    table = project / "landscape.csv"
    write_table(generate_landscape("pairwise", 3, seed=3, target="t"), table)
    run_pipeline("search", {**TABLE, "search.table_path": str(table), "search.budget": 3, "search.patience": None})
    assert len(load("search_history")) == 3


def test_command_line_run_fails_at_start_naming_the_key(project):
    params = "search.evaluator=table,search.table_path=T,search.target=t,search.strategy=tpee"
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params],
        cwd=project, env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "search.strategy" in done.stdout + done.stderr
    # the message alone, not a traceback
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: search.strategy: unknown strategy 'tpee'; expected one of exhaustive, gradts, greedy, linear, paper, "
        "pvi, random, surrogate, tpe"
    )
    assert "Traceback" not in done.stderr
    assert written_files(project) == []


# --- the project's configurations ----------------------------------------------------------


@pytest.mark.parametrize("env", ["base", "paper"])
def test_project_configurations_validate(env):
    params = configured_parameters(env)
    typed = validate_parameters(params)
    assert set(typed) == set(params) == set(P.SCHEMAS)
    assert typed["ingestion"].ids == tuple(params["ingestion"]["datasets"])
    assert typed["search"].metric in P.METRICS
    if env == "paper":
        assert typed["model"].name_or_path and typed["finetune"].optimizer == "paged_adamw_8bit"


def test_tiny_test_configuration_validates(tiny_project):
    with KedroSession.create(project_path=tiny_project) as session:
        typed = validate_parameters(session.load_context().params)
    assert typed["model"].pretrain.progress_bar is False and typed["finetune"].lora.r == 4


# --- each check, on the project's parameters with one override ---------------------------------

MORE_CASES = [
    ({"search.budget": -1}, "search.budget: expected a non-negative integer, got -1"),
    ({"search.budget": True}, "search.budget: expected a non-negative integer, got True"),
    ({"search.batch_size": 0}, "search.batch_size: expected a positive integer, got 0"),
    ({"search.patience": -2}, "search.patience: expected a positive integer, or null, 0 or 'none' for no limit, got -2"),
    ({"search.evaluator": "grid"}, "search.evaluator: unknown evaluator 'grid'; expected one of finetune, table, python, command"),
    ({"search.executor": "dask"}, "search.executor: unknown executor 'dask'; expected one of local, ray"),
    ({"search.evaluator": "table"},
     "search.table_path: expected the path of a CSV of scores (the table evaluator reads one), got None"),
    ({"search.stopping": "never"}, "search.stopping: unknown stopping rule 'never'; expected one of auto, patience, model"),
    ({"search.stopping": "model", "search.strategy": "greedy"},
     "search.stopping: 'model' needs a strategy with a model (surrogate), got strategy 'greedy'; use auto or patience"),
    ({"search.min_gain": -0.1}, "search.min_gain: expected a non-negative number, got -0.1"),
    ({"search.stop_probability": 1}, "search.stop_probability: expected a number in (0, 1), got 1"),
    ({"search.stop_after": 0}, "search.stop_after: expected a positive integer, got 0"),
    ({"search.confirm.top_k": -1}, "search.confirm.top_k: expected a non-negative integer, got -1"),
    ({"search.confirm.seeds": "two"},
     "search.confirm.seeds: expected a number of extra seeds or a list of seeds (integers), got 'two'"),
    ({"search.confirm.top": 1}, "search.confirm.top: unknown parameter (value 1); expected one of seeds, top_k"),
    ({"search.reuse": "yes"}, "search.reuse: expected true or false, got 'yes'"),
    ({"search.ray.num_gpu": 1},
     "search.ray.num_gpu: unknown parameter (value 1); expected one of address, local_num_cpus, log_to_driver, "
     "max_retries, num_cpus, num_gpus"),
    ({"search.strategy_options.acquisitions": "ucb"},
     "search.strategy_options.acquisitions: not an option of strategy 'surrogate' (value 'ucb'); expected one of "
     "acquisition, design, model, n_initial, pairwise, prior, prior_effects, ucb_beta"),
    ({"search.candidates": ["bc2gm", "nosuch"]},
     "search.candidates: unknown dataset 'nosuch' (in 'bc2gm+nosuch'); expected ids declared under "
     f"ingestion.datasets ({DECLARED})"),
    ({"search.candidates": "healthadvice+ddi"},
     "search.candidates: expected auxiliary ids other than the target 'healthadvice', got 'healthadvice+ddi'"),
    ({"evaluate.datasets": ["bc5cdr", "healthadvice"]},
     "evaluate.datasets: expected dataset ids joined by '+', got ['bc5cdr', 'healthadvice']; join ids with '+' "
     "(e.g. bc5cdr+healthadvice), as --params splits on commas"),
    ({"evaluate.datasets": "bc5cdr,"},
     "evaluate.datasets: expected dataset ids joined by '+', got 'bc5cdr,'; join ids with '+' "
     "(e.g. bc5cdr+healthadvice), as --params splits on commas"),
    ({"evaluate.target": "ddi"}, "evaluate.target: expected a member of evaluate.datasets (healthadvice, bc5cdr), got 'ddi'"),
    ({"landscape.target": "nosuch"},
     f"landscape.target: unknown dataset 'nosuch'; expected ids declared under ingestion.datasets ({DECLARED})"),
    ({"landscape.pool": "ade+nosuch"},
     "landscape.pool: unknown dataset 'nosuch' (in 'ade+nosuch'); expected ids declared under ingestion.datasets "
     f"({DECLARED})"),
    ({"landscape.pool": "ade+healthadvice"},
     "landscape.pool: expected distinct auxiliary ids other than the target joined by '+', got 'ade+healthadvice'"),
    ({"landscape.noise_combinations": "ade+bc2gm"},
     "landscape.noise_combinations: 'bc2gm' (in 'ade+bc2gm') is not in the pool; expected ids of healthadvice, "
     "ade, bc5cdr, ddi, genia2011"),
    ({"formatting.mixture.strategy": "uniform"},
     "formatting.mixture.strategy: unknown mixing strategy 'uniform'; expected one of equal, proportional, temperature"),
    ({"formatting.mixture.temperature": 0}, "formatting.mixture.temperature: expected a positive number, got 0"),
    ({"formatting.evaluation.selection_split": "train"},
     "formatting.evaluation.selection_split: unknown split 'train'; expected one of dev, test"),
    ({"formatting.template.prompt": "{instruction} {text}"},
     "formatting.template.prompt: expected a format string with {input} and no fields but {preamble}, "
     "{instruction}, {input}, got '{instruction} {text}'"),
    ({"formatting.default_instructions.qa": "Answer."},
     "formatting.default_instructions.qa: unknown task 'qa'; expected one of ner, re, ee, tc"),
    ({"finetune.precision": "bf15-mixed"},
     "finetune.precision: unknown precision 'bf15-mixed'; expected one of " + ", ".join(map(str, P.PRECISIONS))),
    ({"model.pretrain.precision": "half"},
     "model.pretrain.precision: unknown precision 'half'; expected one of " + ", ".join(map(str, P.PRECISIONS))),
    ({"finetune.lr": "1e-3"}, "finetune.lr: expected a positive number, got '1e-3'"),
    # the code reads int(cfg.get("warmup_steps", default)): null is no value for it
    ({"finetune.warmup_steps": None},
     "finetune.warmup_steps: expected a non-negative integer (left out: a tenth of max_steps), got None"),
    ({"search.strategy_options": None}, "search.strategy_options: expected a mapping, got None"),
    ({"formatting.mixture": {"strategy": "equal"}}, "formatting.mixture.budget: expected a positive integer, got None"),
    ({"ingestion.datasets.ade.path": None},
     "ingestion.datasets.ade.path: expected the dataset's folder under the raw-data root (left out: ade), got None"),
    ({"finetune.lora.dropout": 1.0}, "finetune.lora.dropout: expected a number in [0, 1), got 1.0"),
    ({"finetune.lora.rank": 8},
     "finetune.lora.rank: unknown parameter (value 8); expected one of alpha, dropout, modules_to_save, r, "
     "target_modules"),
    ({"finetune.optimizer": "sgd"}, "finetune.optimizer: unknown optimizer 'sgd'; expected one of adamw, paged_adamw_8bit"),
    ({"finetune.method": "qlora"}, "finetune.method: unknown method 'qlora'; expected one of lora, full"),
    ({"finetune.bucketing": 1}, "finetune.bucketing: expected true or false, got 1"),
    ({"model.torch_dtype": "bf16"},
     "model.torch_dtype: unknown torch dtype 'bf16'; expected one of auto, bfloat16, float16, float32, float64"),
    ({"model.config.vocab_size": 100},
     "model.config.vocab_size: set from the tokenizer (value 100); remove it and set model.tokenizer.vocab_size"),
    ({"model.pretrain.copy_share": 1.5}, "model.pretrain.copy_share: expected a number in [0, 1], got 1.5"),
    ({"model.tokenizer.vocab": 10},
     "model.tokenizer.vocab: unknown parameter (value 10); expected one of min_frequency, vocab_size"),
    ({"scoring.max_new_tokens.qa": 5}, "scoring.max_new_tokens.qa: unknown task 'qa'; expected one of ner, re, ee, tc"),
    ({"scoring.max_new_tokens_per_dataset.biored": 0},
     "scoring.max_new_tokens_per_dataset.biored: expected a positive integer, got 0"),
    ({"ingestion.datasets.bc2gm.task": "qa"}, "ingestion.datasets.bc2gm.task: unknown task 'qa'; expected one of ner, re, ee, tc"),
    ({"ingestion.datasets.bc2gm.reader": "tsv"},
     "ingestion.datasets.bc2gm.reader: unknown reader 'tsv'; expected one of ade, bionlp_standoff, canonical_jsonl, "
     "ddi_xml, git_jsonl, healthadvice_csv, iob, phee_json, pubmed_rct, pubtator"),
    ({"ingestion.datasets.ddi.split.dev_fraction": 1.5},
     "ingestion.datasets.ddi.split.dev_fraction: expected a number in (0, 1), got 1.5"),
    ({"ingestion.datasets.bc2gm.split.dev_fraction": 0.1},
     "ingestion.datasets.bc2gm.split.dev_fraction: unknown parameter (value 0.1); expected one of policy"),
    ({"ingestion.datasets.bc2gm.option": {}},
     "ingestion.datasets.bc2gm.option: unknown parameter (value {}); expected one of files, options, path, reader, "
     "split, task"),
    ({"serach.budget": 3},
     "serach: unknown parameter group (value {'budget': 3}); expected one of evaluate, finetune, formatting, "
     "ingestion, landscape, model, relatedness, scoring, search"),
]


@pytest.mark.parametrize(("overrides", "message"), MORE_CASES, ids=[",".join(o) for o, _ in MORE_CASES])
def test_each_check_names_key_value_and_expectation(overrides, message):
    with pytest.raises(ConfigError) as error:
        validate_parameters(with_overrides(BASE, overrides))
    assert str(error.value) == message


def test_accepted_forms():
    typed = validate_parameters(with_overrides(BASE, {
        "search.patience": 0, "search.candidates": ["ade", "ddi"], "search.confirm.seeds": [4, 5],
        "search.stopping": "model", "search.evaluator": "table", "search.table_path": "t.csv", "search.target": "t",
        "search.metric": "accuracy",  # of a table's scores: no task to check it against
        "finetune.precision": "bf16-mixed", "finetune.grad_clip": None, "finetune.warmup_steps": 0,
        "model.torch_dtype": "bfloat16", "model.device_map": "auto", "model.pretrain.copy_share": 0.5,
        "landscape.noise_seeds": 3, "landscape.noise_combinations": "ade+ddi",
        "formatting.template": None, "formatting.mixture.policy": "fixed_target",
        "formatting.instructions.ade": None,  # the task's default instruction
    }))
    search = typed["search"]
    assert search.patience is None and search.candidates == ["ade", "ddi"] and search.confirm.seeds == [4, 5]
    assert typed["landscape"].noise_seeds == [3] and typed["landscape"].noise_combinations == ["ade+ddi"]
    assert typed["formatting"].template is None
    # missing groups are fine
    assert validate_parameters({"finetune": {"lr": 1e-4}})["finetune"].lr == 1e-4
    assert validate_parameters({}) == {}


def test_schemas_are_what_kedro_instantiates_for_typed_node_parameters():
    # Kedro's parameter validator builds a dataclass-annotated node input as Schema(**mapping)
    from kedro.validation.model_factory import instantiate_model

    typed = instantiate_model("finetune", copy.deepcopy(BASE["finetune"]), P.FinetuneParams)
    assert typed == P.FinetuneParams.from_params(BASE["finetune"])
    assert isinstance(typed.lora, P.LoraParams)
    with pytest.raises(Exception, match="finetune.lr: expected a positive number, got 0"):
        instantiate_model("finetune", {**BASE["finetune"], "lr": 0}, P.FinetuneParams)
    # and a typed group goes back to the mapping the code reads
    assert P.FinetuneParams.from_params(typed.to_dict()) == typed
    left_out = P.FinetuneParams.from_params({"lr": 1e-4})
    assert left_out.warmup_steps is None and "warmup_steps" not in left_out.to_dict()
    assert left_out.to_dict()["lora"] == dataclasses.asdict(P.LoraParams())
    ingestion = P.IngestionParams.from_params(BASE["ingestion"])
    assert P.IngestionParams.from_params(ingestion.to_dict()) == ingestion


# --- the schemas follow the code ---------------------------------------------------------------


def test_search_and_landscape_schemas_accept_exactly_the_settings_keys():
    from mtlsearch.landscape.recorded import LandscapeSettings
    from mtlsearch.search.run import SearchSettings

    assert set(P.SearchParams.keys()) == set(vars(SearchSettings.from_params(BASE["search"])))
    assert set(P.LandscapeParams.keys()) == set(LandscapeSettings.__dataclass_fields__)
    # what the schema accepts, the settings accept
    typed = validate_parameters(BASE)
    SearchSettings.from_params(BASE["search"])
    LandscapeSettings.from_params(BASE["landscape"])
    assert typed["search"].budget == SearchSettings.from_params(BASE["search"]).budget


def test_names_mirrored_from_modules_are_theirs():
    from lightning.fabric.connector import _PRECISION_INPUT

    from mtlsearch.evaluation.evaluators import EVALUATORS
    from mtlsearch.finetune.training import OPTIMIZERS, SCHEDULES
    from mtlsearch.formatting import mixtures
    from mtlsearch.search.executors import EXECUTORS
    from mtlsearch.search.loop import STOPPING_RULES as STOPPING

    lightning = {value for part in typing.get_args(_PRECISION_INPUT) for value in typing.get_args(part)}
    assert set(P.PRECISIONS) == lightning | {"auto"}
    assert P.SCHEDULES == SCHEDULES and P.OPTIMIZERS == OPTIMIZERS
    assert P.MIXING == mixtures.MIXING and P.MIXTURE_POLICIES == mixtures.POLICIES
    assert P.SELECTION_SPLITS == mixtures.SELECTION_SPLITS
    assert P.EVALUATORS == EVALUATORS and P.EXECUTORS == EXECUTORS and P.STOPPING == STOPPING


def test_search_metrics_are_those_the_scorer_produces():
    from mtlsearch.scoring.metrics import score_task

    ner = score_task("ner", [["a"]], [["a"]])
    tc = score_task("tc", [["x"]], [["x"]])
    assert set(P.ITEM_METRICS) <= set(ner) and set(P.METRICS) <= set(tc)
    assert not set(P.CLASSIFICATION_METRICS) & set(ner)


def test_every_schema_field_is_checked():
    # a field that __post_init__ does not look at would accept anything
    for schema in (*P.SCHEMAS.values(), P.TokenizerParams, P.PretrainParams, P.LoraParams, P.TemplateParams,
                   P.MixtureParams, P.EvaluationSetParams, P.RayParams, P.ConfirmParams):
        source = inspect.getsource(schema.__post_init__)
        for f in dataclasses.fields(schema):
            assert f"self.{f.name}" in source, f"{schema.__name__}.{f.name}"
