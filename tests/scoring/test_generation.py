
import pytest
import torch

from mtlsearch.scoring.generation import clean_continuation, generate_one_at_a_time, generate_responses
from mtlsearch.finetune.modeling import build_model, train_tokenizer
from mtlsearch.formatting.prompts import build_prompt, serialize_items
from mtlsearch.finetune.training import finetune_lora

from tiny_model import QUIET, TINY, WORDS, one_thread, sentences  # noqa: F401 (one_thread: autouse)


def prompt(text: str) -> str:
    return build_prompt("List the drugs.", text)


@pytest.fixture(scope="module")
def tokenizer():
    texts = sentences(300) + [prompt(s) + "aspirin\nibuprofen" for s in sentences(100)]
    return train_tokenizer(texts, vocab_size=300, min_frequency=2)


@pytest.fixture(scope="module")
def memorised(tokenizer):
    """A model trained until it answers four prompts exactly, ``</s>`` included.

    Being trained, its greedy choices are not near-ties that float noise could flip.
    """
    pairs = [
        ("aspirin for fever", "aspirin"),
        ("the dose of ibuprofen caused nausea", "ibuprofen"),
        ("aspirin and ibuprofen after surgery", "aspirin\nibuprofen"),
        ("a small group of children with asthma", serialize_items([])),
    ]
    exs = [{"prompt": prompt(t), "response": r} for t, r in pairs]
    m = build_model(TINY, tokenizer)
    m, stats = finetune_lora(m, tokenizer, exs, {"method": "full", "max_steps": 80, "batch_size": 4, "lr": 1e-2, **QUIET})
    assert stats["train_loss"] < 0.05, stats
    return m.eval(), pairs


@pytest.fixture(scope="module")
def model(memorised):
    return memorised[0]


def test_batched_equals_one_at_a_time(model, tokenizer):
    texts = ["aspirin for fever", "the dose of ibuprofen caused nausea", "a small group of children with asthma"]
    texts += sentences(9, seed=3) + ["aspirin", "the patient was given aspirin for fever and pain after surgery " * 3]
    prompts = [prompt(t) for t in texts]
    reference = generate_one_at_a_time(model, tokenizer, prompts, 10)
    # batch size 4 gives several batches of prompts of different lengths, all left-padded
    batched = generate_responses(model, tokenizer, prompts, 10, batch_size=4)
    assert batched == reference
    assert len(set(reference)) > 1


def test_results_come_back_in_input_order(model, tokenizer):
    prompts = [prompt(t) for t in sentences(7, seed=4)]
    together = generate_responses(model, tokenizer, prompts, 8, batch_size=3)
    reversed_ = generate_responses(model, tokenizer, prompts[::-1], 8, batch_size=3)
    assert reversed_ == together[::-1]
    assert [generate_responses(model, tokenizer, [p], 8)[0] for p in prompts[:3]] == together[:3]


def test_generated_token_counts_agree(model, tokenizer):
    prompts = [prompt(t) for t in sentences(5, seed=5)]
    a, b = {}, {}
    generate_responses(model, tokenizer, prompts, 6, batch_size=2, stats=a)
    generate_one_at_a_time(model, tokenizer, prompts, 6, stats=b)
    assert a["generated_tokens"] == b["generated_tokens"]
    assert 0 < a["generated_tokens"] <= 5 * 6


def test_generation_stops_at_eos_and_returns_only_the_continuation(memorised, tokenizer):
    m, pairs = memorised
    prompts = [prompt(t) for t, _ in pairs]
    stats = {}
    outs = generate_responses(m, tokenizer, prompts, 30, stats=stats)
    assert outs == [r for _, r in pairs]
    # each answer ended at its </s>, long before the 30-token limit
    assert stats["generated_tokens"] < 4 * 30 / 2
    assert generate_one_at_a_time(m, tokenizer, prompts, 30) == outs


def test_generation_leaves_the_tokenizer_and_model_as_they_were(model, tokenizer):
    model.train()
    side = tokenizer.padding_side
    generate_responses(model, tokenizer, [prompt("aspirin"), prompt("fever and pain")], 4)
    assert tokenizer.padding_side == side
    assert model.training
    model.eval()


def test_no_prompts_and_bad_batch_size(model, tokenizer):
    assert generate_responses(model, tokenizer, [], 5) == []
    with pytest.raises(ValueError, match="batch_size"):
        generate_responses(model, tokenizer, [prompt("x")], 5, batch_size=0)


def test_clean_continuation_cuts_a_new_section():
    assert clean_continuation(" aspirin\nfever \n### Instruction:\nList") == "aspirin\nfever"
    assert clean_continuation("aspirin\n\n### Input:") == "aspirin"
    assert clean_continuation("a ### b") == "a ### b"
    assert clean_continuation("\n  ") == ""


def test_batched_generation_works_in_bfloat16(tokenizer):
    m = build_model(TINY, tokenizer).to(torch.bfloat16)
    outs = generate_responses(m, tokenizer, [prompt("aspirin"), prompt("fever")], 3)
    assert len(outs) == 2 and all(isinstance(o, str) for o in outs)
