"""Typed, validated parameters: one dataclass per parameter group of conf/*/parameters_*.yml.

A misspelt key, a value of the wrong type or out of range, an unknown name (strategy, metric,
mixing strategy, executor, precision) or a dataset id that no ``ingestion.datasets`` entry
declares is a :class:`~mtlsearch.errors.ConfigError` of one line naming the dotted key, the
value and what was expected. :func:`validate_parameters` checks every group at once, so a run
can stop before its first node instead of after ingestion and the base model were built
(:mod:`mtlsearch.hooks`).

A schema accepts exactly the keys the code reads. ``Schema.from_params(mapping)`` rejects
unknown keys with that one-line message; ``Schema(**mapping)`` (how Kedro instantiates a
dataclass-annotated node parameter) applies the same checks in ``__post_init__`` and turns
nested mappings into their schemas. Values arrive as the config loader gives them: plain
dicts, lists and scalars, with ``--params`` values already parsed by OmegaConf (``budget=12``
is the int 12, ``budget=abc`` the string 'abc', ``patience=null`` None), so no string is
converted to a number here.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

from mtlsearch.combinations import SEPARATOR
from mtlsearch.errors import ConfigError

# The member metrics every scored dataset has (item scores), and those of classification only
# (mtlsearch.scoring.metrics.score_task); a search maximises one of them.
ITEM_METRICS = ("precision", "recall", "f1")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")
METRICS = ITEM_METRICS + CLASSIFICATION_METRICS

# What lightning.Trainer(precision=...) accepts, and "auto" (mtlsearch.finetune.training.resolve_precision);
# kept here because importing lightning to read them takes seconds.
PRECISIONS = (
    "auto", "transformer-engine", "transformer-engine-float16", "16-true", "16-mixed", "bf16-true",
    "bf16-mixed", "32-true", "64-true", "64", "32", "16", "bf16", 64, 32, 16,
)
# mtlsearch.finetune.training.SCHEDULES / OPTIMIZERS (that module imports lightning)
SCHEDULES = ("cosine", "linear", "constant")
OPTIMIZERS = ("adamw", "paged_adamw_8bit")
METHODS = ("lora", "full")
TORCH_DTYPES = ("auto", "bfloat16", "float16", "float32", "float64")
# mtlsearch.formatting.mixtures.MIXING / POLICIES / SELECTION_SPLITS
MIXING = ("equal", "proportional", "temperature")
MIXTURE_POLICIES = ("equal", "fixed_target")
SELECTION_SPLITS = ("dev", "test")
# mtlsearch.evaluation.evaluators.EVALUATORS, mtlsearch.search.executors.EXECUTORS,
# mtlsearch.search.loop.STOPPING_RULES
EVALUATORS = ("finetune", "table", "python", "command")
EXECUTORS = ("local", "ray")
STOPPING = ("auto", "patience", "model")
# search.callable: a module path, a colon, an attribute path (mtlsearch.evaluation.external)
CALLABLE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# LlamaConfig arguments that mtlsearch.finetune.modeling.build_model takes from the tokenizer
TOKENIZER_CONFIG_KEYS = ("vocab_size", "bos_token_id", "eos_token_id", "pad_token_id")

# ---------------------------------------------------------------------------------------------
# checks: each returns the checked value or raises a one-line ConfigError naming the key


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _names(options) -> str:
    return ", ".join(str(o) for o in options)


def fail(key: str, expected: str, value: object) -> NoReturn:
    raise ConfigError(f"{key}: expected {expected}, got {_show(value)}")


def integer(key: str, value: object, minimum: int | None = None, *, nullable: bool = False) -> int | None:
    """An int (not a bool) of at least ``minimum`` (or None where ``nullable``)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        what = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        fail(key, what + (" or null" if nullable else ""), value)
    return int(value)


def number(
    key: str, value: object, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False, nullable: bool = False,
) -> float | None:
    """A real number (an int is one, a bool or a string is not) within the given bounds."""
    if value is None and nullable:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low == 0 and high is None:
            what = "a positive number" if low_open else "a non-negative number"
        elif low is not None and high is not None:
            what = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            what = f"a number {'>' if low_open else '>='} {low:g}"
        else:
            what = "a number"
        fail(key, what + (" or null" if nullable else ""), value)
    return float(value)


