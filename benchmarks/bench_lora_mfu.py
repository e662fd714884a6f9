"""LoRA training throughput and model FLOPs utilisation (MFU) of a Llama-3-8B-shaped model.

The model is built from its configuration with random weights (nothing is downloaded): hidden
4096, 32 layers, 32 attention heads, 8 key/value heads, intermediate 14336, vocabulary 128256,
in bf16, with a LoRA adapter (r 64, alpha 32, dropout 0.1 on q_proj and v_proj, the paper
environment's). Each step is a forward and backward pass over ``--batch`` random sequences of
``--seq`` tokens and an AdamW step on the adapter, under bf16 autocast as the fine-tune's
``bf16-mixed`` precision runs it. The first ``--warmup`` steps are not timed (allocator, kernel
selection).

FLOPs counted per trained token (model FLOPs, the MFU convention: recomputation under gradient
checkpointing is not counted, so MFU stays comparable with and without it):

- frozen weights: 2N for the forward pass plus 2N for the gradient with respect to the
  activations; no weight gradient is computed, so 4N rather than the 6N of full training.
  N counts the frozen matrices that multiply activations (every Linear layer and the output
  layer, not the input embedding, which is a lookup, nor the norms);
- LoRA weights: 6 N_lora (forward, activation gradient, weight gradient);
- attention scores (reported separately, as "with attention"): causal QK^T and AV take
  2 * seq * hidden per token and layer forward and twice that backward, 6 * L * seq * hidden.

MFU divides the achieved FLOP/s by the GPU's dense bf16 peak: 989 TFLOP/s for H100 SXM and
H200, 756 for H100 PCIe, 312 for A100; ``PEAK_TFLOPS`` (environment) overrides it or gives it
for any other device.

``--gradient-checkpointing auto`` runs without it and, when the first step runs out of GPU
memory, retries with it.

Run:  python benchmarks/bench_lora_mfu.py                     # the 8B shape, on CUDA
      python benchmarks/bench_lora_mfu.py --preset tiny --steps 3 --seq 128   # a CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import peft
import torch
import transformers

PRESETS = {
    "llama3-8b": {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "rope_theta": 500000.0,
        "max_position_embeddings": 8192,
    },
    "tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 512,
        "max_position_embeddings": 1024,
    },
}

# dense bf16 peaks (no sparsity) by a substring of torch.cuda.get_device_name(); first match wins
PEAKS_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("GH200", 989.0), ("A100", 312.0))


def peak_tflops(device: torch.device) -> float | None:
    if os.environ.get("PEAK_TFLOPS"):
        return float(os.environ["PEAK_TFLOPS"])
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAKS_TFLOPS if key in name), None)


def build(args, device: torch.device, dtype: torch.dtype):
    settings = {**PRESETS[args.preset]}
    for key, value in (
        ("hidden_size", args.hidden),
        ("num_hidden_layers", args.layers),
        ("num_attention_heads", args.heads),
        ("num_key_value_heads", args.kv_heads),
        ("intermediate_size", args.intermediate),
        ("vocab_size", args.vocab),
    ):
        if value is not None:
            settings[key] = value
    settings["max_position_embeddings"] = max(settings["max_position_embeddings"], args.seq)
    config = transformers.LlamaConfig(**settings, use_cache=False, tie_word_embeddings=False)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    # built in place on the device: initialising 8B weights on the CPU would take minutes
    with torch.device(device):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
    lora = peft.LoraConfig(
        task_type=peft.TaskType.CAUSAL_LM,
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=args.targets.split(","),
    )
    return peft.get_peft_model(model, lora), config


def flops_per_token(model, config, seq: int) -> dict:
    frozen = sum(
        p.numel() for name, p in model.named_parameters()
        if not p.requires_grad and p.ndim == 2 and "embed_tokens" not in name
    )
    lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    weights = 4 * frozen + 6 * lora
    attention = 6 * config.num_hidden_layers * seq * config.num_attention_heads * (
        config.hidden_size // config.num_attention_heads
    )
    return {"frozen_matmul_params": frozen, "lora_params": lora, "weights": weights, "attention": attention}


def run_steps(model, optimizer, batch: torch.Tensor, steps: int, device: torch.device, autocast_dtype) -> float:
    """Seconds for ``steps`` optimizer steps on ``batch``."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    sync()
    if not torch.isfinite(loss.detach()):
        raise RuntimeError(f"the loss is {loss.item()}")
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="llama3-8b")
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--kv-heads", type=int)
    parser.add_argument("--intermediate", type=int)
    parser.add_argument("--vocab", type=int)
    parser.add_argument("--seq", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--lora-r", type=int, default=64)
    parser.add_argument("--lora-alpha", type=float, default=32)
    parser.add_argument("--lora-dropout", type=float, default=0.1)
    parser.add_argument("--targets", default="q_proj,v_proj")
    parser.add_argument("--gradient-checkpointing", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("auto", "bfloat16", "float32"), default="auto",
                        help="weights' dtype; auto: bfloat16 on CUDA, float32 on the CPU")
    parser.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    # transformers 5 and PEFT disagree on the checkpointing API's name: noise in every run
    warnings.filterwarnings("ignore", category=FutureWarning)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    dtype = {"auto": torch.bfloat16 if cuda else torch.float32, "bfloat16": torch.bfloat16,
             "float32": torch.float32}[args.dtype]
    # bf16 autocast as Lightning's bf16-mixed; a CPU smoke run in float32 needs none
    autocast_dtype = torch.bfloat16 if (cuda or dtype == torch.bfloat16) else None

    built = time.perf_counter()
    model, config = build(args, device, dtype)
    model.train()
    build_s = time.perf_counter() - built
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-5)
    generator = torch.Generator().manual_seed(0)
    batch = torch.randint(0, config.vocab_size, (args.batch, args.seq), generator=generator).to(device)

    def enable_checkpointing():
        # transformers 5 renamed it; non-reentrant, so the frozen embeddings' outputs need no grad
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})

    checkpointing = args.gradient_checkpointing == "on"
    if checkpointing:
        enable_checkpointing()
    try:
        run_steps(model, optimizer, batch, max(1, args.warmup), device, autocast_dtype)
    except torch.OutOfMemoryError:
        if args.gradient_checkpointing != "auto":
            raise
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.empty_cache()
        print("out of GPU memory without gradient checkpointing: retrying with it", file=sys.stderr)
        checkpointing = True
        enable_checkpointing()
        run_steps(model, optimizer, batch, max(1, args.warmup), device, autocast_dtype)
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    seconds = run_steps(model, optimizer, batch, args.steps, device, autocast_dtype)

    tokens = args.batch * args.seq * args.steps
    per_token = flops_per_token(model, config, args.seq)
    tokens_per_s = tokens / seconds
    tflops = tokens_per_s * per_token["weights"] / 1e12
    tflops_attention = tokens_per_s * (per_token["weights"] + per_token["attention"]) / 1e12
    peak = peak_tflops(device)
    result = {
        "device": torch.cuda.get_device_name(device) if cuda else "cpu",
        "preset": args.preset,
        "hidden_size": config.hidden_size,
        "layers": config.num_hidden_layers,
        "seq": args.seq,
        "batch": args.batch,
        "dtype": str(dtype).removeprefix("torch."),
        "gradient_checkpointing": checkpointing,
        "steps": args.steps,
        "build_s": round(build_s, 2),
        "step_s": seconds / args.steps,
        "tokens_per_s": tokens_per_s,
        "frozen_matmul_params": per_token["frozen_matmul_params"],
        "lora_params": per_token["lora_params"],
        "model_tflops_per_s": tflops,
        "model_tflops_per_s_with_attention": tflops_attention,
        "peak_tflops": peak,
        "mfu": tflops / peak if peak else None,
        "mfu_with_attention": tflops_attention / peak if peak else None,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if cuda else None,
    }
    print(f"device {result['device']}, {args.preset} shape: hidden {config.hidden_size}, {config.num_hidden_layers} layers, "
          f"seq {args.seq} x batch {args.batch}, {result['dtype']}, LoRA r {args.lora_r} on {args.targets}, "
          f"gradient checkpointing {'on' if checkpointing else 'off'}")
    print(f"frozen matmul params N = {per_token['frozen_matmul_params'] / 1e9:.4g} B, LoRA params "
          f"{per_token['lora_params'] / 1e6:.4g} M; FLOPs/token: 4N + 6N_lora = {per_token['weights'] / 1e9:.4g} G, "
          f"attention {per_token['attention'] / 1e9:.4g} G")
    print(f"{args.steps} timed steps: {result['step_s']:.4g} s/step, {tokens_per_s:,.0f} tokens/s")
    print(f"achieved {tflops:.4g} TFLOP/s (with attention {tflops_attention:.4g})")
    if peak:
        print(f"MFU {result['mfu']:.1%} of {peak:.0f} TFLOP/s bf16 dense (with attention {result['mfu_with_attention']:.1%})")
    else:
        print("MFU n/a: no known peak for this device (set PEAK_TFLOPS)")
    if result["peak_memory_gib"] is not None:
        print(f"peak GPU memory {result['peak_memory_gib']:.1f} GiB")
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
