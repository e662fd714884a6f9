import math
import random

import peft
import pytest
import torch
import transformers

from mtlsearch.scoring.generation import generate_responses
from mtlsearch.finetune.modeling import build_model, pack_texts, pretrain, train_tokenizer
from mtlsearch.formatting.prompts import build_prompt, serialize_items
from mtlsearch.finetune.training import (
    IGNORE_INDEX,
    CausalLMModule,
    InstructionDataModule,
    LengthBatchSampler,
    TrainingDivergedError,
    encode_example,
    finetune_lora,
    load_adapter,
    lr_factor,
    save_adapter,
)

from tiny_model import QUIET, TINY, WORDS, one_thread, sentences  # noqa: F401 (one_thread: autouse)

DRUGS = {"aspirin", "ibuprofen"}


def examples(n: int, seed: int = 0) -> list[dict]:
    return [
        {
            "prompt": build_prompt("List the drugs.", s),
            "response": serialize_items([w for w in s.split() if w in DRUGS]),
        }
        for s in sentences(n, seed)
    ]


@pytest.fixture(scope="module")
def tokenizer():
    texts = sentences(300) + [ex["prompt"] + ex["response"] for ex in examples(100)]
    return train_tokenizer(texts, vocab_size=300, min_frequency=2)


@pytest.fixture(scope="module")
def pretrained(tokenizer):
    """A briefly pretrained tiny base (state dict): LoRA on random weights can hardly move the
    output, because the frozen output layer's rows are too short to give confident logits."""
    model = build_model(TINY, tokenizer)
    pretrain(model, tokenizer, sentences(300), {"max_steps": 60, "batch_size": 8, "block_size": 32, "lr": 1e-2, **QUIET})
    return {k: v.clone() for k, v in model.state_dict().items()}


def pretrained_base(tokenizer, state):
    model = build_model(TINY, tokenizer)
    model.load_state_dict(state)
    return model


# ------------------------------------------------------------------------------ tokenizer, model


