#!/usr/bin/env bash
# The language-model study on the CPU: Zaremba et al.'s small LSTM on PTB (13 epochs, about
# 10 minutes an epoch on one core of the 2-core machine), the same with a GRU, and a domain
# model on IMDB's review text. The medium and tied models and the WikiText-2 example need a GPU:
# experiments/lm/gpu.sh. A run cut short continues with resume=<run id> (see the README).
#
#   bash experiments/lm/run_study.sh && python experiments/lm/summarize.py
set -euo pipefail
P="callbacks.progress_bar=null"
wordlab-train --multirun experiment=lm/zaremba_small seed=1 $P "sweep_name=lm zaremba small"
wordlab-train --multirun experiment=lm/zaremba_small model.cell=gru seed=1 $P \
  "sweep_name=lm zaremba small gru"