def boolean(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        fail(key, "true or false", value)
    return value


def text(key: str, value: object, *, nullable: bool = False) -> str | None:
    """A non-empty string (or None where ``nullable``)."""
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip():
        fail(key, "a non-empty string" + (" or null" if nullable else ""), value)
    return value


def choice(key: str, value: object, options, noun: str | None = None):
    """One of ``options``; ``noun`` words the error as ``unknown <noun> 'x'``."""
    if isinstance(value, bool) or value not in options:
        if noun:
            raise ConfigError(f"{key}: unknown {noun} {_show(value)}; expected one of {_names(options)}")
        fail(key, f"one of {_names(options)}", value)
    return value


def mapping(key: str, value: object, *, nullable: bool = True) -> dict:
    """A mapping with string keys (None is the empty mapping where ``nullable``)."""
    if value is None and nullable:
        return {}
    if not isinstance(value, Mapping):
        fail(key, "a mapping", value)
    for name in value:
        if not isinstance(name, str):
            fail(key, "a mapping with string keys", value)
    return dict(value)


def string_list(key: str, value: object, *, allow_joined: bool = False) -> list[str]:
    """A list of non-empty strings; with ``allow_joined`` also one string of ids joined by '+'."""
    if allow_joined and isinstance(value, str):
        return dataset_ids(key, value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        fail(key, "ids joined by '+' or a list of ids" if allow_joined else "a list of strings", value)
    return [str(v) for v in value]


def dataset_ids(key: str, value: object) -> list[str]:
    """The ids of ``'a+b'``, in order; a list, a comma or blanks inside are errors (Kedro's
    ``--params`` splits on commas, so ``a,b`` is not one value)."""
    parts = value.split(SEPARATOR) if isinstance(value, str) else None
    if not parts or any(not p or p != p.strip() or "," in p or " " in p for p in parts):
        raise ConfigError(
            f"{key}: expected dataset ids joined by '+', got {_show(value)}; join ids with '+' "
            "(e.g. bc5cdr+healthadvice), as --params splits on commas"
        )
    return parts


def reject_unknown_keys(section: str, params: Mapping, known) -> None:
    """ConfigError naming the first key of ``params`` (in the order given) that ``section`` does not know."""
    known = set(known)
    for key, value in params.items():
        if key not in known:
            raise ConfigError(
                f"{section}.{key}: unknown parameter (value {_show(value)}); expected one of {_names(sorted(known))}"
            )


# ---------------------------------------------------------------------------------------------
# schemas


class Schema:
    """A parameter group (or a mapping inside one) whose location is ``SECTION``."""

    SECTION: ClassVar[str] = ""
    # keys whose None field means "left out" (the code's own default applies): the code reads
    # them as int(cfg.get(key, default)), so an explicit null in the mapping is an error
    NOT_NULL: ClassVar[dict[str, str]] = {}

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)  # type: ignore[arg-type]

    @classmethod
    def from_params(cls, params: Mapping | None = None):
        """The typed group of ``params`` (a mapping as the config loader gives it)."""
        if isinstance(params, cls):
            return params
        values = mapping(cls.SECTION, params)
        reject_unknown_keys(cls.SECTION, values, cls.keys())
        for key, expected in cls.NOT_NULL.items():
            if key in values and values[key] is None:
                fail(f"{cls.SECTION}.{key}", expected, None)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as the code that reads ``.get(...)`` of a mapping takes them (a left-out
        ``NOT_NULL`` key stays out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self.NOT_NULL:
                continue
            out[f.name] = value.to_dict() if isinstance(value, Schema) else copy.deepcopy(value)
        return out


def nested(owner: str, schema: type[Schema], value: object):
    """``value`` as ``schema`` (a mapping inside the group ``owner``)."""
    if isinstance(value, schema):
        return value
    return schema.from_params(mapping(owner, value))


# ingestion ------------------------------------------------------------------------------------


SPLIT_KEYS = {"official": ("policy",), "carve_dev": ("policy", "dev_fraction"), "grouped": ("policy", "fractions")}


@dataclass
class DatasetParams:
    """One dataset's entry, ``ingestion.datasets.<id>`` (mtlsearch.ingestion.examples.DatasetSpec)."""

    id: str
    task: str
    reader: str
    files: dict[str, str]
    path: str | None = None
    split: dict[str, Any] = field(default_factory=lambda: {"policy": "official"})
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_entry(cls, dataset_id: str, entry: object) -> DatasetParams:
        where = f"ingestion.datasets.{dataset_id}"
        if isinstance(entry, DatasetParams):
            return entry
        values = mapping(where, entry, nullable=False)
        reject_unknown_keys(where, values, [k for k in (f.name for f in dataclasses.fields(cls)) if k != "id"])
        for key in ("task", "reader", "files"):
            if key not in values:
                raise ConfigError(f"{where}.{key}: missing; an entry needs task, reader and files")
        if "path" in values and values["path"] is None:
            fail(f"{where}.path", f"the dataset's folder under the raw-data root (left out: {dataset_id})", None)
        return cls(id=dataset_id, **values)

    def __post_init__(self):
        from mtlsearch.ingestion.readers import READERS
        from mtlsearch.ingestion.readers.base import TASKS
        from mtlsearch.ingestion.splits import POLICIES

        where = f"ingestion.datasets.{self.id}"
        choice(f"{where}.task", self.task, TASKS, "task")
        choice(f"{where}.reader", self.reader, sorted(READERS), "reader")
        self.path = text(f"{where}.path", self.path, nullable=True) or self.id
        files = mapping(f"{where}.files", self.files, nullable=False)
        if not files:
            fail(f"{where}.files", "a mapping of source part -> path or glob", self.files)
        for part, path in files.items():
            text(f"{where}.files.{part}", path)
        self.files = files
        split = mapping(f"{where}.split", self.split) or {"policy": "official"}
        policy = choice(f"{where}.split.policy", split.get("policy", "official"), POLICIES, "split policy")
        reject_unknown_keys(f"{where}.split", split, SPLIT_KEYS[policy])
        if "dev_fraction" in split:
            number(f"{where}.split.dev_fraction", split["dev_fraction"], low=0, high=1, low_open=True, high_open=True)
        if "fractions" in split:
            fractions = mapping(f"{where}.split.fractions", split["fractions"], nullable=False)
            if set(fractions) != {"train", "dev", "test"}:
                fail(f"{where}.split.fractions", "the fractions of train, dev and test", split["fractions"])
            for name, share in fractions.items():
                number(f"{where}.split.fractions.{name}", share, low=0, high=1)
            if abs(sum(fractions.values()) - 1.0) > 1e-9:
                fail(f"{where}.split.fractions", "fractions summing to 1", split["fractions"])
        self.split = split
        self.options = mapping(f"{where}.options", self.options)


@dataclass
class IngestionParams(Schema):
    """``ingestion``: the declared datasets (conf/base/parameters_ingestion.yml)."""

    SECTION: ClassVar[str] = "ingestion"

    split_seed: int = 0
    datasets: dict[str, DatasetParams] = field(default_factory=dict)

    def __post_init__(self):
        self.split_seed = integer("ingestion.split_seed", self.split_seed)
        datasets = mapping("ingestion.datasets", self.datasets)
        self.datasets = {name: DatasetParams.from_entry(name, entry) for name, entry in datasets.items()}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.datasets)

    def to_dict(self) -> dict[str, Any]:
        datasets = {
            name: {k: v for k, v in dataclasses.asdict(entry).items() if k != "id"}
            for name, entry in self.datasets.items()
        }
        return {"split_seed": self.split_seed, "datasets": datasets}


# model ----------------------------------------------------------------------------------------


def _precision(key: str, value: object):
    if value is None:
        return "auto"
    if not isinstance(value, str | int):
        value = str(value)  # 16.0 is no precision Lightning takes
    return choice(key, value, PRECISIONS, "precision")


@dataclass
class TokenizerParams(Schema):
    """``model.tokenizer``: the BPE tokenizer trained for a from-config model."""

    SECTION: ClassVar[str] = "model.tokenizer"

    vocab_size: int = 4096
    min_frequency: int = 2

    def __post_init__(self):
        self.vocab_size = integer("model.tokenizer.vocab_size", self.vocab_size, 1)
        self.min_frequency = integer("model.tokenizer.min_frequency", self.min_frequency, 0)


@dataclass
class PretrainParams(Schema):
    """``model.pretrain``: the brief LM pretraining of a from-config model
    (mtlsearch.finetune.modeling.pretrain; max_steps 0 skips it)."""

    SECTION: ClassVar[str] = "model.pretrain"
    NOT_NULL: ClassVar[dict[str, str]] = {"warmup_steps": "a non-negative integer (left out: a tenth of max_steps)"}

    max_steps: int = 0
    batch_size: int = 16
    block_size: int = 128
    lr: float = 1e-3
    warmup_steps: int | None = None
    weight_decay: float = 0.01
    schedule: str = "cosine"
    precision: str | int = "auto"
    grad_clip: float | None = 1.0
    seed: int = 0
    progress_bar: bool = True
    copy_share: float = 0.0

    def __post_init__(self):
        at = "model.pretrain."
        self.max_steps = integer(at + "max_steps", self.max_steps, 0)
        self.batch_size = integer(at + "batch_size", self.batch_size, 1)
        self.block_size = integer(at + "block_size", self.block_size, 2)
        self.lr = number(at + "lr", self.lr, low=0, low_open=True)
        self.warmup_steps = integer(at + "warmup_steps", self.warmup_steps, 0, nullable=True)
        self.weight_decay = number(at + "weight_decay", self.weight_decay, low=0)
        choice(at + "schedule", self.schedule, SCHEDULES, "schedule")
        self.precision = _precision(at + "precision", self.precision)
        self.grad_clip = number(at + "grad_clip", self.grad_clip, low=0, nullable=True)
        self.seed = integer(at + "seed", self.seed)
        boolean(at + "progress_bar", self.progress_bar)
        self.copy_share = number(at + "copy_share", self.copy_share, low=0, high=1)


@dataclass
class ModelParams(Schema):
    """``model``: the base model every evaluation starts from (conf/base/parameters_finetune.yml)."""

    SECTION: ClassVar[str] = "model"

    name_or_path: str | None = None
    config: dict[str, Any] | None = None
    seed: int = 0
    tokenizer: TokenizerParams = field(default_factory=TokenizerParams)
    pretrain: PretrainParams = field(default_factory=PretrainParams)
    torch_dtype: str | None = None
    load_in_4bit: bool = False
    device_map: str | dict[str, Any] | None = None

    def __post_init__(self):
        self.name_or_path = text("model.name_or_path", self.name_or_path, nullable=True)
        if not self.name_or_path and not self.config:
            fail("model.config", "the LlamaConfig arguments of a from-config model (model.name_or_path is null)",
                 self.config)
        if self.config is not None:
            config = mapping("model.config", self.config, nullable=False)
            for key, value in config.items():
                if key in TOKENIZER_CONFIG_KEYS:
                    raise ConfigError(
                        f"model.config.{key}: set from the tokenizer (value {_show(value)}); remove it"
                        + (" and set model.tokenizer.vocab_size" if key == "vocab_size" else "")
                    )
                if value is not None and not isinstance(value, bool | int | float | str):
                    fail(f"model.config.{key}", "a number, string, boolean or null", value)
            self.config = config
        self.seed = integer("model.seed", self.seed)
        self.tokenizer = nested("model.tokenizer", TokenizerParams, self.tokenizer)
        self.pretrain = nested("model.pretrain", PretrainParams, self.pretrain)
        if self.torch_dtype is not None:
            choice("model.torch_dtype", self.torch_dtype, TORCH_DTYPES, "torch dtype")
        boolean("model.load_in_4bit", self.load_in_4bit)
        if self.device_map is not None and not isinstance(self.device_map, str):
            device_map = mapping("model.device_map", self.device_map, nullable=False)
            for module, device in device_map.items():
                if isinstance(device, bool) or not isinstance(device, int | str):
                    fail(f"model.device_map.{module}", "a device (a GPU index or a name such as cpu)", device)
            self.device_map = device_map


# finetune -------------------------------------------------------------------------------------


@dataclass
class LoraParams(Schema):
    """``finetune.lora``: the adapter (peft.LoraConfig)."""

    SECTION: ClassVar[str] = "finetune.lora"

    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"
    modules_to_save: list[str] | None = None

    def __post_init__(self):
        at = "finetune.lora."
        self.r = integer(at + "r", self.r, 1)
        self.alpha = number(at + "alpha", self.alpha, low=0, low_open=True)
        self.dropout = number(at + "dropout", self.dropout, low=0, high=1, high_open=True)
        if not isinstance(self.target_modules, str):
            self.target_modules = string_list(at + "target_modules", self.target_modules)
            if not self.target_modules:
                fail(at + "target_modules", "'all-linear' or a non-empty list of module names", self.target_modules)
        else:
            text(at + "target_modules", self.target_modules)
        if self.modules_to_save is not None:
            self.modules_to_save = string_list(at + "modules_to_save", self.modules_to_save)


@dataclass
class FinetuneParams(Schema):
    """``finetune``: the instruction tuning of one evaluation (mtlsearch.finetune.training.finetune_lora)."""

    SECTION: ClassVar[str] = "finetune"
    NOT_NULL: ClassVar[dict[str, str]] = {"warmup_steps": "a non-negative integer (left out: a tenth of max_steps)"}

    method: str = "lora"
    lora: LoraParams = field(default_factory=LoraParams)
    lr: float = 2e-3
    max_steps: int = 100
    batch_size: int = 16
    grad_accum: int = 1
    max_length: int = 256
    warmup_steps: int | None = None
    schedule: str = "cosine"
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    optimizer: str = "adamw"
    precision: str | int = "auto"
    bucketing: bool = True
    bucket_chunk_batches: int = 64
    seed: int = 0
    progress_bar: bool = True

    def __post_init__(self):
        at = "finetune."
        choice(at + "method", self.method, METHODS, "method")
        self.lora = nested("finetune.lora", LoraParams, self.lora)
        self.lr = number(at + "lr", self.lr, low=0, low_open=True)
        self.max_steps = integer(at + "max_steps", self.max_steps, 1)
        self.batch_size = integer(at + "batch_size", self.batch_size, 1)
        self.grad_accum = integer(at + "grad_accum", self.grad_accum, 1)
        self.max_length = integer(at + "max_length", self.max_length, 1)
        self.warmup_steps = integer(at + "warmup_steps", self.warmup_steps, 0, nullable=True)
        choice(at + "schedule", self.schedule, SCHEDULES, "schedule")
        self.weight_decay = number(at + "weight_decay", self.weight_decay, low=0)
        self.grad_clip = number(at + "grad_clip", self.grad_clip, low=0, nullable=True)
        choice(at + "optimizer", self.optimizer, OPTIMIZERS, "optimizer")
        self.precision = _precision(at + "precision", self.precision)
        boolean(at + "bucketing", self.bucketing)
        self.bucket_chunk_batches = integer(at + "bucket_chunk_batches", self.bucket_chunk_batches, 1)
        self.seed = integer(at + "seed", self.seed)
        boolean(at + "progress_bar", self.progress_bar)


# formatting -----------------------------------------------------------------------------------


PROMPT_FIELDS = ("preamble", "instruction", "input")


@dataclass
class TemplateParams(Schema):
    """``formatting.template``: the prompt (mtlsearch.formatting.prompts.build_prompt)."""

    SECTION: ClassVar[str] = "formatting.template"

    prompt: str | None = None
    preamble: str = ""

    def __post_init__(self):
        key = "formatting.template.prompt"
        text(key, self.prompt)
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(self.prompt) if name is not None}
        except ValueError:
            fields = {"?"}
        if not fields <= set(PROMPT_FIELDS) or "input" not in fields:
            fail(key, "a format string with {input} and no fields but {preamble}, {instruction}, {input}",
                 self.prompt)
        if not isinstance(self.preamble, str):
            fail("formatting.template.preamble", "a string", self.preamble)


