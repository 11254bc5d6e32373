#!/usr/bin/env bash
# B3 and B6 on one CUDA GPU, in about 5 minutes on an H100/H200, for any machine where wordlab
# is installed:   bash experiments/bench/gpu.sh ../shared/data
# B3: the CNN on SST-2, 5 epochs, batch 64, through wordlab-train against a plain loop.
# B6: samples/s of the CNN, BiLSTM and bag models fed by wordlab's data pipeline against the
#     same batches already on the GPU.
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${2:-experiments/bench/RESULTS_GPU.md}
HERE=$(dirname "$0")
python "$HERE/run.py" --data "$DATA" --only B3 --repeats "${REPEATS:-2}" --results "$OUT"
{
  echo
  echo "B6 (python experiments/bench/pipeline_gpu.py --data $DATA/sst2):"
  echo
  echo '```'
  python "$HERE/pipeline_gpu.py" --data "$DATA/sst2" --steps "${STEPS:-300}"
  echo '```'
} | tee -a "$OUT"
