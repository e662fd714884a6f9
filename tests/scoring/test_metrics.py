import pytest

from mtlsearch.scoring.metrics import classification_scores, item_scores, normalize_item, score_task


def test_exact_match_everywhere_is_perfect():
    s = item_scores([["aspirin", "fever"], ["pain"]], [["fever", "aspirin"], ["pain"]])
    assert (s["precision"], s["recall"], s["f1"]) == (1.0, 1.0, 1.0)
    assert (s["tp"], s["fp"], s["fn"], s["n"]) == (3, 0, 0, 2)


def test_micro_counts_over_examples():
    gold = [["a", "b", "c"], ["d"]]
    pred = [["a", "x"], ["d", "e", "f"]]
    s = item_scores(gold, pred)
    # tp: a, d; fp: x, e, f; fn: b, c
    assert (s["tp"], s["fp"], s["fn"]) == (2, 3, 2)
    assert s["precision"] == pytest.approx(2 / 5)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(2 * 0.4 * 0.5 / 0.9)


def test_items_are_multisets():
    # gold lists "aspirin" twice: one prediction of it finds one of the two
    s = item_scores([["aspirin", "aspirin"]], [["aspirin"]])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 1)
    # predicting it three times against one gold mention: two false positives
    s = item_scores([["aspirin"]], [["aspirin", "aspirin", "aspirin"]])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 2, 0)
    assert s["precision"] == pytest.approx(1 / 3)


def test_items_match_across_case_and_white_space():
    s = item_scores([["Parkinson ' s disease", "NaCl"]], [["  parkinson '  s\tDISEASE ", "nacl"]])
    assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 0)
    assert normalize_item("  Heart\n Failure ") == "heart failure"


def test_matching_is_per_example():
    # the same item in the wrong example is a false positive there and a miss in its own
    s = item_scores([["a"], []], [[], ["a"]])
    assert (s["tp"], s["fp"], s["fn"]) == (0, 1, 1)
    assert s["f1"] == 0.0


def test_empty_conventions():
    both_empty = item_scores([[], []], [[], []])
    assert (both_empty["precision"], both_empty["recall"], both_empty["f1"]) == (1.0, 1.0, 1.0)
    nothing_predicted = item_scores([["a"], []], [[], []])
    assert (nothing_predicted["precision"], nothing_predicted["recall"], nothing_predicted["f1"]) == (0.0, 0.0, 0.0)
    nothing_to_find = item_scores([[], []], [["a"], []])
    assert (nothing_to_find["precision"], nothing_to_find["recall"], nothing_to_find["f1"]) == (0.0, 0.0, 0.0)
    no_examples = item_scores([], [])
    assert no_examples["f1"] == 1.0 and no_examples["n"] == 0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 examples but pred has 1"):
        item_scores([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError):
        classification_scores(["a"], [])


def test_classification_accuracy_and_macro_f1():
    gold = ["no advice", "no advice", "no advice", "weak advice", "strong advice"]
    pred = ["no advice", "No  Advice", "weak advice", "weak advice", "maybe"]
    s = classification_scores(gold, pred)
    assert s["accuracy"] == pytest.approx(3 / 5)
    # no advice: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 0.8
    # weak advice: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2/3
    # strong advice: tp 0 ('maybe' is no label and counts against none) -> F1 0
    assert s["per_label_f1"] == pytest.approx({"no advice": 0.8, "weak advice": 2 / 3, "strong advice": 0.0})
    assert s["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0.0) / 3)
    assert s["n"] == 5


def test_macro_f1_averages_over_gold_labels_only():
    # a predicted label absent from gold adds no class to the average
    s = classification_scores(["a", "a", "b"], ["a", "c", "b"])
    assert set(s["per_label_f1"]) == {"a", "b"}
    assert s["per_label_f1"]["a"] == pytest.approx(2 / 3)
    assert s["per_label_f1"]["b"] == 1.0
    assert s["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)


def test_majority_class_predictor_has_low_macro_f1():
    gold = ["no"] * 6 + ["weak"] * 3 + ["strong"]
    s = classification_scores(gold, ["no"] * 10)
    assert s["accuracy"] == pytest.approx(0.6)
    assert s["macro_f1"] == pytest.approx((2 * 0.6 / 1.6) / 3)


def test_classification_of_no_examples():
    assert classification_scores([], []) == {"accuracy": 0.0, "macro_f1": 0.0, "per_label_f1": {}, "n": 0}


def test_score_task_tc_adds_accuracy_from_first_items():
    gold = [["no advice"], ["weak advice"], ["strong advice"]]
    pred = [["No advice"], [], ["strong advice", "weak advice"]]
    s = score_task("tc", gold, pred)
    assert s["accuracy"] == pytest.approx(2 / 3)  # the empty prediction is label "" (wrong)
    assert s["macro_f1"] == pytest.approx((1 + 0 + 1) / 3)
    # the item scores see the extra predicted item
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 1)


def test_score_task_other_tasks_only_item_scores():
    s = score_task("ner", [["aspirin"]], [["Aspirin"]])
    assert s["f1"] == 1.0
    assert "accuracy" not in s and "macro_f1" not in s
