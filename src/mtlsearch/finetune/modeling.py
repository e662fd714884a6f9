"""Tokenizer and base model: a byte-level BPE tokenizer, a causal LM, and brief LM pretraining.

Two kinds of base model are supported. A named checkpoint (``model_cfg["name_or_path"]``) is
loaded by :func:`load_model`, the one loader of every pretrained model (dtype, 4-bit
quantization, tokenizer fixes), also when a base model is reloaded from its saved folder.
Without one, a small Llama is built from ``model_cfg["config"]`` with random weights; LoRA on
random weights has nothing to adapt, so such a base is first pretrained briefly
(:func:`pretrain`) on the pooled training text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import lightning as L
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from torch.utils.data import DataLoader, Dataset

from mtlsearch.errors import ConfigError
from mtlsearch.finetune.training import CausalLMModule, bitsandbytes_support, fit

log = logging.getLogger(__name__)

SPECIAL_TOKENS = {"unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2
) -> transformers.PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts``.

    Every byte is in the initial alphabet, so any text encodes without ``<unk>``. Encoding a
    text prepends ``<s>`` (the post-processor does it, so a tokenizer reloaded with
    ``from_pretrained`` behaves the same); ``</s>`` ends a training example and stops
    generation; ``<pad>`` is only ever masked out.
    """
    tok = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos = SPECIAL_TOKENS["bos_token"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, tok.token_to_id(bos))]
    )
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL_TOKENS)


def build_model(model_cfg: Mapping, tokenizer) -> transformers.PreTrainedModel:
    """The base causal LM that ``model_cfg`` describes.

    ``name_or_path``: a checkpoint (local folder or Hugging Face id; nothing is downloaded by
    this module itself), loaded by :func:`load_model` with the settings of ``model_cfg``.
    Otherwise ``config``: the keyword arguments of a ``LlamaConfig`` (hidden_size,
    num_hidden_layers, ...), with the vocabulary and special token ids taken from ``tokenizer``
    and the weights drawn with ``seed``; such a model is built in full precision, because it is
    pretrained next, and gets ``torch_dtype`` / ``load_in_4bit`` when it is reloaded from its
    saved folder (:func:`mtlsearch.finetune.base_model.load_pretrained`).
    """
    # checked before anything is built, so that a from-config base does not pretrain for
    # minutes only to fail when the saved folder is reloaded with the same settings
    check_quantization(model_cfg)
    name = model_cfg.get("name_or_path")
    if name:
        return load_model(name, model_cfg, tokenizer)
    if "config" not in model_cfg:
        raise ValueError("model_cfg needs either 'name_or_path' or 'config' (LlamaConfig keyword arguments)")
    config = transformers.LlamaConfig(
        **dict(model_cfg["config"]),
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(model_cfg.get("seed", 0)))
        model = transformers.LlamaForCausalLM(config)
    return model


# The settings of ``model`` that :func:`load_model` reads; a base model's ``info`` records them so
# that every reload of it (by the catalog, before each fine-tune) is loaded the same way.
LOADER_SETTINGS = ("torch_dtype", "load_in_4bit", "device_map")


def check_quantization(model_cfg: Mapping) -> None:
    """ConfigError when ``load_in_4bit`` is asked for on a machine that cannot do it.

    A silent fall-back to full precision would fine-tune a different model than the one
    configured (and need about four times the memory), so it is an error naming the setting.
    """
    if not model_cfg.get("load_in_4bit"):
        return
    found = bitsandbytes_support()
    if not all(found.values()):
        raise ConfigError(
            f"model.load_in_4bit: true needs CUDA and bitsandbytes (found: cuda={found['cuda']}, "
            f"bitsandbytes={found['bitsandbytes']}); set model.load_in_4bit=false to fine-tune in full precision"
        )


def _dtype(value, setting: str):
    if value is None or value == "auto":
        return value
    if isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, str(value), None)
    if not isinstance(dtype, torch.dtype):
        raise ConfigError(f"{setting}: expected 'auto' or a torch dtype name such as bfloat16, got {value!r}")
    return dtype