def test_tokenizer_special_tokens_and_round_trip(tokenizer, tmp_path):
    assert len(tokenizer) == 300
    assert (tokenizer.unk_token, tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == (
        "<unk>",
        "<s>",
        "</s>",
        "<pad>",
    )
    ids = tokenizer("the patient was given aspirin")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "the patient was given aspirin"
    # bytes never seen in training still encode, without <unk>
    odd = tokenizer("µ-opioid ☃")["input_ids"]
    assert tokenizer.unk_token_id not in odd
    assert tokenizer.decode(odd, skip_special_tokens=True) == "µ-opioid ☃"

    tokenizer.save_pretrained(tmp_path)
    loaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert loaded("the patient was given aspirin")["input_ids"] == ids
    assert (loaded.pad_token_id, loaded.eos_token_id, loaded.bos_token_id) == (
        tokenizer.pad_token_id,
        tokenizer.eos_token_id,
        tokenizer.bos_token_id,
    )


def test_build_model_from_config_is_seeded(tokenizer):
    a = build_model(TINY, tokenizer)
    b = build_model(TINY, tokenizer)
    c = build_model({**TINY, "seed": 1}, tokenizer)
    assert isinstance(a, transformers.LlamaForCausalLM)
    assert a.config.vocab_size == len(tokenizer)
    assert a.config.pad_token_id == tokenizer.pad_token_id
    assert a.config.eos_token_id == tokenizer.eos_token_id
    wa, wb, wc = (m.get_input_embeddings().weight for m in (a, b, c))
    assert torch.equal(wa, wb)
    assert not torch.equal(wa, wc)


def test_build_model_loads_a_saved_checkpoint(tokenizer, tmp_path):
    model = build_model(TINY, tokenizer)
    model.save_pretrained(tmp_path)
    loaded = build_model({"name_or_path": str(tmp_path), "torch_dtype": "float32"}, tokenizer)
    ids = torch.tensor([tokenizer("the patient")["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, loaded(ids).logits)


def test_build_model_needs_a_name_or_a_config(tokenizer):
    with pytest.raises(ValueError, match="name_or_path"):
        build_model({"seed": 0}, tokenizer)


def test_pack_texts_makes_full_blocks(tokenizer):
    texts = sentences(20)
    blocks = pack_texts(tokenizer, texts, 16)
    stream = []
    for ids in tokenizer(texts)["input_ids"]:
        stream += ids + [tokenizer.eos_token_id]
    assert blocks.shape == (len(stream) // 16, 16)
    assert blocks.flatten().tolist() == stream[: blocks.numel()]


def test_pretrain_lowers_the_loss(tokenizer):
    model = build_model(TINY, tokenizer)
    stats = pretrain(
        model, tokenizer, sentences(200), {"max_steps": 30, "batch_size": 8, "block_size": 32, "lr": 1e-2, **QUIET}
    )
    assert stats["steps"] == 30
    assert stats["padding_fraction"] == 0.0
    assert stats["trained_tokens"] == 30 * 8 * 32
    assert stats["train_loss"] < stats["first_loss"] - 1.0


# ------------------------------------------------------------------------------------ data


def test_labels_masked_exactly_on_prompt(tokenizer):
    prompt = build_prompt("List the drugs.", "the dose of aspirin")
    enc = encode_example(tokenizer, prompt, "aspirin")
    prompt_ids = tokenizer(prompt)["input_ids"]
    response_ids = tokenizer("aspirin", add_special_tokens=False)["input_ids"]
    n = len(prompt_ids)
    assert enc["input_ids"] == prompt_ids + response_ids + [tokenizer.eos_token_id]
    assert enc["labels"][:n] == [IGNORE_INDEX] * n
    assert enc["labels"][n:] == response_ids + [tokenizer.eos_token_id]


def test_batches_mask_padding(tokenizer):
    exs = [
        {"prompt": build_prompt("List the drugs.", "aspirin"), "response": "aspirin"},
        {"prompt": build_prompt("List the drugs.", "the dose of ibuprofen in children with asthma"), "response": "ibuprofen"},
    ]
    data = InstructionDataModule(tokenizer, exs, batch_size=2, max_length=512, bucketing=False)
    (batch,) = list(data.train_dataloader())
    enc = [encode_example(tokenizer, ex["prompt"], ex["response"]) for ex in exs]
    for ex in enc:
        # the batch order is shuffled: find each example's row by its length
        row = [int(m) for m in batch["attention_mask"].sum(1)].index(len(ex["input_ids"]))
        n = len(ex["input_ids"])
        assert batch["input_ids"][row, :n].tolist() == ex["input_ids"]
        assert batch["labels"][row, :n].tolist() == ex["labels"]
        assert (batch["labels"][row, n:] == IGNORE_INDEX).all()
        assert (batch["attention_mask"][row, n:] == 0).all()
        assert (batch["input_ids"][row, n:] == tokenizer.pad_token_id).all()
    assert batch["input_ids"].shape[1] == max(len(ex["input_ids"]) for ex in enc)


def test_long_examples_are_dropped_and_counted(tokenizer):
    exs = examples(30)
    lengths = [len(encode_example(tokenizer, ex["prompt"], ex["response"])["input_ids"]) for ex in exs]
    limit = sorted(lengths)[len(lengths) // 2]
    data = InstructionDataModule(tokenizer, exs, max_length=limit)
    data.setup()
    assert data.dropped == sum(n > limit for n in lengths) > 0
    assert len(data.dataset) == sum(n <= limit for n in lengths)
    assert max(len(ex["input_ids"]) for ex in data.dataset.encoded) <= limit
    with pytest.raises(ValueError, match="longer than max_length=5"):
        InstructionDataModule(tokenizer, exs, max_length=5).setup()


def test_missing_keys_are_reported(tokenizer):
    with pytest.raises(ValueError, match="example 0 has no 'response'"):
        InstructionDataModule(tokenizer, [{"prompt": "x"}]).setup()


def padding_of(sampler: LengthBatchSampler, lengths: list[int]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in sampler.batches(0))


@pytest.mark.parametrize("bucketing", [True, False])
def test_sampler_covers_every_example_once_and_is_seeded(bucketing):
    lengths = [random.Random(i).randint(5, 200) for i in range(1000)]
    sampler = LengthBatchSampler(lengths, 16, seed=3, bucketing=bucketing, chunk_batches=8)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(1 <= len(b) <= 16 for b in batches)
    assert LengthBatchSampler(lengths, 16, seed=3, bucketing=bucketing, chunk_batches=8).batches(0) == batches
    # the next pass over the data draws a new order
    assert list(sampler) != batches
    assert LengthBatchSampler(lengths, 16, seed=4, bucketing=bucketing, chunk_batches=8).batches(0) != batches


def test_bucketing_pads_less_than_naive_batches():
    rng = random.Random(0)
    lengths = [rng.randint(20, 40) for _ in range(500)] + [rng.randint(60, 160) for _ in range(500)]
    bucketed = padding_of(LengthBatchSampler(lengths, 16, seed=0, bucketing=True), lengths)
    naive = padding_of(LengthBatchSampler(lengths, 16, seed=0, bucketing=False), lengths)
    assert bucketed < naive / 4


def test_bucketed_batches_are_not_a_fixed_length_curriculum():
    lengths = list(range(1000))
    batches = LengthBatchSampler(lengths, 10, seed=0, bucketing=True, chunk_batches=10).batches(0)
    firsts = [lengths[b[0]] for b in batches]
    assert firsts != sorted(firsts)


def test_lr_schedule_warms_up_and_decays():
    f = [lr_factor(s, warmup_steps=5, max_steps=50, schedule="cosine", min_ratio=0.1) for s in range(51)]
    assert all(a < b for a, b in zip(f[:5], f[1:6]))
    assert f[5] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[5:], f[6:]))
    assert f[50] == pytest.approx(0.1)
    lin = [lr_factor(s, warmup_steps=0, max_steps=10, schedule="linear", min_ratio=0.0) for s in range(11)]
    assert lin[5] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="schedule"):
        lr_factor(10, warmup_steps=0, max_steps=10, schedule="step", min_ratio=0.0)
    with pytest.raises(ValueError, match="schedule"):
        CausalLMModule(torch.nn.Linear(2, 2), lr=1e-3, max_steps=10, warmup_steps=5, schedule="step")


# ------------------------------------------------------------------------------------ training


def test_lora_finetune_learns_a_memorisation_task(tokenizer, pretrained):
    model = pretrained_base(tokenizer, pretrained)
    exs = examples(8, seed=5)
    peft_model, stats = finetune_lora(
        model,
        tokenizer,
        exs,
        {"max_steps": 40, "batch_size": 4, "lr": 3e-2, "lora": {"r": 8, "alpha": 16, "dropout": 0.0}, **QUIET},
    )
    assert isinstance(peft_model, peft.PeftModel)
    assert stats["steps"] == 40
    assert stats["train_loss"] < 0.5 * stats["first_loss"]
    assert stats["trained_tokens"] > 0 and stats["tokens_per_s"] > 0
    assert 0.0 <= stats["padding_fraction"] < 1.0
    assert stats["dropped_examples"] == 0
    # only the adapter trains
    base_params = sum(p.numel() for n, p in peft_model.named_parameters() if "lora_" not in n)
    assert 0 < stats["trainable_params"] < base_params


@pytest.mark.parametrize("wrap", ["lora", "lora+head", "plain"])
def test_scored_positions_loss_equals_the_models_own(tokenizer, wrap):
    model = build_model(TINY, tokenizer)
    if wrap.startswith("lora"):
        saved = ["lm_head", "embed_tokens"] if wrap == "lora+head" else None
        config = peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", modules_to_save=saved)
        model = peft.get_peft_model(model, config)
    module = CausalLMModule(model, lr=1e-3, max_steps=1)
    assert module._plain_parts() is not None
    data = InstructionDataModule(tokenizer, examples(12), batch_size=6, bucketing=False)
    model.eval()
    for batch in data.train_dataloader():
        assert (batch["attention_mask"] == 0).any()  # padded rows are part of the check
        with torch.no_grad():
            ours = module.loss(batch)
            theirs = model(**batch).loss
        assert torch.allclose(ours, theirs, atol=1e-5)


def test_lora_with_saved_modules_trains_the_output_layer(tokenizer, pretrained):
    model = pretrained_base(tokenizer, pretrained)
    head = model.get_output_embeddings().weight.detach().clone()
    tuned, stats = finetune_lora(
        model, tokenizer, examples(8), {"max_steps": 3, "lr": 1e-2, "lora": {"modules_to_save": ["lm_head"]}, **QUIET}
    )
    assert not torch.equal(tuned.get_output_embeddings().weight, head)
    # the base's own copy stays as it was, so the adapter can be switched off
    with tuned.disable_adapter():
        assert torch.equal(tuned.get_output_embeddings().weight, head)
    assert stats["trainable_params"] > head.numel()


def test_gradient_accumulation_counts_optimizer_steps(tokenizer):
    model = build_model(TINY, tokenizer)
    _, stats = finetune_lora(model, tokenizer, examples(16), {"max_steps": 3, "batch_size": 4, "grad_accum": 2, **QUIET})
    assert stats["steps"] == 3
    assert stats["micro_batches"] == 6


def test_full_finetune_trains_every_weight(tokenizer):
    model = build_model(TINY, tokenizer)
    before = model.get_input_embeddings().weight.detach().clone()
    tuned, stats = finetune_lora(model, tokenizer, examples(8), {"method": "full", "max_steps": 5, "lr": 1e-2, **QUIET})
    assert tuned is model
    assert stats["trainable_params"] == sum(p.numel() for p in model.parameters())
    assert not torch.equal(before, model.get_input_embeddings().weight)
    with pytest.raises(ValueError, match="method"):
        finetune_lora(model, tokenizer, examples(8), {"method": "prefix", **QUIET})


@pytest.mark.parametrize("modules_to_save", [None, ["lm_head", "embed_tokens"]])
def test_adapter_round_trip_gives_identical_generations(tokenizer, pretrained, tmp_path, modules_to_save):
    exs = examples(8, seed=7)
    cfg = {"max_steps": 15, "batch_size": 4, "lr": 3e-2, "lora": {"modules_to_save": modules_to_save}, **QUIET}
    tuned, _ = finetune_lora(pretrained_base(tokenizer, pretrained), tokenizer, exs, cfg)
    save_adapter(tuned, tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    loaded = load_adapter(pretrained_base(tokenizer, pretrained), tmp_path / "adapter")

    prompts = [ex["prompt"] for ex in examples(6, seed=8)]
    ids = tokenizer(prompts[:1], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        tuned_logits = tuned(input_ids=ids).logits
        loaded_logits = loaded(input_ids=ids).logits
        bare_logits = pretrained_base(tokenizer, pretrained)(input_ids=ids).logits
    assert torch.allclose(tuned_logits, loaded_logits, atol=1e-6)
    # the adapter is not a no-op, so the comparison above says something
    assert not torch.allclose(tuned_logits, bare_logits, atol=1e-3)
    assert generate_responses(loaded, tokenizer, prompts, 12) == generate_responses(tuned, tokenizer, prompts, 12)


def test_infinite_learning_rate_raises_training_diverged(tokenizer):
    model = build_model(TINY, tokenizer)
    with pytest.raises(TrainingDivergedError, match="training loss is nan|training loss is inf"):
        finetune_lora(model, tokenizer, examples(8), {"max_steps": 5, "batch_size": 4, "lr": math.inf, **QUIET})
    assert issubclass(TrainingDivergedError, RuntimeError)


def test_nan_injected_into_the_forward_pass_raises(tokenizer):
    model = build_model(TINY, tokenizer)

    def poison(module, args, output):
        return output * float("nan")

    model.get_output_embeddings().register_forward_hook(poison)
    with pytest.raises(TrainingDivergedError):
        finetune_lora(model, tokenizer, examples(8), {"max_steps": 2, "batch_size": 4, **QUIET})


def test_copy_exercises_append_spans_of_their_own_text():
    from mtlsearch.finetune.base_model import COPY_MARK, with_copy_exercises

    texts = [f"sentence {i} about aspirin and the fever it treats" for i in range(200)] + ["one"]
    assert with_copy_exercises(texts, 0.0) == texts
    mixed = with_copy_exercises(texts, 0.5, seed=3)
    assert mixed == with_copy_exercises(texts, 0.5, seed=3)
    assert mixed != with_copy_exercises(texts, 0.5, seed=4)
    exercised = [m for m in mixed if COPY_MARK in m]
    assert 60 < len(exercised) < 140 and mixed[-1] == "one"
    for original, text in zip(texts, mixed):
        if COPY_MARK not in text:
            assert text == original
            continue
        head, spans = text.split(COPY_MARK)
        assert head == original
        lines = spans.split("\n")
        assert 1 <= len(lines) <= 3
        assert all(line and 1 <= len(line.split()) <= 4 and line in original for line in lines)


def test_a_finetune_without_an_optimizer_step_is_a_failure(tokenizer):
    model = build_model(TINY, tokenizer)
    with pytest.raises(TrainingDivergedError, match="0 optimizer step"):
        finetune_lora(model, tokenizer, examples(8), {"max_steps": 0, "batch_size": 4, **QUIET})
