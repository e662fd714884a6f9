"""The base artifacts every evaluation starts from: the tokenizer and the base model.

Both are built once and reused: each carries the fingerprint of what built it (the model
parameters and the content of the training text), and is rebuilt only when that changes. A
model named by Hugging Face id or local path is loaded with the configured dtype and
quantization, by the same loader whenever it is reloaded; without one, a small Llama is
built from its configuration, with a tokenizer trained on the corpus, and pretrained briefly on
the pooled training text (inputs only: the responses of no dataset are seen before the
instruction tuning whose effect the search measures).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mtlsearch.fingerprints import digest, examples_fingerprint

log = logging.getLogger(__name__)


@dataclass
class Pretrained:
    """A tokenizer or model with the fingerprint of what built it and facts about it."""

    value: Any
    fingerprint: str
    info: dict = field(default_factory=dict)


def training_text(examples: pd.DataFrame) -> list[str]:
    """The pooled inputs of every dataset's training split."""
    return examples.loc[examples["split"] == "train", "text"].tolist()


COPY_MARK = "\n### Copy:\n"


def with_copy_exercises(texts: list[str], share: float, seed: int = 0) -> list[str]:
    """``texts`` where a ``share`` of them are followed by a few of their own word spans, one per
    line, after a ``### Copy:`` header.

    Extraction answers are spans of the input; a model pretrained on plain text learns to copy
    them only slowly. These exercises teach copying and the one-item-per-line layout without
    any dataset's labels (the spans are random).
    """
    import random

    if share <= 0:
        return list(texts)
    rng = random.Random(seed)
    out = []
    for text in texts:
        words = text.split()
        if len(words) < 2 or rng.random() >= share:
            out.append(text)
            continue
        spans = []
        for _ in range(rng.randint(1, 3)):
            length = rng.randint(1, min(4, len(words)))
            start = rng.randrange(len(words) - length + 1)
            spans.append(" ".join(words[start : start + length]))
        out.append(text + COPY_MARK + "\n".join(spans))
    return out


class _TokenizerShape:
    """What the loader reads of a tokenizer (its length, its pad id), as a base model's info
    records them: reloading a model does not need its tokenizer loaded beside it."""

    def __init__(self, size: int, pad_token_id: int | None):
        self.size = int(size)
        self.pad_token_id = pad_token_id

    def __len__(self) -> int:
        return self.size


# the keys loader_info adds for the tokenizer
_TOKENIZER_INFO = ("tokenizer_size", "pad_token_id")


