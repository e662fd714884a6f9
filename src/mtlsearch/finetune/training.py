"""Instruction tuning: the data module, the training module, and :func:`finetune_lora`.

An example is ``{"prompt": str, "response": str}``. It is encoded as the prompt's tokens (as the
tokenizer encodes a prompt at generation time, ``<s>`` included), then the response's tokens and
``</s>``. The loss is taken on the response tokens and ``</s>`` only.

Long examples: an example longer than ``max_length`` tokens is dropped, not truncated. Cutting
the input text while keeping the whole gold response would teach the model to answer with items
it cannot see (entities of the cut-off words), and cutting the response would teach it to stop
early; the number dropped is reported (``dropped_examples``) so that ``max_length`` can be set
to keep nearly all of them.

LoRA on a small base built from a configuration: with the output layer and the embeddings
frozen, LoRA learns little on a briefly pretrained few-million-parameter base (on a
healthadvice+bc5cdr mixture it only learns to answer the majority class), because those
layers are a large share of such a model and were trained least. Listing them in
``lora.modules_to_save`` trains them in full next to the adapter (and saves them with it); that
learns about as well as full fine-tuning (``method: full``, also offered). A large named
checkpoint needs neither.

Batching: examples are padded to the longest in their batch. With ``bucketing`` the order is
drawn so that a batch holds examples of similar length: a seeded shuffle, then sorting within
chunks of ``bucket_chunk_batches`` batches, then shuffling the batches. Without it, batches are
plain random draws (the reference the batching benchmark compares with).
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import peft
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

from mtlsearch.errors import ConfigError

log = logging.getLogger(__name__)

IGNORE_INDEX = -100

DEFAULT_LORA = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}

# Architectures whose logits are exactly the output layer applied to the decoder's last hidden
# state (no logit scaling or soft-capping), so the loss may apply that layer to the scored
# positions only.
PLAIN_HEAD_MODELS = (
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen3ForCausalLM",
    "Phi3ForCausalLM",
)


SCHEDULES = ("cosine", "linear", "constant")

# "paged_adamw_8bit" is QLoRA's optimizer: 8-bit moments, paged to CPU memory on a GPU memory peak
OPTIMIZERS = ("adamw", "paged_adamw_8bit")


def bitsandbytes_support() -> dict[str, bool]:
    """Whether this machine has what 4-bit weights and the paged 8-bit optimizer need."""
    import importlib.util

    return {"cuda": torch.cuda.is_available(), "bitsandbytes": importlib.util.find_spec("bitsandbytes") is not None}


def optimizer_class(name: str, setting: str = "finetune.optimizer"):
    """The optimizer class ``name`` stands for; ConfigError naming ``setting`` when this machine
    cannot run it (no silent fall-back: the optimizer changes what the training does)."""
    if name == "adamw":
        return torch.optim.AdamW
    if name == "paged_adamw_8bit":
        found = bitsandbytes_support()
        if not all(found.values()):
            raise ConfigError(
                f"{setting}: paged_adamw_8bit needs CUDA and bitsandbytes (found: cuda={found['cuda']}, "
                f"bitsandbytes={found['bitsandbytes']}); set {setting}=adamw to use torch's AdamW"
            )
        import bitsandbytes.optim

        return bitsandbytes.optim.PagedAdamW8bit
    raise ConfigError(f"{setting}: expected one of {list(OPTIMIZERS)}, got {name!r}")


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


def resolve_precision(precision: str | None) -> str:
    """Lightning's precision setting; ``"auto"`` is bf16-mixed on CUDA and 32-true elsewhere."""
    if precision in (None, "auto"):
        return "bf16-mixed" if torch.cuda.is_available() else "32-true"
    return str(precision)


def trainer_kwargs(
    *,
    max_steps: int,
    accumulate_grad_batches: int,
    precision: str,
    progress_bar: bool,
    gradient_clip_val: float | None,
) -> dict:
    """The ``lightning.Trainer`` settings shared by pretraining and fine-tuning."""
    return {
        "max_steps": max_steps,
        # the step budget alone ends training, however many passes over the data it takes
        "max_epochs": -1,
        "accumulate_grad_batches": accumulate_grad_batches,
        "precision": precision,
        "gradient_clip_val": gradient_clip_val,
        "enable_checkpointing": False,
        "logger": False,
        "devices": 1,
        "enable_progress_bar": progress_bar,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "limit_val_batches": 0,
    }


