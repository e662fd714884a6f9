"""The one loader of pretrained models: by name, from a saved folder, through the catalog."""

from pathlib import Path

import pandas as pd
import peft
import pytest
import torch
from kedro.config import OmegaConfigLoader

from mtlsearch import settings as project_settings
from mtlsearch.errors import ConfigError
from mtlsearch.finetune.base_model import Pretrained, load_pretrained, prepare_base_model
from mtlsearch.fingerprints import digest
from mtlsearch.finetune.modeling import build_model, load_model, load_tokenizer, train_tokenizer
from mtlsearch.finetune.training import bitsandbytes_support, finetune_lora
from mtlsearch.formatting.prompts import build_prompt, serialize_items
from mtlsearch.io import PretrainedDataset

from tiny_model import QUIET, TINY, one_thread, sentences  # noqa: F401 (one_thread: autouse)

REPO = Path(__file__).resolve().parents[2]
QLORA_READY = all(bitsandbytes_support().values())
NO_EXAMPLES = pd.DataFrame(columns=["dataset", "split", "example_id", "text", "items"])


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(sentences(200), vocab_size=300, min_frequency=2)


@pytest.fixture(scope="module")
def checkpoint(tokenizer, tmp_path_factory) -> Path:
    """A tiny Llama saved as a checkpoint folder (in float32), with its tokenizer beside it."""
    path = tmp_path_factory.mktemp("checkpoint")
    build_model(TINY, tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def without_qlora(monkeypatch):
    """This machine as one without CUDA: the state every CPU-only machine is in anyway."""
    if QLORA_READY:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def paper_parameters() -> dict:
    loader = OmegaConfigLoader(str(REPO / "conf"), env="paper", **project_settings.CONFIG_LOADER_ARGS)
    return loader["parameters"]


def instruction_examples(n: int) -> list[dict]:
    return [
        {"prompt": build_prompt("List the drugs.", s), "response": serialize_items([w for w in s.split() if w == "aspirin"])}
        for s in sentences(n, seed=1)
    ]


def dtypes(model) -> set[torch.dtype]:
    return {p.dtype for p in model.parameters()}


# --------------------------------------------------------------------------------- the dtype


def test_a_named_checkpoint_gets_its_dtype_when_built_reloaded_and_loaded_by_the_catalog(
    tokenizer, checkpoint, tmp_path
):
    params = {"name_or_path": str(checkpoint), "torch_dtype": "bfloat16"}
    base = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, params)
    assert dtypes(base.value) == {torch.bfloat16}
    assert base.info["torch_dtype"] == "bfloat16"
    assert base.info["tokenizer_size"] == len(tokenizer)

    # what the fine-tune does before each evaluation: reload the checkpoint from the info
    reloaded = load_pretrained("model", base.info["name_or_path"], base.info)
    assert dtypes(reloaded) == {torch.bfloat16}

    dataset = PretrainedDataset(str(tmp_path / "base_model"), kind="model")
    dataset.save(base)
    loaded = dataset.load()
    assert dtypes(loaded.value) == {torch.bfloat16}
    assert (loaded.fingerprint, loaded.info) == (base.fingerprint, base.info)
    for name, weight in base.value.state_dict().items():
        assert torch.equal(loaded.value.state_dict()[name], weight), name


def test_a_saved_from_config_model_is_reloaded_in_the_configured_dtype(tokenizer, tmp_path):
    params = {**TINY, "torch_dtype": "bfloat16", "pretrain": {"max_steps": 0}}
    base = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, params)
    # built (and pretrained) in full precision; every later use goes through the catalog
    assert dtypes(base.value) == {torch.float32}
    dataset = PretrainedDataset(str(tmp_path / "base_model"), kind="model")
    dataset.save(base)
    assert dtypes(dataset.load().value) == {torch.bfloat16}
    assert dtypes(load_pretrained("model", str(tmp_path / "base_model"), base.info)) == {torch.bfloat16}