@dataclass
class MixtureParams(Schema):
    """``formatting.mixture``: the training mixture of a combination (mtlsearch.formatting.mixtures)."""

    SECTION: ClassVar[str] = "formatting.mixture"

    budget: int | None = None  # required: training_mixture(..., mixing["budget"])
    strategy: str = "equal"
    temperature: float = 2.0
    seed: int = 0
    policy: str = "equal"

    def __post_init__(self):
        at = "formatting.mixture."
        self.budget = integer(at + "budget", self.budget, 1)
        choice(at + "strategy", self.strategy, MIXING, "mixing strategy")
        self.temperature = number(at + "temperature", self.temperature, low=0, low_open=True)
        self.seed = integer(at + "seed", self.seed)
        choice(at + "policy", self.policy, MIXTURE_POLICIES, "mixture policy")


@dataclass
class EvaluationSetParams(Schema):
    """``formatting.evaluation``: the fixed scoring subsets."""

    SECTION: ClassVar[str] = "formatting.evaluation"

    max_examples: int | None = None  # required: evaluation_subset(..., subset["max_examples"])
    seed: int = 0
    selection_split: str = "dev"

    def __post_init__(self):
        at = "formatting.evaluation."
        self.max_examples = integer(at + "max_examples", self.max_examples, 1)
        self.seed = integer(at + "seed", self.seed)
        choice(at + "selection_split", self.selection_split, SELECTION_SPLITS, "split")


