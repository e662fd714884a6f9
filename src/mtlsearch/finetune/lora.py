"""The LoRA recipe of one evaluation: tune a copy of the base model on a formatted mixture.

The base model stays untouched (PEFT wraps a model in place), so every evaluation of a search
starts from the same weights.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pandas as pd

from mtlsearch.finetune.base_model import Pretrained, load_pretrained
from mtlsearch.finetune.training import finetune_lora, load_adapter, save_adapter

__all__ = ["finetune_adapter", "load_adapter", "save_adapter"]


def finetune_adapter(base_model: Pretrained, tokenizer: Pretrained, mixture: pd.DataFrame, finetune: Mapping, seed: int = 0):
    """LoRA-tune a copy of the base model on the mixture's prompts and responses; (model, stats).

    The evaluation's ``seed`` offsets the fine-tune's own, so that repeated seeds measure its noise.
    """
    cfg = {**dict(finetune), "seed": int(finetune.get("seed", 0)) + int(seed)}
    if base_model.info.get("name_or_path"):
        # a named multi-GB checkpoint is reloaded (with its dtype and quantization) rather than copied
        model = load_pretrained("model", base_model.info["name_or_path"], base_model.info)
    else:
        model = copy.deepcopy(base_model.value)
    examples = mixture[["prompt", "response"]].to_dict("records")
    return finetune_lora(model, tokenizer.value, examples, cfg)
