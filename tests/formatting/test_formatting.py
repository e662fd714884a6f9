"""Prompts, the items <-> response round trip, mixtures and evaluation subsets."""

from __future__ import annotations

import pandas as pd
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.formatting.mixtures import evaluation_subset, format_examples, parse_combination, training_mixture
from mtlsearch.formatting.prompts import EMPTY_RESPONSE, build_prompt, parse_response, serialize_items

PARAMS = {
    "instructions": {"big": "Tag it."},
    "default_instructions": {"tc": "Classify it."},
}


def table(sizes: dict[str, int]) -> pd.DataFrame:
    rows = []
    for dataset, n in sizes.items():
        for i in range(n):
            split = "test" if i % 5 == 0 else "train"
            rows.append(
                dict(dataset=dataset, task="tc", split=split, example_id=f"{dataset}-{i}", doc_id=f"{dataset}-{i}",
                     text=f"text {i} of {dataset}", items=[f"label{i % 3}"], item_types=[f"label{i % 3}"])
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "items",
    [[], ["one"], ["a | rel | b", "c"], ["none"], ["NONE"], ["line\nbreak"], ["back\\slash", "\\n"], ["\\=none", "x"]],
)
def test_serialization_round_trip_including_separator_and_marker(items):
    assert parse_response(serialize_items(items)) == items


def test_empty_list_is_the_marker_and_generated_noise_is_tolerated():
    assert serialize_items([]) == EMPTY_RESPONSE
    assert parse_response("  None \n") == []
    assert parse_response("\n a \n\n b\n") == ["a", "b"]


def test_prompt_follows_the_alpaca_template():
    prompt = build_prompt("Do X.", "some input")
    assert "### Instruction:\nDo X.\n\n### Input:\nsome input\n\n### Response:\n" in prompt
    assert prompt.startswith("Below is an instruction")


def test_format_examples_uses_dataset_then_task_instruction():
    frame = format_examples(table({"big": 5, "small": 5}), PARAMS)
    assert frame.loc[frame["dataset"] == "big", "prompt"].str.contains("Tag it.").all()
    assert frame.loc[frame["dataset"] == "small", "prompt"].str.contains("Classify it.").all()
    assert (frame["response"].map(parse_response) == frame["items"].map(list)).all()


def test_equal_mixture_shares_and_replacement():
    examples = table({"big": 500, "small": 20})
    mixture = training_mixture(examples, ["big", "small"], budget=100, seed=1)
    counts = mixture["dataset"].value_counts().to_dict()
    assert counts == {"big": 50, "small": 50}
    assert set(mixture["split"]) == {"train"}
    big = mixture[mixture["dataset"] == "big"]
    small = mixture[mixture["dataset"] == "small"]
    assert big["example_id"].is_unique  # enough examples: without replacement
    assert not small["example_id"].is_unique  # 16 training examples for 50 slots: with replacement
    assert len(training_mixture(examples, ["big", "small", "x"] if False else ["big"], budget=7)) == 7


def test_mixture_is_reproducible_and_seeded():
    examples = table({"a": 300, "b": 300})
    one = training_mixture(examples, "a+b", budget=60, seed=3)
    two = training_mixture(examples, ["b", "a"], budget=60, seed=3)
    other = training_mixture(examples, "a+b", budget=60, seed=4)
    assert one["example_id"].tolist() == two["example_id"].tolist()
    assert one["example_id"].tolist() != other["example_id"].tolist()


def test_a_members_draw_does_not_depend_on_the_other_members():
    examples = table({"a": 300, "b": 300, "c": 300})
    with_b = training_mixture(examples, "a+b", budget=100, seed=0)
    with_c = training_mixture(examples, "a+c", budget=100, seed=0)
    assert set(with_b.loc[with_b["dataset"] == "a", "example_id"]) == set(
        with_c.loc[with_c["dataset"] == "a", "example_id"]
    )


@pytest.mark.parametrize("strategy", ["proportional", "temperature"])
def test_proportional_and_temperature_mixing_fill_the_budget(strategy):
    examples = table({"a": 1000, "b": 100})
    counts = training_mixture(examples, "a+b", budget=101, strategy=strategy, temperature=2.0)["dataset"].value_counts()
    assert counts.sum() == 101
    assert counts["a"] > counts["b"]
    if strategy == "proportional":
        assert counts["a"] == pytest.approx(101 * 800 / 880, abs=1)
    else:
        # size**(1/2): 800**.5 / (800**.5 + 80**.5) of the budget
        assert counts["a"] == pytest.approx(101 * 800**0.5 / (800**0.5 + 80**0.5), abs=1)


def test_evaluation_subset_is_fixed_across_combinations():
    examples = table({"a": 200, "b": 200, "c": 50})
    alone = evaluation_subset(examples, ["a"], max_examples=15)
    with_others = evaluation_subset(examples, "a+b+c", max_examples=15)
    assert len(alone) == 15 and set(alone["split"]) == {"test"}
    assert alone["example_id"].tolist() == with_others.loc[with_others["dataset"] == "a", "example_id"].tolist()
    assert (with_others["dataset"] == "c").sum() == 10  # fewer test examples than the cap: all of them


def test_unknown_dataset_and_empty_combination_are_clear_errors():
    examples = table({"a": 10})
    with pytest.raises(ConfigError, match=r"\['zzz'\].*present: \['a'\]"):
        training_mixture(examples, "a+zzz", budget=4)
    with pytest.raises(ConfigError, match="at least one dataset"):
        parse_combination("+")