# --------------------------------------------------------------------------------------- data


def encode_example(tokenizer, prompt: str, response: str) -> dict[str, list[int]]:
    """Token ids and labels of one example; labels are ``IGNORE_INDEX`` on the prompt."""
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no eos token: responses could never end")
    prompt_ids = tokenizer(prompt)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return {
        "input_ids": prompt_ids + response_ids,
        "labels": [IGNORE_INDEX] * len(prompt_ids) + response_ids,
    }


class EncodedExamples(Dataset):
    def __init__(self, encoded: list[dict[str, list[int]]]):
        self.encoded = encoded

    def __len__(self) -> int:
        return len(self.encoded)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.encoded[i]


class LengthBatchSampler(Sampler[list[int]]):
    """Seeded batches of indices; with ``bucketing``, of examples of similar length.

    Each pass draws a new order (seeded by ``seed`` and the pass number), so runs repeat
    exactly. Bucketing sorts by length only within chunks of ``chunk_batches`` batches of a
    shuffled order, so batches stay random draws of the data rather than a fixed
    short-to-long curriculum, and then shuffles the batches.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        seed: int = 0,
        bucketing: bool = True,
        chunk_batches: int = 64,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.bucketing = bucketing
        self.chunk_batches = chunk_batches
        self.epoch = 0

    def __len__(self) -> int:
        if not self.bucketing:
            return math.ceil(len(self.lengths) / self.batch_size)
        chunk = self.batch_size * self.chunk_batches
        full, rest = divmod(len(self.lengths), chunk)
        return full * self.chunk_batches + math.ceil(rest / self.batch_size)

    def batches(self, epoch: int) -> list[list[int]]:
        rng = random.Random(f"{self.seed}:{epoch}")
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        if not self.bucketing:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        chunk = self.batch_size * self.chunk_batches
        batches = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start : start + chunk], key=self.lengths.__getitem__)
            batches.extend(part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size))
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches(self.epoch)
        self.epoch += 1
        return iter(batches)


def pad_collate(pad_id: int):
    """A collate function padding a batch on the right to its longest example."""

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(ex["input_ids"]) for ex in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ex in enumerate(batch):
            n = len(ex["input_ids"])
            input_ids[row, :n] = torch.tensor(ex["input_ids"])
            labels[row, :n] = torch.tensor(ex["labels"])
            attention_mask[row, :n] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}

    return collate


class InstructionDataModule(L.LightningDataModule):
    """Instruction examples, encoded, length-filtered and batched for causal-LM training."""

    def __init__(
        self,
        tokenizer,
        examples: Sequence[Mapping[str, str]],
        *,
        batch_size: int = 16,
        max_length: int = 256,
        seed: int = 0,
        bucketing: bool = True,
        bucket_chunk_batches: int = 64,
    ):
        super().__init__()
        self.tokenizer = tokenizer
        self.examples = examples
        self.batch_size = batch_size
        self.max_length = max_length
        self.seed = seed
        self.bucketing = bucketing
        self.bucket_chunk_batches = bucket_chunk_batches
        self.dataset: EncodedExamples | None = None
        self.dropped = 0

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        encoded, dropped = [], 0
        for i, ex in enumerate(self.examples):
            try:
                enc = encode_example(self.tokenizer, ex["prompt"], ex["response"])
            except KeyError as exc:
                raise ValueError(f"example {i} has no {exc.args[0]!r}: expected keys 'prompt' and 'response'") from exc
            if len(enc["input_ids"]) > self.max_length:
                dropped += 1
                continue
            encoded.append(enc)
        if not encoded:
            raise ValueError(
                f"all {len(self.examples)} examples are longer than max_length={self.max_length} tokens"
            )
        if dropped:
            log.info("dropped %d of %d examples longer than %d tokens", dropped, len(self.examples), self.max_length)
        self.dataset, self.dropped = EncodedExamples(encoded), dropped

    def batch_sampler(self) -> LengthBatchSampler:
        self.setup()
        return LengthBatchSampler(
            [len(ex["input_ids"]) for ex in self.dataset.encoded],
            self.batch_size,
            seed=self.seed,
            bucketing=self.bucketing,
            chunk_batches=self.bucket_chunk_batches,
        )

    def train_dataloader(self) -> DataLoader:
        self.setup()
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self.tokenizer.eos_token_id
        # the padded positions are masked everywhere, so any id does; the eos id always exists
        return DataLoader(self.dataset, batch_sampler=self.batch_sampler(), collate_fn=pad_collate(pad_id))


# ------------------------------------------------------------------------------------ training


def lr_factor(step: int, *, warmup_steps: int, max_steps: int, schedule: str, min_ratio: float) -> float:
    """Learning-rate multiplier: linear warmup, then cosine or linear decay to ``min_ratio``."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    if schedule == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif schedule == "linear":
        decay = 1.0 - progress
    else:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    return min_ratio + (1.0 - min_ratio) * decay


