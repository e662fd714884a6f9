"""Tokenizer and base model: a byte-level BPE tokenizer, a causal LM, and brief LM pretraining.

Two kinds of base model are supported. A named checkpoint (``model_cfg["name_or_path"]``) is
loaded with ``AutoModelForCausalLM``. Without one, a small Llama is built from
``model_cfg["config"]`` with random weights; LoRA on random weights has nothing to adapt, so
such a base is first pretrained briefly (:func:`pretrain`) on the pooled training text.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Mapping, Sequence

import lightning as L
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from torch.utils.data import DataLoader, Dataset

from mtlsearch.finetune.training import CausalLMModule, fit

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

    ``name_or_path``: a checkpoint (local folder; nothing is downloaded by this module itself),
    loaded with optional ``torch_dtype`` and, when ``load_in_4bit`` is true and CUDA and
    bitsandbytes are both present, 4-bit NF4 quantization for QLoRA. Otherwise ``config``: the
    keyword arguments of a ``LlamaConfig`` (hidden_size, num_hidden_layers, ...), with the
    vocabulary and special token ids taken from ``tokenizer`` and the weights drawn with
    ``seed``.
    """
    name = model_cfg.get("name_or_path")
    if name:
        return _load_pretrained(name, model_cfg, tokenizer)
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


def _load_pretrained(name: str, model_cfg: Mapping, tokenizer) -> transformers.PreTrainedModel:
    kwargs: dict = {}
    dtype = model_cfg.get("torch_dtype")
    if dtype is not None:
        kwargs["dtype"] = dtype if dtype == "auto" else getattr(torch, str(dtype))
    quantized = False
    if model_cfg.get("load_in_4bit"):
        if torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes") is not None:
            compute_dtype = kwargs.get("dtype") if isinstance(kwargs.get("dtype"), torch.dtype) else torch.bfloat16
            kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=compute_dtype,
            )
            kwargs["device_map"] = {"": 0}
            quantized = True
        else:
            log.warning("load_in_4bit asked for, but CUDA or bitsandbytes is missing: loading unquantized")
    model = transformers.AutoModelForCausalLM.from_pretrained(name, **kwargs)
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