def load_tokenizer(name_or_path: str):
    """The tokenizer of a checkpoint; one without a pad token pads with its eos token.

    Padded positions are masked out everywhere, so reusing eos as pad changes no result and,
    unlike adding a token, leaves the checkpoint's embeddings as they are.
    """
    tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(name_or_path: str, model_cfg: Mapping, tokenizer) -> transformers.PreTrainedModel:
    """A causal LM checkpoint (folder or Hugging Face id), loaded as ``model_cfg`` says.

    ``model_cfg`` keys, each optional: ``torch_dtype`` (a torch dtype name or "auto"),
    ``load_in_4bit`` (QLoRA: NF4 weights with double quantization, computing in bfloat16, or in
    float16 when that is the ``torch_dtype``; needs CUDA and bitsandbytes, else
    :class:`~mtlsearch.errors.ConfigError`), ``device_map`` (as ``from_pretrained`` takes it;
    a quantized model defaults to ``{"": 0}``, the first GPU).

    ``tokenizer`` is the one the model will be used with (only ``len(tokenizer)`` and its
    ``pad_token_id`` are read), or None: a tokenizer that grew (an added pad token) gets
    embedding rows of its own, and the model's ``pad_token_id`` is set from it when missing.
    A quantized model is prepared for k-bit training (``peft.prepare_model_for_kbit_training``).
    """
    check_quantization(model_cfg)
    kwargs: dict = {}
    dtype = _dtype(model_cfg.get("torch_dtype"), "model.torch_dtype")
    if dtype is not None:
        kwargs["dtype"] = dtype
    quantized = bool(model_cfg.get("load_in_4bit"))
    if quantized:
        # float16 compute only where it was asked for (GPUs without bfloat16); the compute
        # dtype follows a fingerprinted setting, so changing it rebuilds the base model
        compute_dtype = torch.float16 if dtype == torch.float16 else torch.bfloat16
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
    device_map = model_cfg.get("device_map")
    if device_map is None and quantized:
        # bitsandbytes quantizes the weights as they are placed on the GPU
        device_map = {"": 0}
    if device_map is not None:
        kwargs["device_map"] = dict(device_map) if isinstance(device_map, Mapping) else device_map
    model = transformers.AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    if tokenizer is not None:
        if len(tokenizer) > model.get_input_embeddings().num_embeddings:
            # a pad token added to the checkpoint's tokenizer needs a row of its own
            model.resize_token_embeddings(len(tokenizer))
        if model.config.pad_token_id is None and tokenizer.pad_token_id is not None:
            model.config.pad_token_id = tokenizer.pad_token_id
    if quantized:
        import peft

        model = peft.prepare_model_for_kbit_training(model)
    return model


class _Blocks(Dataset):
    def __init__(self, blocks: torch.Tensor):
        self.blocks = blocks

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, i: int) -> dict:
        block = self.blocks[i]
        return {"input_ids": block, "labels": block, "attention_mask": torch.ones_like(block)}


def pack_texts(tokenizer, texts: Sequence[str], block_size: int) -> torch.Tensor:
    """All texts as one token stream (``<s> text </s>`` each), cut into full blocks."""
    stream: list[int] = []
    eos = tokenizer.eos_token_id
    for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]:
        stream.extend(ids)
        stream.append(eos)
    n_blocks = len(stream) // block_size
    if n_blocks == 0:
        raise ValueError(f"{len(stream)} tokens of text is less than one block of {block_size}")
    return torch.tensor(stream[: n_blocks * block_size], dtype=torch.long).view(n_blocks, block_size)


def pretrain(model, tokenizer, texts: Sequence[str], cfg: Mapping) -> dict:
    """Brief full-parameter causal-LM training of ``model`` (in place) on ``texts``.

    The texts are packed into blocks of ``block_size`` tokens, so no compute goes to padding;
    blocks are drawn in random order for ``max_steps`` steps of ``batch_size`` blocks.
    ``cfg``: max_steps (200), batch_size (16), lr (1e-3), block_size (128), seed (0),
    precision ("auto"), warmup_steps (max_steps // 10), weight_decay (0.01), progress_bar (True).
    Returns ``{"train_loss", "tokens_per_s", "wall_s", "steps", "trained_tokens"}``.
    """
    max_steps = int(cfg.get("max_steps", 200))
    block_size = int(cfg.get("block_size", 128))
    seed = int(cfg.get("seed", 0))
    L.seed_everything(seed, verbose=False)
    blocks = pack_texts(tokenizer, texts, block_size)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        _Blocks(blocks), batch_size=int(cfg.get("batch_size", 16)), shuffle=True, generator=generator
    )
    module = CausalLMModule(
        model,
        lr=float(cfg.get("lr", 1e-3)),
        max_steps=max_steps,
        warmup_steps=int(cfg.get("warmup_steps", max(1, max_steps // 10))),
        weight_decay=float(cfg.get("weight_decay", 0.01)),
        schedule=str(cfg.get("schedule", "cosine")),
    )
    stats = fit(module, loader, cfg)
    stats["blocks"] = len(blocks)
    return stats