class CausalLMModule(L.LightningModule):
    """Causal-LM training of a Hugging Face model (a PEFT LoRA model or a plain one).

    Only parameters with ``requires_grad`` are optimized (the adapter weights of a PEFT model).
    Counts the tokens it trains on and raises :class:`TrainingDivergedError` on a loss that is
    not finite.

    The loss is the model's own (mean cross-entropy over labelled tokens). For the
    architectures of ``PLAIN_HEAD_MODELS`` it is computed with the output layer applied only to
    the positions that have a label: in instruction tuning most positions are prompt or
    padding, and the output layer over a whole vocabulary is a large share of a small model's
    compute.
    """

    def __init__(
        self,
        model,
        *,
        lr: float,
        max_steps: int,
        warmup_steps: int = 0,
        weight_decay: float = 0.0,
        schedule: str = "cosine",
        min_lr_ratio: float = 0.1,
        optimizer: str = "adamw",
    ):
        super().__init__()
        self.model = model
        # resolved now, so that an optimizer this machine lacks fails before any training
        self.optimizer_class = optimizer_class(optimizer)
        self.lr = lr
        self.max_steps = max_steps
        self.warmup_steps = warmup_steps
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.min_lr_ratio = min_lr_ratio
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        self.losses: list[float] = []
        self.trained_tokens = 0
        self.padded_positions = 0
        self.total_positions = 0
        self._fit_start: float | None = None
        self.train_seconds = 0.0

    def _plain_parts(self):
        inner = self.model.get_base_model() if isinstance(self.model, peft.PeftModel) else self.model
        if type(inner).__name__ not in PLAIN_HEAD_MODELS:
            return None
        return inner.get_decoder(), inner.get_output_embeddings()

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy of the next token over the positions whose label is set."""
        parts = self._plain_parts()
        if parts is None:
            return self.model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]
            ).loss
        decoder, head = parts
        hidden = decoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        targets = batch["labels"][:, 1:]
        keep = targets != IGNORE_INDEX
        logits = head(hidden[:, :-1][keep]).float()
        return F.cross_entropy(logits, targets[keep])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        value = loss.detach().float().item()
        if not math.isfinite(value):
            raise TrainingDivergedError(
                f"training loss is {value} at optimizer step {self.global_step} (micro-batch {batch_idx}); "
                f"lower the learning rate (lr={self.lr}) or check the data"
            )
        real = int(batch["attention_mask"].sum())
        self.losses.append(value)
        self.trained_tokens += real
        self.total_positions += batch["attention_mask"].numel()
        self.padded_positions += batch["attention_mask"].numel() - real
        elapsed = time.perf_counter() - self._fit_start if self._fit_start else 0.0
        self.log("train_loss", value, prog_bar=True, on_step=True, batch_size=len(batch["input_ids"]))
        if elapsed > 0:
            self.log("tokens_per_s", self.trained_tokens / elapsed, prog_bar=True, on_step=True)
        return loss

    def on_train_start(self) -> None:
        self._fit_start = time.perf_counter()

    def on_train_end(self) -> None:
        if self._fit_start is not None:
            self.train_seconds = time.perf_counter() - self._fit_start

    def configure_optimizers(self):
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters")
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        # norms and biases keep their scale: weight decay applies to matrices only
        groups = [{"params": decay, "weight_decay": self.weight_decay}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        optimizer = self.optimizer_class(groups, lr=self.lr)

        def factor(step: int) -> float:
            return lr_factor(
                step,
                warmup_steps=self.warmup_steps,
                max_steps=self.max_steps,
                schedule=self.schedule,
                min_ratio=self.min_lr_ratio,
            )

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def summary(self) -> dict:
        """Figures of the run so far; ``train_loss`` is the mean of the last 10% of micro-batches."""
        tail = self.losses[-max(1, len(self.losses) // 10) :] if self.losses else [float("nan")]
        return {
            "train_loss": sum(tail) / len(tail),
            "first_loss": self.losses[0] if self.losses else float("nan"),
            "tokens_per_s": self.trained_tokens / self.train_seconds if self.train_seconds else 0.0,
            "steps": int(self.global_step),
            "micro_batches": len(self.losses),
            "trained_tokens": self.trained_tokens,
            "padding_fraction": self.padded_positions / self.total_positions if self.total_positions else 0.0,
            "loss_curve": self.loss_curve(),
        }

    def loss_curve(self, points: int = 200) -> list[list[float]]:
        """``[micro-batch, loss]`` pairs, at most ``points`` of them (each the mean of its stretch),
        for the training-loss chart of the evaluation's run."""
        if not self.losses:
            return []
        width = max(1, math.ceil(len(self.losses) / points))
        return [[float(start + width), float(sum(chunk) / len(chunk))]
                for start in range(0, len(self.losses), width) for chunk in [self.losses[start:start + width]]]


