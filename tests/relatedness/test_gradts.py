"""GradTS on a tiny real model: the head matrix against gradients taken by hand, and tau."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau
from tiny_model import QUIET, TINY, one_thread, sentences  # noqa: F401 (fixture)

from mtlsearch.finetune.modeling import build_model, train_tokenizer
from mtlsearch.finetune.training import finetune_lora
from mtlsearch.relatedness.gradts import (
    attention_projections,
    encoded_batches,
    gradts_tau,
    head_importance,
    normalise_importance,
    response_loss,
    thres_selection,
    trial_order,
)


@pytest.fixture(scope="module")
def tuned():
    texts = sentences(48, seed=1)
    tokenizer = train_tokenizer(texts, vocab_size=300)
    examples = [{"prompt": f"Say the first word.\n{t}\n### Response:\n", "response": t.split()[0]} for t in texts]
    model, _ = finetune_lora(build_model(TINY, tokenizer), tokenizer, examples[:32],
                             {**QUIET, "max_steps": 3, "batch_size": 4, "lora": {"r": 2, "alpha": 4, "dropout": 0.1}})
    return model, tokenizer, encoded_batches(tokenizer, examples[32:], 4, 256, 3)


def by_hand(model, batches) -> np.ndarray:
    """The same matrix from torch.autograd.grad on the base k_proj / v_proj weights."""
    model.eval()
    layers = attention_projections(model)
    weights = [p.get_base_layer().weight for k, v, _ in layers for p in (k, v)]
    saved = [w.requires_grad for w in weights]
    for w in weights:
        w.requires_grad_(True)
    try:
        total = [torch.zeros_like(w) for w in weights]
        for batch in batches:
            grads = torch.autograd.grad(response_loss(model, batch), weights)
            total = [t + g.abs() for t, g in zip(total, grads)]
    finally:
        for w, s in zip(weights, saved):
            w.requires_grad_(s)
    heads = TINY["config"]["num_attention_heads"]
    raw = np.zeros((len(layers), heads))
    for layer in range(len(layers)):
        summed = (total[2 * layer] + total[2 * layer + 1]).numpy() / len(batches)
        for h, rows in enumerate(np.split(summed, heads, axis=0)):
            raw[layer, h] = rows.mean()
    raw = raw / raw.sum(axis=1, keepdims=True)
    return (raw - raw.min()) / (raw.max() - raw.min())


def test_head_importance_equals_the_gradients_taken_by_hand(tuned):
    model, _, batches = tuned
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = None
    matrix = head_importance(model, batches)
    assert matrix.shape == (TINY["config"]["num_hidden_layers"], TINY["config"]["num_attention_heads"])
    assert matrix.min() == 0.0 and matrix.max() == 1.0
    np.testing.assert_allclose(matrix, by_hand(model, batches), rtol=1e-4, atol=1e-6)
    # no optimizer step, no gradient left on any parameter
    assert all(torch.equal(before[n], p) for n, p in model.named_parameters())
    assert all(p.grad is None for p in model.parameters())


def test_the_matrix_depends_on_the_batches(tuned):
    model, tokenizer, batches = tuned
    other = encoded_batches(tokenizer, [{"prompt": "x y z\n", "response": "patient dose pain asthma"}] * 4, 4, 256)
    assert not np.allclose(head_importance(model, batches), head_importance(model, other))


def test_normalisation_by_hand():
    # rows divided by their sums: [.25 .75], [.5 .5]; min-max over the matrix
    np.testing.assert_allclose(normalise_importance([[1.0, 3.0], [2.0, 2.0]]), [[0.0, 1.0], [0.5, 0.5]])
    assert not normalise_importance([[1.0, 1.0], [2.0, 2.0]]).any()  # constant after the row step


def test_tau_by_hand_and_against_scipy():
    # one discordant pair (the last two) of six: (5 - 1) / 6
    assert gradts_tau([[1, 2], [3, 4]], [[1, 2], [4, 3]]) == pytest.approx(4 / 6)
    assert gradts_tau([[1, 2], [3, 4]], [[4, 3], [2, 1]]) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    a, b = rng.random((4, 3)), rng.random((4, 3))
    assert gradts_tau(a, b) == pytest.approx(kendalltau(a.ravel(), b.ravel()).statistic)
    with pytest.raises(ValueError, match="different shapes"):
        gradts_tau(a, b[:2])


def test_thres_and_trial_orders():
    taus = [0.2, 0.47, float("nan"), 0.9, 0.47]
    assert thres_selection(taus) == [1, 3, 4]
    assert thres_selection(taus, 0.5) == [3]
    assert trial_order(taus) == [3, 1, 4, 0, 2]
