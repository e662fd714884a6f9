"""Pointwise V-information (Ethayarajh, Choi and Swayamdipta, ICML 2022), grouped as in Li,
Miller, Bethard and Savova (JBI 2025): which auxiliaries are about as hard as the target.

``g`` is the dataset's own LoRA fine-tune (its single-dataset evaluation, reused from the
ledger), ``g'`` the same recipe on the same mixture with every input blanked (the prompt keeps
its instruction, the input is the empty string). An example's PVI is
``log2 g(y | x) - log2 g'(y | empty)``, with ``y``'s sequence log-probability (every response
token and ``</s>``, as the fine-tune's loss counts them). It is measured on a fixed, seeded subset
of each dataset's held-out (dev) examples; a dataset's PVI distribution is its examples' PVIs.

The target's group is the target and every auxiliary whose distribution is not statistically
different from the target's: Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``) with
p >= alpha (0.05). The test and the threshold are this project's choice; the paper names
neither.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import ttest_ind

from mtlsearch.finetune.training import IGNORE_INDEX, encode_example, pad_collate
from mtlsearch.formatting.mixtures import evaluation_subset, format_examples

DEFAULT_ALPHA = 0.05


def blank_inputs(formatted: pd.DataFrame, formatting: Mapping) -> pd.DataFrame:
    """The examples formatted again with the empty string as every input (instruction kept)."""
    return format_examples(formatted.assign(text=""), formatting)


def pvi_examples(examples: pd.DataFrame, dataset: str, n: int, seed: int, formatting: Mapping,
                 split: str = "dev") -> pd.DataFrame:
    """The fixed, seeded subset of ``dataset``'s held-out examples PVI is measured on, formatted."""
    return format_examples(evaluation_subset(examples, [dataset], int(n), int(seed), split=split), formatting)


def response_logprobs(model, tokenizer, prompts: Sequence[str], responses: Sequence[str],
                      batch_size: int = 8) -> np.ndarray:
    """Natural-log probability of each response (its tokens and ``</s>``) after its prompt."""
    encoded = [encode_example(tokenizer, p, r) for p, r in zip(prompts, responses)]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collate = pad_collate(pad_id)
    device = next(model.parameters()).device
    out = np.empty(len(encoded))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(encoded), batch_size):
                batch = {k: v.to(device) for k, v in collate(encoded[start : start + batch_size]).items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                targets = batch["labels"][:, 1:]
                keep = targets != IGNORE_INDEX
                logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
                picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                out[start : start + len(targets)] = (picked * keep).sum(dim=1).cpu().numpy()
    finally:
        model.train(was_training)
    return out


def pvi_values(logp_with_input, logp_blank) -> np.ndarray:
    """PVI in bits from natural-log sequence probabilities: ``(ln g(y|x) - ln g'(y|empty)) / ln 2``."""
    a = np.asarray(logp_with_input, dtype=float)
    b = np.asarray(logp_blank, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape} log-probabilities with the input but {b.shape} without")
    return (a - b) / math.log(2.0)


def welch_pvalue(target_pvi, auxiliary_pvi) -> float:
    """Welch's t-test p-value of the two PVI distributions (NaN when either has < 2 values).

    Two constant distributions, where the test is undefined, are 1.0 when equal, else 0.0."""
    a, b = np.asarray(target_pvi, dtype=float), np.asarray(auxiliary_pvi, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return 1.0 if a[0] == b[0] else 0.0
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def in_group(pvalue: float, alpha: float = DEFAULT_ALPHA) -> bool:
    """Not statistically different from the target's distribution: p >= alpha (an undefined
    p-value, too few examples, is not in the group)."""
    return bool(pvalue >= alpha) if math.isfinite(pvalue) else False


def pvi_group(distributions: Mapping[str, Sequence[float]], target: str, alpha: float = DEFAULT_ALPHA) -> dict[str, dict]:
    """Per auxiliary of ``distributions`` (the target's entry excluded): its PVI mean, sd (ddof
    1), p-value against the target's and whether it is in the target's group."""
    reference = np.asarray(distributions[target], dtype=float)
    out = {}
    for name, values in distributions.items():
        if name == target:
            continue
        values = np.asarray(values, dtype=float)
        pvalue = welch_pvalue(reference, values)
        out[name] = {
            "pvi_mean": float(values.mean()) if len(values) else math.nan,
            "pvi_sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
            "pvi_n": len(values),
            "pvi_pvalue": pvalue,
            "in_pvi_group": in_group(pvalue, alpha),
        }
    return out