@dataclass
class FormattingParams(Schema):
    """``formatting``: prompts, instructions, the mixture and the scoring subsets
    (conf/base/parameters_formatting.yml)."""

    SECTION: ClassVar[str] = "formatting"

    template: TemplateParams | None = None
    instructions: dict[str, str] = field(default_factory=dict)
    default_instructions: dict[str, str] = field(default_factory=dict)
    mixture: MixtureParams = field(default_factory=MixtureParams)
    evaluation: EvaluationSetParams = field(default_factory=EvaluationSetParams)

    def __post_init__(self):
        from mtlsearch.ingestion.readers.base import TASKS

        if self.template is not None:
            self.template = nested("formatting.template", TemplateParams, self.template)
        self.instructions = mapping("formatting.instructions", self.instructions)
        for name, instruction in self.instructions.items():
            text(f"formatting.instructions.{name}", instruction, nullable=True)  # null: the task's default
        self.default_instructions = mapping("formatting.default_instructions", self.default_instructions)
        for task, instruction in self.default_instructions.items():
            choice(f"formatting.default_instructions.{task}", task, TASKS, "task")
            text(f"formatting.default_instructions.{task}", instruction)
        self.mixture = nested("formatting.mixture", MixtureParams, self.mixture)
        self.evaluation = nested("formatting.evaluation", EvaluationSetParams, self.evaluation)


# scoring --------------------------------------------------------------------------------------


@dataclass
class ScoringParams(Schema):
    """``scoring``: batched greedy generation (conf/base/parameters_scoring.yml)."""

    SECTION: ClassVar[str] = "scoring"

    batch_size: int = 32
    max_new_tokens: dict[str, int] = field(default_factory=dict)
    max_new_tokens_per_dataset: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        from mtlsearch.ingestion.readers.base import TASKS

        self.batch_size = integer("scoring.batch_size", self.batch_size, 1)
        self.max_new_tokens = mapping("scoring.max_new_tokens", self.max_new_tokens)
        for task, cap in self.max_new_tokens.items():
            choice(f"scoring.max_new_tokens.{task}", task, TASKS, "task")
            integer(f"scoring.max_new_tokens.{task}", cap, 1)
        self.max_new_tokens_per_dataset = mapping("scoring.max_new_tokens_per_dataset", self.max_new_tokens_per_dataset)
        for dataset, cap in self.max_new_tokens_per_dataset.items():
            integer(f"scoring.max_new_tokens_per_dataset.{dataset}", cap, 1)


