#!/usr/bin/env bash
# GPU smoke run of the trainer layer: SFT+LoRA and DPO+LoRA on a small Llama built from a config
# (no downloads), a few hundred steps each, printing tokens/s and peak GPU memory per method.
#
#   bash bench/gpu_smoke.sh                # needs a CUDA GPU and the `train` extra installed
#   PYTHON=python3 SFT_STEPS=300 DPO_STEPS=200 bash bench/gpu_smoke.sh
#   ALLOW_CPU=1 SFT_STEPS=2 DPO_STEPS=2 bash bench/gpu_smoke.sh   # dry run of the script itself on CPU
#
# Everything is written under ${WORK:-bench/data/gpu_smoke}; figures go to stdout and to
# bench/results/gpu_smoke.md. Exits non-zero when there is no GPU or a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
WORK=${WORK:-bench/data/gpu_smoke}
SFT_STEPS=${SFT_STEPS:-300}
DPO_STEPS=${DPO_STEPS:-200}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export HF_DATASETS_CACHE="$WORK/hf-cache" HF_DATASETS_DISABLE_PROGRESS_BARS=1

"$PY" - <<'EOF'
import os, sys, torch
if not torch.cuda.is_available():
    if os.environ.get("ALLOW_CPU") != "1":
        sys.exit("gpu_smoke: no CUDA GPU visible to torch (torch %s)" % torch.__version__)
    print("gpu_smoke: no GPU, dry run on CPU (ALLOW_CPU=1)")
else:
    print("gpu:", torch.cuda.get_device_name(0), "| torch", torch.__version__)
EOF

mkdir -p "$WORK" bench/results
# A ~30M-parameter Llama (hidden 512, 8 layers), a ChatML tokenizer with generation markers,
# 4096 conversations and 2048 preference pairs of 10-30 words a turn.
"$PY" - "$WORK" <<'EOF'
import sys
from pathlib import Path
from train import toy
work = Path(sys.argv[1])
if not (work / "model" / "config.json").is_file():
    toy.make_tokenizer(work / "tokenizer", toy.CHATML_GENERATION)
    toy.make_model(work / "model", work / "tokenizer", hidden=512, layers=8)
if not (work / "conversations" / "manifest.json").is_file():
    toy.make_dataset(work / "conversations", "conversation", 4096, words=(10, 30))
if not (work / "preferences" / "manifest.json").is_file():
    toy.make_dataset(work / "preferences", "preference", 2048, words=(10, 30))
EOF

cat > "$WORK/sft.yaml" <<'EOF'
per_device_train_batch_size: 16
learning_rate: 2.0e-4
logging_steps: 25
gradient_checkpointing: false
lora: {r: 16, lora_alpha: 32}
EOF
cat > "$WORK/dpo.yaml" <<'EOF'
per_device_train_batch_size: 8
learning_rate: 5.0e-5
logging_steps: 25
gradient_checkpointing: false
lora: {r: 16, lora_alpha: 32}
EOF

"$PY" -m train sft --data "$WORK/conversations" --model "$WORK/model" --output-dir "$WORK/run-sft" \
    --lora --max-steps "$SFT_STEPS" --max-length 512 --config "$WORK/sft.yaml"
"$PY" -m train dpo --data "$WORK/preferences" --model "$WORK/model" --output-dir "$WORK/run-dpo" \
    --lora --max-steps "$DPO_STEPS" --max-length 512 --config "$WORK/dpo.yaml"

"$PY" - "$WORK" <<'EOF'
import json, sys
from pathlib import Path
import torch
work = Path(sys.argv[1])
rows = ["| method | steps | steps/s | tokens/s | peak GPU memory MB | final loss |", "|---|---|---|---|---|---|"]
for name in ("sft", "dpo"):
    m = json.loads((work / f"run-{name}" / "curate_train.json").read_text())["metrics"]
    rows.append(f"| {name} + LoRA | {m['global_step']} | {m['train_steps_per_second']:.2f} | "
                f"{m.get('tokens_per_second', 0):.0f} | {m.get('peak_gpu_memory_mb', 0):.0f} | {m['final_loss']:.4f} |")
device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (dry run)"
head = f"# gpu_smoke: {device}, Llama 512x8 built from a config, bf16 on GPU"
text = "\n".join([head, "", *rows, "", "Command: `bash bench/gpu_smoke.sh`"]) + "\n"
Path("bench/results/gpu_smoke.md").write_text(text)
print(text)
EOF
