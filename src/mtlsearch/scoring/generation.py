"""Greedy generation of responses: batched (the fast way) and one prompt at a time (the reference).

Both return only the generated continuation of each prompt, decoded without special tokens, cut
where the model starts a new ``###`` section, and stripped of surrounding white space.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import torch
import transformers

SECTION_MARK = "\n###"


def _generation_config(tokenizer, max_new_tokens: int) -> transformers.GenerationConfig:
    # an explicit config, so that a checkpoint's own sampling defaults never apply
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return transformers.GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        use_cache=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=pad_id,
        bos_token_id=tokenizer.bos_token_id,
    )


def clean_continuation(text: str) -> str:
    """The response part of a decoded continuation: up to a new ``###`` section, stripped."""
    cut = text.find(SECTION_MARK)
    if cut >= 0:
        text = text[:cut]
    return text.strip()


@contextmanager
def _left_padding(tokenizer):
    # decoder-only models continue from the last position, so the prompts must end together
    saved = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        yield tokenizer
    finally:
        tokenizer.padding_side = saved


@contextmanager
def _eval_mode(model):
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _new_tokens(rows: torch.Tensor, eos_id: int | None) -> int:
    # tokens up to and including the first eos; what follows in a batch is padding
    total = 0
    for row in rows.tolist():
        total += row.index(eos_id) + 1 if eos_id in row else len(row)
    return total


def generate_responses(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 32,
    stats: dict | None = None,
) -> list[str]:
    """Greedy continuations of ``prompts``, in their order, generated in batches.

    Prompts are sorted by token length so that a batch holds prompts of similar length (little
    left padding), longest first so that a batch too large for memory fails at once; each
    batch stops when all of its rows have produced ``</s>`` or ``max_new_tokens`` tokens.
    A ``stats`` dict, when given, receives ``generated_tokens`` (``</s>`` included).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    prompts = list(prompts)
    if not prompts:
        return []
    config = _generation_config(tokenizer, max_new_tokens)
    lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    order = sorted(range(len(prompts)), key=lambda i: -lengths[i])
    results: list[str | None] = [None] * len(prompts)
    device = _device(model)
    generated = 0
    with _left_padding(tokenizer), _eval_mode(model):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True).to(device)
            out = model.generate(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], generation_config=config
            )
            new = out[:, enc["input_ids"].shape[1] :]
            generated += _new_tokens(new, tokenizer.eos_token_id)
            texts = tokenizer.batch_decode(new, skip_special_tokens=True)
            for i, text in zip(idx, texts):
                results[i] = clean_continuation(text)
    if stats is not None:
        stats["generated_tokens"] = generated
    return results  # type: ignore[return-value]


def generate_one_at_a_time(
    model, tokenizer, prompts: Sequence[str], max_new_tokens: int, stats: dict | None = None
) -> list[str]:
    """Greedy continuations of ``prompts``, one ``generate`` call per prompt, without padding."""
    config = _generation_config(tokenizer, max_new_tokens)
    device = _device(model)
    results = []
    generated = 0
    with _eval_mode(model):
        for prompt in prompts:
            enc = tokenizer(prompt, return_tensors="pt").to(device)
            out = model.generate(
                input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], generation_config=config
            )
            new = out[:, enc["input_ids"].shape[1] :]
            generated += _new_tokens(new, tokenizer.eos_token_id)
            results.append(clean_continuation(tokenizer.decode(new[0], skip_special_tokens=True)))
    if stats is not None:
        stats["generated_tokens"] = generated
    return results