def test_the_default_from_config_fingerprint_and_info_are_unchanged(tokenizer):
    params = {**TINY, "pretrain": {"max_steps": 0}}
    base = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, params)
    payload = {k: params.get(k) for k in ("name_or_path", "config", "seed", "pretrain", "torch_dtype", "load_in_4bit")}
    # the value the code gave before the loader recorded its settings
    assert base.fingerprint == digest({**payload, "tokenizer": "tok"}) == "d19bae44a62c82a4"
    assert set(base.info) == {"parameters"}


def test_a_reused_named_base_gets_the_settings_the_loader_needs(tokenizer, checkpoint):
    params = {"name_or_path": str(checkpoint), "torch_dtype": "bfloat16"}
    fresh = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, params)
    # a folder saved before the info recorded the tokenizer's facts
    old = Pretrained(fresh.value, fresh.fingerprint, {"parameters": 1, "name_or_path": str(checkpoint), "torch_dtype": None})
    reused = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), old, params)
    assert reused.value is old.value
    assert reused.info == {**fresh.info, "parameters": 1}
    assert prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), reused, params) is reused


def test_auto_dtype_keeps_the_saved_dtype_and_a_bad_name_is_a_config_error(tokenizer, checkpoint):
    assert dtypes(load_model(str(checkpoint), {"torch_dtype": "auto"}, tokenizer)) == {torch.float32}
    with pytest.raises(ConfigError, match="model.torch_dtype"):
        load_model(str(checkpoint), {"torch_dtype": "bfloat17"}, tokenizer)


# ----------------------------------------------------------------------------- the tokenizer


def test_a_grown_tokenizer_makes_the_loader_resize_the_embeddings(tokenizer, tmp_path):
    model = build_model(TINY, tokenizer)
    model.config.pad_token_id = None
    model.save_pretrained(tmp_path / "model")
    grown = load_tokenizer(str(_saved(tokenizer, tmp_path / "tokenizer")))
    grown.add_special_tokens({"pad_token": "<extra-pad>"})
    assert len(grown) == len(tokenizer) + 1

    loaded = load_model(str(tmp_path / "model"), {}, grown)
    assert loaded.get_input_embeddings().num_embeddings == len(grown)
    assert loaded.get_output_embeddings().out_features == len(grown)
    assert loaded.config.pad_token_id == grown.pad_token_id == len(tokenizer)
    # the checkpoint's own rows are kept
    assert torch.equal(loaded.get_input_embeddings().weight[: len(tokenizer)], model.get_input_embeddings().weight)

    # the same fixes from a base model's info, without its tokenizer
    info = {"tokenizer_size": len(grown), "pad_token_id": grown.pad_token_id}
    again = load_pretrained("model", str(tmp_path / "model"), info)
    assert again.get_input_embeddings().num_embeddings == len(grown)
    assert again.config.pad_token_id == grown.pad_token_id


def test_a_tokenizer_without_a_pad_token_pads_with_eos(tokenizer, tmp_path):
    bare = load_tokenizer(str(_saved(tokenizer, tmp_path / "tokenizer")))
    bare.pad_token = None
    bare.save_pretrained(tmp_path / "bare")
    loaded = load_pretrained("tokenizer", str(tmp_path / "bare"), {})
    assert loaded.pad_token == loaded.eos_token == "</s>"
    assert len(loaded) == len(tokenizer)


def _saved(tokenizer, path: Path) -> Path:
    tokenizer.save_pretrained(path)
    return path


# ------------------------------------------------------------------ 4-bit and the paper setup


