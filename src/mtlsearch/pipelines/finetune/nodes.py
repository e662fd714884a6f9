"""Nodes of the finetune pipeline: thin wrappers around :mod:`mtlsearch.finetune`."""

from __future__ import annotations

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained, prepare_base_model, prepare_tokenizer
from mtlsearch.finetune.lora import finetune_adapter as tune


def build_tokenizer(examples: pd.DataFrame, previous: Pretrained | None, model: dict) -> Pretrained:
    """The tokenizer, rebuilt only when the data or its settings changed."""
    return prepare_tokenizer(examples, previous, model)


def build_base_model(examples: pd.DataFrame, tokenizer: Pretrained, previous: Pretrained | None, model: dict) -> Pretrained:
    """The base model, rebuilt (and pretrained) only when what it depends on changed."""
    return prepare_base_model(examples, tokenizer, previous, model)


def finetune_adapter(
    training_mixture: pd.DataFrame, tokenizer: Pretrained, base_model: Pretrained, finetune: dict, evaluate: dict,
    evaluation_run: dict | None = None,
):
    """A LoRA adapter tuned on the formatted training mixture, and the training statistics.

    ``evaluation_run`` (in the ``evaluate`` pipeline) is the run the result belongs to: taking it
    as an input orders the fine-tune after the run is opened, so that its failure is recorded there.
    """
    model, stats = tune(base_model, tokenizer, training_mixture, finetune, int(evaluate.get("seed", 0)))
    # JSON-able figures only (the loss curve is a list of [micro-batch, loss] pairs)
    return model, {k: v for k, v in stats.items() if isinstance(v, (int, float, str, list))}
