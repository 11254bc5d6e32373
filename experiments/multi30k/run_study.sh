#!/usr/bin/env bash
# The translation study on the CPU: mt/cpu_small (a bidirectional GRU of 128 with additive
# attention, 6.4M parameters) on Multi30k De->En, 10 epochs, about 8-10 minutes an epoch on one
# core of a 2-core machine. The published configurations need a GPU: experiments/multi30k/gpu.sh.
# A run cut short continues with wordlab-train resume=<run id>.
#   bash experiments/multi30k/run_study.sh [DATA_DIR] && python experiments/multi30k/summarize.py
set -euo pipefail
DATA=${1:-${WORDLAB_DATA:-../shared/data}}
wordlab-train --multirun experiment=mt/cpu_small "data.path=$DATA/multi30k" seed=1 \
  callbacks.progress_bar=null "sweep_name=mt cpu_small"