def loader_info(model_params: Mapping, tokenizer=None) -> dict:
    """The model settings :func:`mtlsearch.finetune.modeling.load_model` needs, for ``info``.

    Only settings that are given are recorded, so the info of the default from-config model is
    what it always was. With ``tokenizer``, its length and pad id are recorded too, so that a
    reload resizes the embeddings and sets the pad id as the first load did.
    """
    from mtlsearch.finetune.modeling import LOADER_SETTINGS

    info = {k: model_params[k] for k in LOADER_SETTINGS if model_params.get(k) is not None}
    if tokenizer is not None:
        info.update(tokenizer_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    return info


def load_pretrained(kind: str, source: str, info: Mapping):
    """Load a saved tokenizer or model folder, or a Hugging Face id / path.

    Both go through the one loader (:func:`~mtlsearch.finetune.modeling.load_tokenizer`,
    :func:`~mtlsearch.finetune.modeling.load_model`); a model gets the settings that
    :func:`prepare_base_model` recorded in ``info`` (dtype, 4-bit quantization, device map, the
    tokenizer's length and pad id), so every reload of a base model equals its first load.
    """
    from mtlsearch.finetune.modeling import LOADER_SETTINGS, load_model, load_tokenizer

    if kind == "tokenizer":
        return load_tokenizer(source)
    if kind != "model":
        raise ValueError(f"kind must be 'tokenizer' or 'model', got {kind!r}")
    settings = {k: info[k] for k in LOADER_SETTINGS if info.get(k) is not None}
    tokenizer = None
    if info.get("tokenizer_size") is not None:
        tokenizer = _TokenizerShape(info["tokenizer_size"], info.get("pad_token_id"))
    return load_model(source, settings, tokenizer)


def prepare_tokenizer(examples: pd.DataFrame, previous: Pretrained | None, model_params: Mapping) -> Pretrained:
    """The tokenizer: the named model's, or one trained on the training text (reused if unchanged)."""
    from mtlsearch.finetune.modeling import train_tokenizer

    name = model_params.get("name_or_path")
    settings = dict(model_params.get("tokenizer") or {})
    if name:
        fingerprint = digest({"name_or_path": name})
    else:
        fingerprint = digest({"tokenizer": settings, "examples": examples_fingerprint(examples)})
    if previous is not None and previous.fingerprint == fingerprint:
        log.info("tokenizer %s is up to date: reused", fingerprint)
        return previous
    if name:
        return Pretrained(load_pretrained("tokenizer", name, {}), fingerprint, {"name_or_path": name})
    texts = training_text(examples)
    tokenizer = train_tokenizer(
        texts + examples.loc[examples["split"] == "train", "items"].map("\n".join).tolist(),
        vocab_size=int(settings.get("vocab_size", 4096)),
        min_frequency=int(settings.get("min_frequency", 2)),
    )
    log.info("trained a tokenizer of %d tokens on %d texts", len(tokenizer), len(texts))
    return Pretrained(tokenizer, fingerprint, {"vocab_size": len(tokenizer), "texts": len(texts)})


def prepare_base_model(
    examples: pd.DataFrame, tokenizer: Pretrained, previous: Pretrained | None, model_params: Mapping
) -> Pretrained:
    """The base model: the named checkpoint, or a small Llama built from its configuration and
    pretrained briefly on the pooled training text (reused if unchanged)."""
    from mtlsearch.finetune.modeling import LOADER_SETTINGS, build_model, pretrain

    name = model_params.get("name_or_path")
    payload = {k: model_params.get(k) for k in ("name_or_path", "config", "seed", "pretrain", "torch_dtype", "load_in_4bit")}
    payload["tokenizer"] = tokenizer.fingerprint
    fingerprint = digest(payload)
    if previous is not None and previous.fingerprint == fingerprint:
        log.info("base model %s is up to date: reused", fingerprint)
        # a setting outside the fingerprint (device_map: placement changes no result) or a
        # folder saved before the info recorded the loader's settings gets them now: the
        # catalog reloads the saved model with this info
        stale = (*LOADER_SETTINGS, *_TOKENIZER_INFO)
        recorded = {k: v for k, v in previous.info.items() if k not in stale}
        info = {**recorded, **loader_info(model_params, tokenizer.value if name else None)}
        return previous if info == previous.info else Pretrained(previous.value, fingerprint, info)
    model = build_model(dict(model_params), tokenizer.value)
    info: dict = {"parameters": int(sum(p.numel() for p in model.parameters()))}
    # the catalog reloads the model from this info (and a named one is reloaded before each
    # fine-tune), so it records every setting the first load used
    if name:
        info.update(name_or_path=name, **loader_info(model_params, tokenizer.value))
    else:
        info.update(loader_info(model_params))
        pretraining = dict(model_params.get("pretrain") or {})
        if int(pretraining.get("max_steps", 0)) > 0:
            texts = with_copy_exercises(
                training_text(examples), float(pretraining.get("copy_share", 0.0)), int(model_params.get("seed", 0))
            )
            stats = pretrain(model, tokenizer.value, texts, pretraining)
            info["pretrain"] = {k: v for k, v in stats.items() if isinstance(v, (int, float))}
            log.info("pretrained the base model: %s", info["pretrain"])
    return Pretrained(model, fingerprint, info)