@contextmanager
def _quiet_lightning(quiet: bool):
    # without a progress bar the caller wants a quiet run: Lightning's start-up notices
    # (accelerator found, tips) are repeated on every fit otherwise
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    saved = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(saved)


def fit(module: CausalLMModule, loader_or_datamodule, cfg: Mapping, *, accumulate_grad_batches: int = 1) -> dict:
    """Run ``lightning.Trainer.fit`` on ``module``; its summary plus ``wall_s`` (setup included)."""
    quiet = not bool(cfg.get("progress_bar", True))
    with _quiet_lightning(quiet):
        return _fit(module, loader_or_datamodule, cfg, accumulate_grad_batches)


def _fit(module: CausalLMModule, loader_or_datamodule, cfg: Mapping, accumulate_grad_batches: int) -> dict:
    trainer = L.Trainer(
        **trainer_kwargs(
            max_steps=module.max_steps,
            accumulate_grad_batches=accumulate_grad_batches,
            precision=resolve_precision(cfg.get("precision", "auto")),
            progress_bar=bool(cfg.get("progress_bar", True)),
            gradient_clip_val=cfg.get("grad_clip", 1.0),
        )
    )
    start = time.perf_counter()
    module.model.train()
    with warnings.catch_warnings():
        # a single-process loader is the right choice for data already in memory
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        if isinstance(loader_or_datamodule, L.LightningDataModule):
            trainer.fit(module, datamodule=loader_or_datamodule)
        else:
            trainer.fit(module, train_dataloaders=loader_or_datamodule)
    module.model.eval()
    stats = module.summary()
    stats["wall_s"] = time.perf_counter() - start
    if stats["steps"] == 0 or not math.isfinite(stats["train_loss"]):
        # an untrained model would still be scored: its scores must never pass for a result
        raise TrainingDivergedError(
            f"training took {stats['steps']} optimizer step(s) with loss {stats['train_loss']}; "
            "expected at least one step with a finite loss"
        )
    return stats