# evaluate -------------------------------------------------------------------------------------


@dataclass
class EvaluateParams(Schema):
    """``evaluate``: the combination one ``kedro run --pipeline evaluate`` evaluates."""

    SECTION: ClassVar[str] = "evaluate"

    datasets: str | None = None
    seed: int = 0
    target: str | None = None

    def __post_init__(self):
        dataset_ids("evaluate.datasets", self.datasets)
        self.seed = integer("evaluate.seed", self.seed)
        if self.target is not None:
            text("evaluate.target", self.target)
            if self.target not in self.members:
                fail("evaluate.target", f"a member of evaluate.datasets ({_names(self.members)})", self.target)

    @property
    def members(self) -> list[str]:
        return dataset_ids("evaluate.datasets", self.datasets)


# search ---------------------------------------------------------------------------------------


@dataclass
class RayParams(Schema):
    """``search.ray``: the Ray cluster and each evaluation's resources (mtlsearch.search.executors)."""

    SECTION: ClassVar[str] = "search.ray"

    address: str | None = None
    num_cpus: float = 1
    num_gpus: float = 0
    max_retries: int = 2
    local_num_cpus: int | None = None
    log_to_driver: bool = False

    def __post_init__(self):
        at = "search.ray."
        self.address = text(at + "address", self.address, nullable=True)
        self.num_cpus = number(at + "num_cpus", self.num_cpus, low=0, low_open=True)
        self.num_gpus = number(at + "num_gpus", self.num_gpus, low=0)
        self.max_retries = integer(at + "max_retries", self.max_retries, 0)
        self.local_num_cpus = integer(at + "local_num_cpus", self.local_num_cpus, 1, nullable=True)
        boolean(at + "log_to_driver", self.log_to_driver)


@dataclass
class ConfirmParams(Schema):
    """``search.confirm``: the best combinations evaluated again under other seeds."""

    SECTION: ClassVar[str] = "search.confirm"

    top_k: int = 3
    seeds: int | list[int] = 2

    def __post_init__(self):
        self.top_k = integer("search.confirm.top_k", self.top_k, 0)
        if isinstance(self.seeds, list | tuple):
            for seed in self.seeds:
                if isinstance(seed, bool) or not isinstance(seed, int):
                    fail("search.confirm.seeds", "a number of extra seeds or a list of seeds (integers)", self.seeds)
            self.seeds = [int(s) for s in self.seeds]
        elif isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 0:
            fail("search.confirm.seeds", "a number of extra seeds or a list of seeds (integers)", self.seeds)


def patience_value(value: object) -> int | None:
    """``search.patience``: a positive int, or None for no patience limit (null, 0, 'none')."""
    if value is None or (value == 0 and not isinstance(value, bool)) or value in ("none", "None"):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        fail("search.patience", "a positive integer, or null, 0 or 'none' for no limit", value)
    return int(value)


def strategy_option_names(strategy: str) -> tuple[str, ...] | None:
    """The options the strategy's constructor takes (None: any, it takes ``**options``)."""
    import inspect

    from mtlsearch.strategies import STRATEGIES

    parameters = list(inspect.signature(STRATEGIES[strategy]).parameters.values())[2:]  # n_candidates, seed
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    # size_bounds comes from search.min_datasets/max_datasets, not from strategy_options
    return tuple(p.name for p in parameters
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "size_bounds")


def strategy_has_model(strategy: str) -> bool:
    """Whether the strategy can tell the chance of a further gain (mtlsearch.strategies.base.Strategy.has_model)."""
    from mtlsearch.strategies import STRATEGIES, Strategy

    return STRATEGIES[strategy].improvement_probability is not Strategy.improvement_probability


