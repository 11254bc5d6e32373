#!/usr/bin/env bash
# A 3 models x 3 seeds sweep on SST-2, once with the basic launcher and once with joblib
# (2 jobs at once, the cores divided between them), timed in one go on this machine.
#
#   bash experiments/sweeps/run.sh ../shared/data/sst2
#
# Prints both wall times and each sweep's summary table (summary/summary.md of its parent run).
set -euo pipefail
DATA=${1:-../shared/data/sst2}
export WORDLAB_ROOT=${WORDLAB_ROOT:-$PWD}
COMMON=(data=local "data.path=$DATA" trainer=cpu callbacks.progress_bar=null skip_finished=false
        model=cnn,rnn,bag seed=1,2,3)
# Prepare the data once so neither sweep pays for it.
wordlab-train data=local "data.path=$DATA" trainer=cpu trainer.max_epochs=1 logger=none callbacks.progress_bar=null >/dev/null 2>&1
start=$(date +%s.%N)
wordlab-train --multirun "${COMMON[@]}" "sweep_name=sst2 3x3 basic" >/dev/null 2>&1 || true
basic=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
start=$(date +%s.%N)
wordlab-train --multirun "${COMMON[@]}" hydra/launcher=local_parallel hydra.launcher.n_jobs=2 \
  "sweep_name=sst2 3x3 joblib" >/dev/null 2>&1 || true
joblib=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
echo "wall time: basic ${basic} s, joblib n_jobs=2 ${joblib} s"
for summary in $(ls -t "$WORDLAB_ROOT"/outputs/multiruns/*/*/summary/summary.md | head -2); do
  echo; echo "== $summary"; cat "$summary"
done
