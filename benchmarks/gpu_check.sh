#!/usr/bin/env bash
# The GPU check: the evaluate pipeline in bf16 on a small combination, the LoRA throughput / MFU
# benchmark of a Llama-3-8B-shaped model, and the loader's tests (the 4-bit one runs only where
# CUDA and bitsandbytes are both present). Without CUDA it runs a smoke version of the same in a
# few minutes on a CPU: a tiny benchmark shape and a few training steps.
#
#   benchmarks/gpu_check.sh [RAW_DIR]
#
# RAW_DIR: a raw-data folder (see README "Raw data"); the combination is then $DATASETS
# (default healthadvice). Without it a small synthetic classification dataset in the
# canonical_jsonl format is written and evaluated. The pipeline runs in a temporary copy of the
# project (configuration, data/, MLflow store), so the project's own stores stay untouched;
# KEEP_WORK=1 keeps that copy for inspection.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mtlsearch-gpu-check.XXXXXX")"
if [[ "${KEEP_WORK:-0}" == 1 ]]; then
  echo "work folder: $work"
else
  trap 'rm -rf "$work"' EXIT
fi
export KEDRO_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 PYTHONDONTWRITEBYTECODE=1

read -r cuda bnb device < <(python - <<'EOF'
import importlib.util
import torch
cuda = torch.cuda.is_available()
print(int(cuda), int(importlib.util.find_spec("bitsandbytes") is not None),
      torch.cuda.get_device_name(0).replace(" ", "_") if cuda else "cpu")
EOF
)
echo "== device: ${device//_/ } (cuda=$cuda, bitsandbytes=$bnb)"

# ---------------------------------------------------------------- a project copy in $work
project="$work/project"
mkdir -p "$project/src" "$project/conf"
cp "$repo/pyproject.toml" "$project/"
cp -r "$repo/conf/base" "$repo/conf/logging.yml" "$project/conf/"
mkdir -p "$project/conf/local"
for layer in 01_raw 02_intermediate 03_primary 04_feature 05_model_input 06_models 07_model_output 08_reporting; do
  mkdir -p "$project/data/$layer"
done
export MLFLOW_TRACKING_URI="sqlite:///$project/mlflow.db"

if [[ $# -ge 1 ]]; then
  raw="$(cd "$1" && pwd)"
  datasets="${DATASETS:-healthadvice}"
else
  raw="$work/raw"
  datasets=synthetic
  mkdir -p "$raw/synthetic"
  # deterministic and learnable: the label follows the modal verb of the sentence
  python - "$raw/synthetic" <<'EOF'
import json, random, sys
from pathlib import Path
rng = random.Random(0)
drugs = ["aspirin", "ibuprofen", "metformin", "statins", "insulin", "warfarin"]
people = ["patients", "adults", "children", "clinicians", "older adults"]
kinds = [("should", "strong advice"), ("may", "weak advice"), ("were given", "no advice")]
for split, n in (("train", 80), ("dev", 10), ("test", 20)):
    with open(Path(sys.argv[1]) / f"{split}.jsonl", "w") as f:
        for i in range(n):
            verb, label = kinds[i % 3]
            text = f"{rng.choice(people).capitalize()} {verb} {rng.choice(drugs)} after {rng.randint(2, 90)} days."
            f.write(json.dumps({"text": text, "items": [label], "split": split, "id": f"{split}{i}"}) + "\n")
EOF
  cat > "$project/conf/local/parameters_synthetic.yml" <<'EOF'
ingestion:
  datasets:
    synthetic:
      task: tc
      reader: canonical_jsonl
      path: synthetic
      files: {all: "*.jsonl"}
      split: {policy: official}
formatting:
  instructions:
    synthetic: Classify the health advice the sentence gives. Answer no advice, weak advice or strong advice.
EOF
fi
export MTLSEARCH_RAW_DIR="$raw"

if [[ "$cuda" == 1 ]]; then
  params="evaluate.datasets=$datasets,finetune.precision=bf16-mixed,finetune.max_steps=200"
  params+=",finetune.progress_bar=false,model.pretrain.progress_bar=false"
  bench=(--preset llama3-8b --seq 4096 --batch 1 --steps 10 --warmup 3)
else
  # the tests' scale: a few steps of each stage, minutes on two cores
  params="evaluate.datasets=$datasets,finetune.max_steps=5,finetune.warmup_steps=1,model.pretrain.max_steps=5"
  params+=",formatting.mixture.budget=40,formatting.evaluation.max_examples=8"
  params+=",finetune.progress_bar=false,model.pretrain.progress_bar=false"
  bench=(--preset tiny --seq 128 --batch 1 --steps 5 --warmup 2)
fi

# ---------------------------------------------------------------- (a) the evaluate pipeline
echo "== evaluate pipeline: $datasets (raw data: $raw)"
start=$SECONDS
if ! (cd "$project" && kedro run --pipeline evaluate --params "$params") >"$work/evaluate.log" 2>&1; then
  tail -n 60 "$work/evaluate.log"
  echo "the evaluate pipeline failed (log above)" >&2
  exit 1
fi
echo "   finished in $((SECONDS - start)) s"
python - "$project/data/08_reporting" <<'EOF'
import json, sys
from pathlib import Path
reporting = Path(sys.argv[1])
def latest(name):
    # versioned datasets: <name>/<timestamp>/<name>
    return json.loads(sorted((reporting / name).glob(f"*/{name}"))[-1].read_text())
stats, metrics = latest("training_stats.json"), latest("evaluation_metrics.json")
keys = ("steps", "train_loss", "first_loss", "tokens_per_s", "wall_s", "generated_tokens_per_s", "scoring_wall_s")
print("   training:", ", ".join(f"{k} {stats[k]:.4g}" if isinstance(stats[k], float) else f"{k} {stats[k]}"
                                for k in keys if k in stats))
def show(prefix, values):
    # {dataset: metrics}, possibly nested under a split: print every level that holds numbers
    numbers = {k: v for k, v in values.items() if isinstance(v, (int, float))}
    if numbers:
        print(f"   {prefix}:", ", ".join(f"{k} {v:.4g}" for k, v in numbers.items()))
    for key, inner in values.items():
        if isinstance(inner, dict):
            show(f"{prefix} {key}".strip(), inner)
show("", metrics)
EOF

# ---------------------------------------------------------------- (b) LoRA throughput and MFU
echo "== LoRA throughput / MFU: ${bench[*]}"
if ! python "$repo/benchmarks/bench_lora_mfu.py" "${bench[@]}" >"$work/bench.out" 2>"$work/bench.log"; then
  tail -n 40 "$work/bench.log"
  echo "the benchmark failed (log above)" >&2
  exit 1
fi
# the last line is the same figures as JSON, for machines
sed 's/^/   /' "$work/bench.out" | grep -v '^   {' 

# ---------------------------------------------------------------- (c) the one loader
echo "== loader tests (the 4-bit fine-tune runs where CUDA and bitsandbytes are present)"
if ! (cd "$repo" && python -m pytest tests/finetune/test_loader.py -q -p no:cacheprovider -rs) >"$work/tests.log" 2>&1; then
  tail -n 60 "$work/tests.log"
  echo "the loader tests failed (log above)" >&2
  exit 1
fi
grep -E "passed|failed|SKIPPED" "$work/tests.log" | sed 's/^/   /'
echo "== gpu_check: done in $SECONDS s"
