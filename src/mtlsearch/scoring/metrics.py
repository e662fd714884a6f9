"""Scores of predicted items against gold items.

Items are compared after collapsing white space and case-folding. Item scores are micro
averages over all examples, each example's items taken as a multiset: a gold item listed twice
must be predicted twice to count twice.

Conventions for empty denominators: precision is 0 when nothing is predicted and recall is 0
when there is no gold item, except that when there is neither a gold nor a predicted item
anywhere, precision, recall and F1 are all 1 (nothing to find, nothing wrongly found). F1 is 0
when precision and recall are both 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from mtlsearch.ingestion.readers.base import normalize_space


def normalize_item(item: str) -> str:
    """The form in which items are compared: single spaces, no surrounding space, case-folded."""
    return normalize_space(str(item)).casefold()


def _check_lengths(gold: Sequence, pred: Sequence) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} examples but pred has {len(pred)}")


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def item_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Micro precision, recall and F1 of predicted item multisets against gold ones.

    Returns ``{"precision", "recall", "f1", "tp", "fp", "fn", "n"}`` (``n``: examples).
    """
    _check_lengths(gold, pred)
    tp = fp = fn = 0
    for g_items, p_items in zip(gold, pred):
        g = Counter(normalize_item(x) for x in g_items)
        p = Counter(normalize_item(x) for x in p_items)
        hit = sum((g & p).values())
        tp += hit
        fp += sum(p.values()) - hit
        fn += sum(g.values()) - hit
    precision, recall, f1 = _prf(tp, fp, fn)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "n": len(gold)}


def classification_scores(gold_labels: Sequence[str], pred_labels: Sequence[str]) -> dict:
    """Accuracy and macro-F1 over the labels that occur in ``gold_labels``.

    A predicted label that is not one of the gold labels is wrong for its example and counts
    against no label's precision. Per-label F1 is 0 where its precision and recall are both 0.
    With no examples, accuracy and macro-F1 are 0. Returns ``{"accuracy", "macro_f1",
    "per_label_f1", "n"}``.
    """
    _check_lengths(gold_labels, pred_labels)
    gold = [normalize_item(x) for x in gold_labels]
    pred = [normalize_item(x) for x in pred_labels]
    n = len(gold)
    if n == 0:
        return {"accuracy": 0.0, "macro_f1": 0.0, "per_label_f1": {}, "n": 0}
    accuracy = sum(g == p for g, p in zip(gold, pred)) / n
    per_label = {}
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        fp = sum(g != label and p == label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_label[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    macro_f1 = sum(per_label.values()) / len(per_label)
    return {"accuracy": accuracy, "macro_f1": macro_f1, "per_label_f1": per_label, "n": n}


def _label(items: Sequence[str]) -> str:
    return items[0] if len(items) else ""


def score_task(task: str, gold_items: Sequence[Sequence[str]], pred_items: Sequence[Sequence[str]]) -> dict:
    """Item precision/recall/F1 for any task; for ``"tc"`` also accuracy and macro-F1.

    A TC example's label is its first item ("" when it has none).
    """
    scores = item_scores(gold_items, pred_items)
    if task == "tc":
        cls = classification_scores([_label(g) for g in gold_items], [_label(p) for p in pred_items])
        scores.update(accuracy=cls["accuracy"], macro_f1=cls["macro_f1"], per_label_f1=cls["per_label_f1"])
    return scores