@dataclass
class SearchParams(Schema):
    """``search``: the search over combinations (conf/base/parameters_search.yml); the keys of
    mtlsearch.search.run.SearchSettings."""

    SECTION: ClassVar[str] = "search"

    target: str | None = None
    candidates: list[str] | None = None
    # several targets (their weighted mean) and the constraints on combinations
    targets: list[str] | None = None
    target_weights: list[float] | None = None
    required: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    min_datasets: int = 0
    max_datasets: int | None = None
    strategy: str = "surrogate"
    strategy_options: dict[str, Any] = field(default_factory=dict)
    budget: int = 12
    patience: int | None = 6
    stopping: str = "auto"
    min_gain: float = 0.002
    stop_probability: float = 0.05
    stop_after: int = 3
    confirm: ConfirmParams = field(default_factory=ConfirmParams)
    reuse: bool = True
    max_failures: int = 3
    retry_failed: bool = False
    optuna_storage: str | None = None
    batch_size: int = 1
    seed: int = 0
    metric: str = "f1"
    evaluator: str = "finetune"
    table_path: str | None = None
    table_noise: float = 0.0
    table_delay_s: float = 0.0
    callable: str | None = None
    command: list[str] | None = None
    command_timeout_s: float | None = None
    evaluator_version: str = "1"
    executor: str = "local"
    ray: RayParams = field(default_factory=RayParams)
    # a signal table (GradTS tau, PVI group) standing in for the computed one (strategies gradts, pvi)
    relatedness_path: str | None = None

    def __post_init__(self):
        from mtlsearch.strategies import STRATEGIES

        at = "search."
        self.target, self.targets, self.target_weights = self._checked_targets()
        if self.candidates == "":
            self.candidates = None  # --params search.candidates= : every other dataset
        if self.candidates is not None:
            candidates = string_list(at + "candidates", self.candidates, allow_joined=True)
            inside = [t for t in self.targets if t in candidates]
            if inside:
                fail(at + "candidates", f"auxiliary ids other than the target {inside[0]!r}", self.candidates)
            if len(set(candidates)) != len(candidates):
                fail(at + "candidates", "distinct ids", self.candidates)
            self.candidates = candidates or None
        self.required, self.excluded, self.min_datasets, self.max_datasets = self._checked_constraints()
        choice(at + "strategy", self.strategy, sorted(STRATEGIES), "strategy")
        self.strategy_options = mapping(at + "strategy_options", self.strategy_options, nullable=False)
        if "size_bounds" in self.strategy_options:
            # the search derives them from the constraints (shifted by the required ids)
            fail(at + "strategy_options.size_bounds", "no value: set search.min_datasets and search.max_datasets",
                 self.strategy_options["size_bounds"])
        names = strategy_option_names(self.strategy)
        if names is not None:
            for key, value in self.strategy_options.items():
                if key not in names:
                    raise ConfigError(
                        f"search.strategy_options.{key}: not an option of strategy {self.strategy!r} "
                        f"(value {_show(value)}); expected one of {_names(sorted(names)) or 'none'}"
                    )
        self.budget = integer(at + "budget", self.budget, 0)
        self.patience = patience_value(self.patience)
        choice(at + "stopping", self.stopping, STOPPING, "stopping rule")
        if self.stopping == "model" and not strategy_has_model(self.strategy):
            with_model = [name for name in sorted(STRATEGIES) if strategy_has_model(name)]
            raise ConfigError(
                f"search.stopping: 'model' needs a strategy with a model ({_names(with_model)}), "
                f"got strategy {self.strategy!r}; use auto or patience"
            )
        self.min_gain = number(at + "min_gain", self.min_gain, low=0)
        self.stop_probability = number(at + "stop_probability", self.stop_probability, low=0, high=1,
                                       low_open=True, high_open=True)
        self.stop_after = integer(at + "stop_after", self.stop_after, 1)
        self.confirm = nested("search.confirm", ConfirmParams, self.confirm)
        boolean(at + "reuse", self.reuse)
        self.max_failures = integer(at + "max_failures", self.max_failures, 0)
        boolean(at + "retry_failed", self.retry_failed)
        self.optuna_storage = text(at + "optuna_storage", self.optuna_storage, nullable=True)
        self.batch_size = integer(at + "batch_size", self.batch_size, 1)
        self.seed = integer(at + "seed", self.seed)
        choice(at + "metric", self.metric, METRICS, "metric")
        choice(at + "evaluator", self.evaluator, EVALUATORS, "evaluator")
        self.table_path = text(at + "table_path", self.table_path, nullable=True)
        if self.evaluator == "table" and self.table_path is None:
            fail(at + "table_path", "the path of a CSV of scores (the table evaluator reads one)", self.table_path)
        self.table_noise = number(at + "table_noise", self.table_noise, low=0)
        self.table_delay_s = number(at + "table_delay_s", self.table_delay_s, low=0)
        self.callable, self.command, self.evaluator_version = self._checked_trainer()
        self.command_timeout_s = number(at + "command_timeout_s", self.command_timeout_s, low=0, low_open=True,
                                        nullable=True)
        choice(at + "executor", self.executor, EXECUTORS, "executor")
        self.ray = nested("search.ray", RayParams, self.ray)
        self.relatedness_path = self._checked_relatedness_path()

    def _checked_relatedness_path(self) -> str | None:
        """``relatedness_path``: a readable file where given; without one, a signal strategy
        computes its signals with real fine-tunes, which a table evaluator cannot."""
        from pathlib import Path

        from mtlsearch.relatedness.signals import signal_kind

        at = "search.relatedness_path"
        path = text(at, self.relatedness_path, nullable=True)
        if path is not None and not Path(path).is_file():
            fail(at, "a CSV or JSON signal table (no such file)", path)
        kind = signal_kind(self.strategy, self.strategy_options)
        if path is None and kind is not None and self.evaluator != "finetune":
            reader = f"strategy {kind!r}" if kind == self.strategy else f"strategy_options.prior {kind!r}"
            fail(at, f"a signal table for {reader} with the {self.evaluator} evaluator "
                 "(the signals are computed with real fine-tunes only)", None)
        return path

    def _checked_targets(self) -> tuple[str, list[str], list[float] | None]:
        """``target``, ``targets`` and ``target_weights``: ``targets`` always a list (one target:
        ``[target]``); with several, ``target`` their name (ids joined by '+') and
        ``target_weights`` one positive number each (None: equal)."""
        at = "search."
        target = self.target
        if self.targets in ("", None):
            if self.target is None or not isinstance(self.target, str) or not self.target.strip():
                fail(at + "target", "the target dataset id (or several ids as search.targets)", self.target)
            if SEPARATOR in self.target:
                fail(at + "target", "one dataset id; name several targets with search.targets", self.target)
            targets = [self.target]
        else:
            targets = string_list(at + "targets", self.targets, allow_joined=True)
            if not targets or len(set(targets)) != len(targets):
                fail(at + "targets", "distinct dataset ids joined by '+'", self.targets)
            if self.target is not None and (not isinstance(self.target, str)
                                            or sorted(self.target.split(SEPARATOR)) != sorted(targets)):
                raise ConfigError(
                    f"search.target: {_show(self.target)} disagrees with search.targets "
                    f"{SEPARATOR.join(targets)!r}; expected null (or the same ids) when search.targets is set"
                )
            target = SEPARATOR.join(targets)
        weights = self.target_weights
        if weights in ("", None):
            return target, targets, None
        if isinstance(weights, str):
            try:
                weights = [float(w) for w in weights.split(SEPARATOR)]
            except ValueError:
                fail(at + "target_weights", "positive numbers joined by '+' (or a list)", self.target_weights)
        elif isinstance(weights, int | float) and not isinstance(weights, bool):
            weights = [weights]
        if not isinstance(weights, list | tuple) or len(weights) != len(targets):
            fail(at + "target_weights", f"{len(targets)} positive number(s), one per target of "
                 f"{SEPARATOR.join(targets)}, joined by '+' (or a list)", self.target_weights)
        checked = [number(at + "target_weights", w, low=0, low_open=True) for w in weights]
        if any(w == float("inf") for w in checked):
            fail(at + "target_weights", "finite positive numbers", self.target_weights)
        return target, targets, checked

    def _checked_constraints(self) -> tuple[list[str], list[str], int, int | None]:
        """``required`` and ``excluded`` as lists of ids, ``min_datasets`` and ``max_datasets`` as
        ints, after every contradiction that the parameters alone show (the evaluator's ids are
        checked by mtlsearch.search.run.search_space, before the first evaluation)."""
        at = "search."
        lists = {}
        for key in ("required", "excluded"):
            value = getattr(self, key)
            ids = [] if value in ("", None) else string_list(at + key, value, allow_joined=True)
            if len(set(ids)) != len(ids):
                fail(at + key, "distinct dataset ids joined by '+'", value)
            named = [t for t in self.targets if t in ids]
            if named:
                fail(at + key, f"auxiliary ids other than the target {named[0]!r}", value)
            if self.candidates:
                outside = [i for i in ids if i not in self.candidates]
                if outside:
                    fail(at + key, f"ids among search.candidates ({_names(self.candidates)})", value)
            lists[key] = ids
        required, excluded = lists["required"], lists["excluded"]
        both = [i for i in required if i in excluded]
        if both:
            raise ConfigError(f"search.required and search.excluded both name {both[0]!r}; expected disjoint ids")
        low = integer(at + "min_datasets", 0 if self.min_datasets is None else self.min_datasets, 0)
        high = integer(at + "max_datasets", self.max_datasets, 0, nullable=True)
        if high is not None:
            if low > high:
                fail(at + "min_datasets", f"at most search.max_datasets ({high})", low)
            if len(required) > high:
                fail(at + "max_datasets", f"at least the {len(required)} search.required ids "
                     f"({SEPARATOR.join(required)})", high)
        if self.candidates:
            pool = [c for c in self.candidates if c not in excluded]
            if low > len(pool):
                fail(at + "min_datasets", f"at most the {len(pool)} candidates left after search.excluded", low)
        return required, excluded, low, high

    def _checked_trainer(self) -> tuple[str | None, list[str] | None, str]:
        """``callable``, ``command``, ``evaluator_version``: the user's trainer as the evaluator
        (mtlsearch.evaluation.external); whether the callable imports is checked when the
        evaluator is built."""
        at = "search."
        name = text(at + "callable", self.callable, nullable=True)
        if name is not None and not CALLABLE_NAME.fullmatch(name):
            fail(at + "callable", "'package.module:function'", name)
        if self.evaluator == "python" and name is None:
            fail(at + "callable", "'package.module:function' (the python evaluator calls it)", None)
        command = self.command
        if isinstance(command, str):
            fail(at + "command", "a list of arguments (a YAML list of strings; no shell), not a string", command)
        if command is not None:
            if not command:
                fail(at + "command", "a non-empty list of arguments", command)
            command = string_list(at + "command", command)
            for placeholder in ("{datasets}", "{output}"):
                if not any(placeholder in argument for argument in command):
                    fail(at + "command", f"an argument with {placeholder} (substituted in each evaluation)", command)
        if self.evaluator == "command" and command is None:
            fail(at + "command", "a list of arguments with {datasets} and {output} (the command evaluator runs it)",
                 None)
        version = self.evaluator_version
        if isinstance(version, bool) or not isinstance(version, str | int) or not str(version).strip():
            fail(at + "evaluator_version", "a non-empty string (bump it when the trainer changes)", version)
        return name, command, str(version)


