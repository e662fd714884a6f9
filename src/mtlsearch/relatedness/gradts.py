"""GradTS (Ma et al., EMNLP 2021): which auxiliaries use the attention heads the target uses.

Each dataset is fine-tuned alone (its ordinary single-dataset evaluation); then, without any
optimizer step, training batches are back-propagated and the absolute gradient of the attention
weights is read per head. Per layer the key and value gradients are summed (the query is
ignored, as in the paper) and averaged over a head's rows; the absolute gradients are averaged
over batches; each layer's row is divided by its sum and the layer x head matrix is min-max
scaled to [0, 1]. Kendall's tau between the target's flattened matrix and an auxiliary's ranks
the auxiliaries: ``thres`` takes every auxiliary with tau >= 0.47 (the published default),
``trial`` adds them in tau order one at a time (:mod:`mtlsearch.strategies.relatedness`).

On a decoder-only model with LoRA:

* A head is one of the base model's key/value heads: the rows ``h * head_dim`` to
  ``(h + 1) * head_dim`` of ``k_proj`` and ``v_proj``. With grouped-query attention several
  query heads share one key/value head; as queries are ignored, the key/value heads are the
  ones with weights of their own.
* The loss is the fine-tune's own: mean cross-entropy on the response tokens (and ``</s>``),
  the prompt masked.
* The gradient is taken with respect to the effective (LoRA-merged) weight
  ``W + scale * B @ A`` of each projection, without merging anything: for a linear map
  ``y = x W_eff^T`` the gradient is ``sum_tokens dL/dy^T x``, computed from the projection's
  input and the gradient at its output (hooks). This is the quantity GradTS reads off a fully
  fine-tuned encoder, it has the base model's head layout whatever the LoRA rank and target
  modules, and it needs no trainable base weight, so it works on a 4-bit base as well. The
  LoRA factors themselves would not do: ``A`` mixes all heads' rows, and the gradient of ``B``
  (initialised at zero, shaped by the rank) says more about the adapter than about the heads.
* The gradient passes run in eval mode (no dropout), so the matrix is a deterministic function
  of the adapter and the batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from scipy.stats import kendalltau

from mtlsearch.finetune.training import IGNORE_INDEX, encode_example, pad_collate

# GradTS-thres's published threshold on Kendall's tau
DEFAULT_THRESHOLD = 0.47


def attention_projections(model) -> list[tuple[torch.nn.Module, torch.nn.Module, int]]:
    """Per decoder layer, in order: its key and value projections and its number of key/value
    heads (Llama-style attention modules with ``k_proj``, ``v_proj`` and ``head_dim``)."""
    layers = []
    for _, module in model.named_modules():
        if hasattr(module, "k_proj") and hasattr(module, "v_proj") and hasattr(module, "head_dim"):
            rows = _out_features(module.k_proj)
            layers.append((module.k_proj, module.v_proj, rows // int(module.head_dim)))
    if not layers:
        raise ValueError(f"{type(model).__name__} has no attention modules with k_proj and v_proj")
    return layers


def _out_features(projection) -> int:
    base = projection.get_base_layer() if hasattr(projection, "get_base_layer") else projection
    return int(base.out_features)


@contextmanager
def _weight_gradients(projections: Sequence[torch.nn.Module]):
    """Hooks that add ``dL/dW_eff = sum_tokens dL/dy^T x`` of each projection, per backward
    pass, to ``grads[i]`` (float32)."""
    grads: list[torch.Tensor | None] = [None] * len(projections)
    handles = []

    def hook_for(i: int):
        def forward_hook(module, args, output):
            x = args[0].detach()

            def on_grad(grad_out):
                flat_out = grad_out.reshape(-1, grad_out.shape[-1]).float()
                flat_in = x.reshape(-1, x.shape[-1]).float()
                grads[i] = flat_out.T @ flat_in

            if output.requires_grad:
                output.register_hook(on_grad)

        return forward_hook

    for i, projection in enumerate(projections):
        handles.append(projection.register_forward_hook(hook_for(i)))
    try:
        yield grads
    finally:
        for handle in handles:
            handle.remove()


def _device(model) -> torch.device:
    return next(model.parameters()).device


def response_loss(model, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy of the next token over the labelled (response) positions."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE_INDEX
    return torch.nn.functional.cross_entropy(logits[:, :-1][keep].float(), targets[keep])


def encoded_batches(tokenizer, examples: Sequence[Mapping[str, str]], batch_size: int, max_length: int,
                    max_batches: int | None = None) -> list[dict[str, torch.Tensor]]:
    """Examples encoded as for training (loss on the response), those longer than ``max_length``
    dropped as training drops them, in their order, in batches of ``batch_size``."""
    encoded = [encode_example(tokenizer, ex["prompt"], ex["response"]) for ex in examples]
    encoded = [e for e in encoded if len(e["input_ids"]) <= max_length]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collate = pad_collate(pad_id)
    batches = [collate(encoded[i : i + batch_size]) for i in range(0, len(encoded), batch_size)]
    return batches[:max_batches] if max_batches is not None else batches


def head_importance(model, batches: Sequence[Mapping[str, torch.Tensor]]) -> np.ndarray:
    """GradTS's layer x head importance matrix of ``model`` on ``batches``, scaled to [0, 1].

    No parameter is updated, and no parameter's ``.grad`` is written: the gradients are read
    by hooks at the projections.
    """
    if not batches:
        raise ValueError("head_importance needs at least one batch")
    layers = attention_projections(model)
    projections = [p for k, v, _ in layers for p in (k, v)]
    total: list[torch.Tensor | None] = [None] * len(projections)
    device = _device(model)
    was_training = model.training
    model.eval()
    embedded: list[torch.Tensor] = []

    def keep_embedding(module, args, output):
        # the gradient must flow to every projection even where no weight before it is trainable
        if not output.requires_grad:
            output.requires_grad_(True)
        embedded.append(output)

    handle = model.get_input_embeddings().register_forward_hook(keep_embedding)
    try:
        with torch.enable_grad(), _weight_gradients(projections) as grads:
            for batch in batches:
                batch = {k: v.to(device) for k, v in batch.items()}
                embedded.clear()
                loss = response_loss(model, batch)
                # a gradient to the embeddings only: every projection lies on the way (its hook
                # reads the gradient there), and no parameter's .grad is touched
                torch.autograd.grad(loss, embedded[0])
                for i, grad in enumerate(grads):
                    if grad is None:
                        raise RuntimeError(f"no gradient reached attention projection {i}")
                    total[i] = grad.abs() if total[i] is None else total[i] + grad.abs()
                    grads[i] = None
    finally:
        handle.remove()
        model.train(was_training)
    matrix = np.zeros((len(layers), max(h for _, _, h in layers)))
    for layer, (_, _, heads) in enumerate(layers):
        key = total[2 * layer] / len(batches)
        value = total[2 * layer + 1] / len(batches)
        rows = (key + value).reshape(heads, -1, key.shape[-1])
        matrix[layer, :heads] = rows.mean(dim=(1, 2)).cpu().numpy()
    return normalise_importance(matrix)


def normalise_importance(matrix: np.ndarray) -> np.ndarray:
    """Each layer's row divided by its sum, then the whole matrix min-max scaled to [0, 1]."""
    matrix = np.asarray(matrix, dtype=float)
    sums = matrix.sum(axis=1, keepdims=True)
    rows = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
    low, high = rows.min(), rows.max()
    if high - low <= 0:
        return np.zeros_like(rows)
    return (rows - low) / (high - low)


def gradts_tau(target_matrix, auxiliary_matrix) -> float:
    """Kendall's tau between the flattened matrices (scipy's tau-b; NaN when one is constant)."""
    a = np.asarray(target_matrix, dtype=float).ravel()
    b = np.asarray(auxiliary_matrix, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"head matrices of different shapes: {np.shape(target_matrix)} and {np.shape(auxiliary_matrix)}")
    return float(kendalltau(a, b).statistic)


def thres_selection(taus: Sequence[float], threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """GradTS-thres: the positions of every auxiliary with tau >= ``threshold``."""
    return [i for i, tau in enumerate(taus) if np.isfinite(tau) and tau >= threshold]


def trial_order(taus: Sequence[float]) -> list[int]:
    """GradTS-trial: the positions by decreasing tau (ties: the earlier position first; NaN last)."""
    keyed = [(-(tau if np.isfinite(tau) else -np.inf), i) for i, tau in enumerate(taus)]
    return [i for _, i in sorted(keyed)]
