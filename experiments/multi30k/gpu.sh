#!/usr/bin/env bash
# The translation study's published configurations on one CUDA GPU (10 epochs each, minutes
# per run): Cho et al. (2014) without attention, Bahdanau et al.'s (2015) additive attention
# and Luong et al.'s (2015) general score on Multi30k De->En, then the additive model on En->De
# and En->Fr; then the table, written to experiments/multi30k/gpu.md.
#   bash experiments/multi30k/gpu.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
DATA=${1:-${WORDLAB_DATA:-../shared/data}}
OUT=${OUT:-experiments/multi30k/gpu.md}
P=(trainer=gpu callbacks.progress_bar=null seed=1 "data.path=$DATA/multi30k")
wordlab-train --multirun experiment=mt/cho2014,mt/bahdanau2015,mt/luong2015 "${P[@]}" \
  "sweep_name=mt published de-en"
wordlab-train --multirun experiment=mt/bahdanau2015 "${P[@]}" data.source_field=en \
  data.target_field=de,fr "sweep_name=mt published en-xx"
python "$(dirname "$0")/summarize.py" --save "$(dirname "$0")/runs_gpu.csv" | tee "$OUT"