# relatedness ----------------------------------------------------------------------------------


@dataclass
class GradtsParams(Schema):
    """``relatedness.gradts``: GradTS's gradient passes (mtlsearch.relatedness.gradts)."""

    SECTION: ClassVar[str] = "relatedness.gradts"

    batches: int = 8
    batch_size: int | None = None

    def __post_init__(self):
        self.batches = integer("relatedness.gradts.batches", self.batches, 1)
        self.batch_size = integer("relatedness.gradts.batch_size", self.batch_size, 1, nullable=True)


@dataclass
class PviParams(Schema):
    """``relatedness.pvi``: the PVI examples and the grouping test (mtlsearch.relatedness.pvi)."""

    SECTION: ClassVar[str] = "relatedness.pvi"

    examples: int = 32
    seed: int = 0
    alpha: float = 0.05
    batch_size: int = 8

    def __post_init__(self):
        at = "relatedness.pvi."
        self.examples = integer(at + "examples", self.examples, 2)
        self.seed = integer(at + "seed", self.seed)
        self.alpha = number(at + "alpha", self.alpha, low=0, high=1, low_open=True, high_open=True)
        self.batch_size = integer(at + "batch_size", self.batch_size, 1)


@dataclass
class RelatednessParams(Schema):
    """``relatedness``: the GradTS and PVI signals of search.target and search.candidates
    (conf/base/parameters_relatedness.yml)."""

    SECTION: ClassVar[str] = "relatedness"

    gradts: GradtsParams = field(default_factory=GradtsParams)
    pvi: PviParams = field(default_factory=PviParams)

    def __post_init__(self):
        self.gradts = nested("relatedness.gradts", GradtsParams, self.gradts)
        self.pvi = nested("relatedness.pvi", PviParams, self.pvi)


# landscape ------------------------------------------------------------------------------------


