#!/usr/bin/env bash
# The GPU part of the language-model study, on one CUDA GPU: Zaremba et al.'s medium LSTM
# (2 x 650, 39 epochs) and the PyTorch example's tied 2 x 650 model (40 epochs) on PTB, and the
# example's defaults on WikiText-2 (40 epochs); then the table, written to experiments/lm/gpu.md.
#   bash experiments/lm/gpu.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${OUT:-experiments/lm/gpu.md}
export WORDLAB_DATA=$DATA
P="trainer=gpu callbacks.progress_bar=null seed=1"
wordlab-train experiment=lm/zaremba_medium $P
wordlab-train experiment=lm/pytorch_example_tied $P
wordlab-train experiment=lm/pytorch_example $P
python "$(dirname "$0")/summarize.py" --save "$(dirname "$0")/runs_gpu.csv" | tee "$OUT"
