"""PVI: hand-made log-probabilities, the log-probabilities of a tiny model, and the grouping test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ttest_ind
from tiny_model import TINY, one_thread, sentences  # noqa: F401 (fixture)

from mtlsearch.finetune.modeling import build_model, train_tokenizer
from mtlsearch.finetune.training import encode_example
from mtlsearch.relatedness.pvi import (
    blank_inputs,
    pvi_group,
    pvi_values,
    response_logprobs,
    welch_pvalue,
)


def test_pvi_of_known_probabilities():
    # g(y|x) = 1/2, g'(y|empty) = 1/8: 3 - 1 = 2 bits; equal probabilities: 0 bits; a worse g: negative
    pvi = pvi_values(np.log([0.5, 0.25, 0.1]), np.log([0.125, 0.25, 0.4]))
    np.testing.assert_allclose(pvi, [2.0, 0.0, -2.0])
    with pytest.raises(ValueError):
        pvi_values([0.0], [0.0, 1.0])


def test_response_logprobs_sum_the_response_tokens_whatever_the_padding():
    texts = sentences(20, seed=2)
    tokenizer = train_tokenizer(texts, vocab_size=300)
    model = build_model(TINY, tokenizer).eval()
    prompts = [f"Q: {t}\nA:" for t in texts[:5]]
    responses = [t.split()[-1] for t in texts[:5]]
    got = response_logprobs(model, tokenizer, prompts, responses, batch_size=3)
    for prompt, response, value in zip(prompts, responses, got):
        enc = encode_example(tokenizer, prompt, response)
        ids = torch.tensor([enc["input_ids"]])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1], dim=-1)
        n_prompt = sum(1 for label in enc["labels"] if label == -100)
        expected = sum(float(logp[t - 1, enc["input_ids"][t]]) for t in range(n_prompt, len(enc["input_ids"])))
        assert value == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_grouping_by_welch_test():
    target = [1.0, 2.0, 3.0, 4.0, 5.0]
    near = [1.2, 2.1, 2.9, 4.2, 4.8]
    far = [9.0, 10.0, 11.5, 12.0, 13.0]
    groups = pvi_group({"t": target, "near": near, "far": far}, "t", alpha=0.05)
    assert set(groups) == {"near", "far"}
    assert groups["near"]["pvi_pvalue"] == pytest.approx(ttest_ind(target, near, equal_var=False).pvalue)
    assert groups["near"]["in_pvi_group"] and not groups["far"]["in_pvi_group"]
    assert groups["far"]["pvi_mean"] == pytest.approx(11.1)
    assert groups["far"]["pvi_sd"] == pytest.approx(np.std(far, ddof=1))
    assert welch_pvalue([1.0, 1.0], [1.0, 1.0]) == 1.0 and welch_pvalue([1.0, 1.0], [2.0, 2.0]) == 0.0
    assert math.isnan(welch_pvalue([1.0], [1.0, 2.0]))
    assert not pvi_group({"t": target, "one": [3.0]}, "t")["one"]["in_pvi_group"]


def test_blank_inputs_keep_the_instruction_and_the_response():
    params = {"instructions": {"d": "Name the drug."}, "default_instructions": {}}
    frame = pd.DataFrame({"dataset": ["d"], "task": ["ner"], "example_id": ["1"], "text": ["aspirin helps"],
                          "items": [["aspirin"]]})
    from mtlsearch.formatting.mixtures import format_examples

    formatted = format_examples(frame, params)
    blank = blank_inputs(formatted, params)
    assert "aspirin helps" in formatted["prompt"][0] and "aspirin helps" not in blank["prompt"][0]
    assert "Name the drug." in blank["prompt"][0] and "### Input:\n\n" in blank["prompt"][0]
    assert blank["response"][0] == formatted["response"][0] == "aspirin"