@dataclass
class LandscapeParams(Schema):
    """``landscape``: every combination of a small pool for one target
    (mtlsearch.landscape.recorded.LandscapeSettings)."""

    SECTION: ClassVar[str] = "landscape"

    target: str | None = None
    pool: list[str] = field(default_factory=list)
    noise_seeds: list[int] = field(default_factory=list)
    noise_combinations: list[str] | None = None

    def __post_init__(self):
        at = "landscape."
        if self.target is None or not isinstance(self.target, str) or not self.target.strip():
            fail(at + "target", "the target dataset id", self.target)
        pool = string_list(at + "pool", self.pool, allow_joined=True)
        if not pool or len(set(pool)) != len(pool) or self.target in pool:
            fail(at + "pool", "distinct auxiliary ids other than the target joined by '+'", self.pool)
        self.pool = pool
        seeds = self.noise_seeds
        seeds = [] if seeds is None else [seeds] if isinstance(seeds, int) and not isinstance(seeds, bool) else seeds
        if not isinstance(seeds, list | tuple) or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
            fail(at + "noise_seeds", "a list of integer seeds", self.noise_seeds)
        self.noise_seeds = [int(s) for s in seeds]
        combos = self.noise_combinations
        if combos is not None:
            combos = [combos] if isinstance(combos, str) else combos
            if not isinstance(combos, list | tuple) or not all(isinstance(c, str) for c in combos):
                fail(at + "noise_combinations", "auxiliary ids joined by '+' (or a list of them), or null",
                     self.noise_combinations)
            allowed = {self.target, *pool}
            for combo in combos:
                outside = [m for m in combo.split(SEPARATOR) if m and m not in allowed]
                if outside:
                    raise ConfigError(
                        f"landscape.noise_combinations: {outside[0]!r} (in {combo!r}) is not in the pool; "
                        f"expected ids of {_names([self.target, *pool])}"
                    )
            self.noise_combinations = list(combos)


# ---------------------------------------------------------------------------------------------
# every group


SCHEMAS: dict[str, type[Schema]] = {
    "ingestion": IngestionParams,
    "model": ModelParams,
    "finetune": FinetuneParams,
    "formatting": FormattingParams,
    "scoring": ScoringParams,
    "evaluate": EvaluateParams,
    "search": SearchParams,
    "landscape": LandscapeParams,
    "relatedness": RelatednessParams,
}


def _check_declared(key: str, value: object, ids, declared: tuple[str, ...]) -> None:
    for dataset in ids:
        if dataset not in declared:
            within = "" if value == dataset else f" (in {_show(value)})"
            raise ConfigError(
                f"{key}: unknown dataset {dataset!r}{within}; expected ids declared under ingestion.datasets "
                f"({_names(declared)})"
            )


def _check_metric(search: SearchParams, ingestion: IngestionParams) -> None:
    """A classification metric exists for tc datasets only: the scores of a combination with any
    other member lack it, and every such evaluation would fail after its fine-tune."""
    if search.metric not in CLASSIFICATION_METRICS:
        return
    tasks = {name: entry.task for name, entry in ingestion.datasets.items()}
    for key, ids in (("search.target", search.targets), ("search.candidates", search.candidates or []),
                     ("search.required", search.required)):
        for dataset in ids:
            if tasks[dataset] != "tc":
                raise ConfigError(
                    f"search.metric: {search.metric!r} is scored for classification (tc) datasets only, but "
                    f"{key} has {dataset!r} (task {tasks[dataset]}); expected one of {_names(ITEM_METRICS)}, "
                    "or tc datasets only"
                )


def validate_parameters(params: Mapping) -> dict[str, object]:
    """Every parameter group of ``params`` (as ``context.params`` gives them) as its typed
    schema: ``{"search": SearchParams, ...}`` for the groups present (missing ones are fine).

    Besides each group's own checks: a top-level key that is no group is an error; the ids of
    ``evaluate.datasets`` must be declared under ``ingestion.datasets`` (the evaluate pipeline
    always fine-tunes); and with the fine-tune evaluator (``search.evaluator: finetune``, the
    default) so must those of ``search.target``, ``search.candidates``, ``landscape.target`` and
    ``landscape.pool`` (a table evaluator has ids of its own), and a classification metric needs
    a tc target and tc candidates.
    """
    if not isinstance(params, Mapping):
        fail("parameters", "a mapping of parameter groups", params)
    for key, value in params.items():
        if key not in SCHEMAS:
            raise ConfigError(
                f"{key}: unknown parameter group (value {_show(value)}); expected one of {_names(sorted(SCHEMAS))}"
            )
    typed: dict[str, object] = {name: SCHEMAS[name].from_params(params[name]) for name in SCHEMAS if name in params}
    search, formatting = typed.get("search"), typed.get("formatting")
    if (search is not None and formatting is not None and len(search.targets) > 1
            and search.evaluator == "finetune" and formatting.mixture.policy == "fixed_target"):
        # the policy keeps one target's examples as when alone: with several it names none
        raise ConfigError(
            f"formatting.mixture.policy: 'fixed_target' keeps one target's examples, but search.targets has "
            f"{len(search.targets)} ({search.target}); expected 'equal' for several targets"
        )
    ingestion = typed.get("ingestion")
    if ingestion is None:
        return typed
    declared = ingestion.ids
    if "evaluate" in typed:
        evaluate = typed["evaluate"]
        _check_declared("evaluate.datasets", evaluate.datasets, evaluate.members, declared)
    search = typed.get("search")
    if search is None or search.evaluator == "finetune":
        if search is not None:
            _check_declared("search.targets" if len(search.targets) > 1 else "search.target", search.target,
                            search.targets, declared)
            for key in ("candidates", "required", "excluded"):
                ids = getattr(search, key) or []
                if ids:
                    _check_declared(f"search.{key}", SEPARATOR.join(ids), ids, declared)
            _check_metric(search, ingestion)
        if "landscape" in typed:
            landscape = typed["landscape"]
            _check_declared("landscape.target", landscape.target, [landscape.target], declared)
            _check_declared("landscape.pool", SEPARATOR.join(landscape.pool), landscape.pool, declared)
    return typed


__all__ = [
    "ConfirmParams",
    "DatasetParams",
    "EvaluateParams",
    "EvaluationSetParams",
    "FinetuneParams",
    "FormattingParams",
    "IngestionParams",
    "GradtsParams",
    "LandscapeParams",
    "PviParams",
    "RelatednessParams",
    "LoraParams",
    "METRICS",
    "MixtureParams",
    "ModelParams",
    "PretrainParams",
    "RayParams",
    "SCHEMAS",
    "ScoringParams",
    "SearchParams",
    "TemplateParams",
    "TokenizerParams",
    "validate_parameters",
]
