"""The base artifacts every evaluation starts from: the tokenizer and the base model.

Both are built once and reused: each carries the fingerprint of what built it (the model
parameters and the content of the training text), and is rebuilt only when that changes. A
model named by Hugging Face id or local path is loaded as it is; without one, a small Llama is
built from its configuration, with a tokenizer trained on the corpus, and pretrained briefly on
the pooled training text (inputs only: the responses of no dataset are seen before the
instruction tuning whose effect the search measures).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class Pretrained:
    """A tokenizer or model with the fingerprint of what built it and facts about it."""

    value: Any
    fingerprint: str
    info: dict = field(default_factory=dict)


def digest(payload: Any) -> str:
    """A short, stable hash of a JSON-serialisable payload."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def examples_fingerprint(examples: pd.DataFrame) -> str:
    """A hash of the canonical table's content (order-independent)."""
    rows = pd.util.hash_pandas_object(
        examples[["dataset", "split", "example_id", "text"]].assign(items=examples["items"].map("\x1f".join)),
        index=False,
    )
    return hashlib.sha256(pd.Series(sorted(rows.tolist())).to_numpy().tobytes()).hexdigest()[:16]


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


def load_pretrained(kind: str, source: str, info: Mapping):
    """Load a saved tokenizer or model folder, or a Hugging Face id / path."""
    import transformers

    if kind == "tokenizer":
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer
    kwargs = {}
    if info.get("torch_dtype"):
        import torch

        kwargs["dtype"] = getattr(torch, info["torch_dtype"])
    return transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)


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
    from mtlsearch.finetune.modeling import build_model, pretrain

    name = model_params.get("name_or_path")
    payload = {k: model_params.get(k) for k in ("name_or_path", "config", "seed", "pretrain", "torch_dtype", "load_in_4bit")}
    payload["tokenizer"] = tokenizer.fingerprint
    fingerprint = digest(payload)
    if previous is not None and previous.fingerprint == fingerprint:
        log.info("base model %s is up to date: reused", fingerprint)
        return previous
    model = build_model(dict(model_params), tokenizer.value)
    info: dict = {"parameters": int(sum(p.numel() for p in model.parameters()))}
    if name:
        info.update(name_or_path=name, torch_dtype=model_params.get("torch_dtype"))
    else:
        pretraining = dict(model_params.get("pretrain") or {})
        if int(pretraining.get("max_steps", 0)) > 0:
            texts = with_copy_exercises(
                training_text(examples), float(pretraining.get("copy_share", 0.0)), int(model_params.get("seed", 0))
            )
            stats = pretrain(model, tokenizer.value, texts, pretraining)
            info["pretrain"] = {k: v for k, v in stats.items() if isinstance(v, (int, float))}
            log.info("pretrained the base model: %s", info["pretrain"])
    return Pretrained(model, fingerprint, info)