def finetune_lora(model, tokenizer, examples: Sequence[Mapping[str, str]], cfg: Mapping | None = None):
    """Instruction-tune ``model`` with LoRA on ``examples``; returns ``(peft_model, stats)``.

    The adapter is injected into ``model`` itself (PEFT does so in place): pass a fresh base,
    or a copy, for each run. ``cfg`` keys, each optional:

    - ``lora``: ``{r: 16, alpha: 32, dropout: 0.05, target_modules: "all-linear",
      modules_to_save: null}``; ``modules_to_save`` (e.g. ``[lm_head]``) names modules trained
      in full next to the adapter and saved with it
    - ``lr`` (2e-3), ``max_steps`` (100), ``batch_size`` (16), ``grad_accum`` (1),
      ``max_length`` (256 tokens; longer examples are dropped), ``seed`` (0)
    - ``precision``: "auto" (bf16-mixed on CUDA, 32-true on CPU) or any Lightning precision
    - ``bucketing`` (True), ``warmup_steps`` (max_steps // 10), ``schedule`` ("cosine";
      "linear", "constant"), ``weight_decay`` (0.0), ``grad_clip`` (1.0: the largest gradient
      norm, Lightning's ``gradient_clip_val``; null for none), ``progress_bar`` (True)
    - ``optimizer``: "adamw" (default, ``torch.optim.AdamW``) or "paged_adamw_8bit"
      (``bitsandbytes.optim.PagedAdamW8bit``; needs CUDA and bitsandbytes, else ConfigError)
    - ``method``: "lora" (default) or "full" (all weights trained; ``model`` itself is returned)

    Stats: train_loss, first_loss, tokens_per_s (non-padding tokens per second of the training
    loop), wall_s, steps (optimizer steps), trained_tokens, padding_fraction,
    dropped_examples, trainable_params.
    """
    cfg = dict(cfg or {})
    method = cfg.get("method", "lora")
    optimizer = str(cfg.get("optimizer", "adamw"))
    # before the adapter is injected: a wrong setting must leave the caller's model untouched
    optimizer_class(optimizer)
    max_steps = int(cfg.get("max_steps", 100))
    seed = int(cfg.get("seed", 0))
    L.seed_everything(seed, verbose=False)
    if method == "lora":
        lora = {**DEFAULT_LORA, **dict(cfg.get("lora") or {})}
        lora_config = peft.LoraConfig(
            task_type=peft.TaskType.CAUSAL_LM,
            r=int(lora["r"]),
            lora_alpha=float(lora["alpha"]),
            lora_dropout=float(lora["dropout"]),
            target_modules=lora["target_modules"],
            modules_to_save=list(lora["modules_to_save"]) if lora.get("modules_to_save") else None,
        )
        model = peft.get_peft_model(model, lora_config)
    elif method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
    else:
        raise ValueError(f"method must be 'lora' or 'full', got {method!r}")
    data = InstructionDataModule(
        tokenizer,
        examples,
        batch_size=int(cfg.get("batch_size", 16)),
        max_length=int(cfg.get("max_length", 256)),
        seed=seed,
        bucketing=bool(cfg.get("bucketing", True)),
        bucket_chunk_batches=int(cfg.get("bucket_chunk_batches", 64)),
    )
    data.setup()
    module = CausalLMModule(
        model,
        lr=float(cfg.get("lr", 2e-3)),
        max_steps=max_steps,
        warmup_steps=int(cfg.get("warmup_steps", max(1, max_steps // 10))),
        weight_decay=float(cfg.get("weight_decay", 0.0)),
        schedule=str(cfg.get("schedule", "cosine")),
        optimizer=optimizer,
    )
    stats = fit(module, data, cfg, accumulate_grad_batches=int(cfg.get("grad_accum", 1)))
    stats["dropped_examples"] = data.dropped
    stats["trainable_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return model, stats


def save_adapter(model: peft.PeftModel, path: str | Path) -> Path:
    """Write the LoRA adapter (weights and config, not the base) to the folder ``path``."""
    path = Path(path)
    model.save_pretrained(path)
    return path


def load_adapter(base_model, path: str | Path) -> peft.PeftModel:
    """The base model with the adapter saved at ``path``, ready for inference."""
    model = peft.PeftModel.from_pretrained(base_model, str(path), is_trainable=False)
    model.eval()
    return model