def test_the_paper_configuration_mirrors_the_reference():
    params = paper_parameters()
    model, finetune = params["model"], params["finetune"]
    assert model["name_or_path"] == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert (model["torch_dtype"], model["load_in_4bit"]) == ("bfloat16", True)
    assert finetune["lr"] == pytest.approx(2e-5)
    assert (finetune["batch_size"], finetune["grad_accum"], finetune["max_steps"]) == (1, 4, 5000)
    assert (finetune["max_length"], finetune["warmup_steps"]) == (4096, 150)
    assert finetune["grad_clip"] == pytest.approx(0.3)
    assert finetune["optimizer"] == "paged_adamw_8bit"
    lora = finetune["lora"]
    assert (lora["r"], lora["alpha"], lora["dropout"]) == (64, 32, pytest.approx(0.1))
    assert list(lora["target_modules"]) == ["q_proj", "v_proj"]
    assert lora["modules_to_save"] is None
    # deep-merged over conf/base: what the paper environment does not set is the base's
    assert finetune["schedule"] == "cosine" and finetune["bucketing"] is True


def test_4bit_without_cuda_or_bitsandbytes_is_a_one_line_config_error(tokenizer, checkpoint, without_qlora):
    model = {**paper_parameters()["model"], "name_or_path": str(checkpoint)}
    for load in (
        lambda: build_model(model, tokenizer),
        lambda: load_model(str(checkpoint), model, tokenizer),
        lambda: load_pretrained("model", str(checkpoint), {"load_in_4bit": True}),
        lambda: prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, model),
        # a from-config base fails before it is built and pretrained
        lambda: build_model({**TINY, "load_in_4bit": True}, tokenizer),
    ):
        with pytest.raises(ConfigError, match=r"^model\.load_in_4bit: true needs CUDA and bitsandbytes") as error:
            load()
        message = str(error.value)
        assert "\n" not in message
        assert "cuda=False" in message and "set model.load_in_4bit=false" in message


def test_the_paged_optimizer_without_cuda_or_bitsandbytes_is_a_config_error(tokenizer, without_qlora):
    model = build_model(TINY, tokenizer)
    finetune = {**paper_parameters()["finetune"], "max_steps": 1, **QUIET}
    with pytest.raises(ConfigError, match=r"^finetune\.optimizer: paged_adamw_8bit needs CUDA and bitsandbytes") as error:
        finetune_lora(model, tokenizer, instruction_examples(8), finetune)
    assert "\n" not in str(error.value)
    assert not any(isinstance(m, peft.tuners.lora.LoraLayer) for m in model.modules())
    with pytest.raises(ConfigError, match="finetune.optimizer: expected one of"):
        finetune_lora(model, tokenizer, instruction_examples(8), {"optimizer": "sgd"})


def test_the_adamw_optimizer_is_chosen_by_name(tokenizer):
    model = build_model(TINY, tokenizer)
    _, stats = finetune_lora(
        model, tokenizer, instruction_examples(8),
        {"optimizer": "adamw", "max_steps": 2, "batch_size": 4, "grad_clip": 0.3, "lora": {"r": 4}, **QUIET},
    )
    assert stats["steps"] == 2


@pytest.mark.skipif(not QLORA_READY, reason="4-bit layers need a CUDA GPU and bitsandbytes")
def test_the_paper_fine_tune_trains_on_4bit_linear_layers(tokenizer, checkpoint):
    import bitsandbytes as bnb

    params = paper_parameters()
    model = {**params["model"], "name_or_path": str(checkpoint)}
    base = prepare_base_model(NO_EXAMPLES, Pretrained(tokenizer, "tok"), None, model)
    # as the fine-tune of an evaluation does: a fresh load of the named checkpoint from the info
    reloaded = load_pretrained("model", base.info["name_or_path"], base.info)
    finetune = {**params["finetune"], "max_steps": 2, "warmup_steps": 1, "max_length": 256, **QUIET}
    tuned, stats = finetune_lora(reloaded, tokenizer, instruction_examples(8), finetune)
    assert stats["steps"] == 2
    linear4bit = [name for name, m in tuned.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert linear4bit
    assert any(name.endswith("q_proj.base_layer") for name in linear4bit)
    assert all(m.weight.quant_state.quant_type == "nf4" for m in tuned.modules() if isinstance(m, bnb.nn.Linear4bit))
