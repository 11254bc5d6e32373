#!/usr/bin/env bash
# A small sweep through hydra-ray-launcher on a local Ray cluster, checked in MLflow.
#
#   bash experiments/ray/local_cluster.sh            (from the repository root)
#
# hydra-ray-launcher pins cloudpickle < 3, so it gets its own virtual environment (.venv-ray).
# On a real cluster: `ray start --head` on the head node, `ray start --address=<head>:6379` on
# the others, then run the sweep on the head node with hydra/launcher=ray_cluster.
set -euo pipefail
VENV=${VENV:-.venv-ray}
DATA=${DATA:-../shared/data/trec}
if [ ! -x "$VENV/bin/wordlab-train" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "torch==2.13.0"
  "$VENV/bin/pip" install -q -e ".[ray]"
fi
export WORDLAB_ROOT=${WORDLAB_ROOT:-$(mktemp -d)}
"$VENV/bin/ray" start --head --num-cpus 2 --include-dashboard=false
trap '"$VENV/bin/ray" stop --force' EXIT
time "$VENV/bin/wordlab-train" --multirun hydra/launcher=ray_cluster \
  hydra.launcher.ray.remote.num_gpus=0 hydra.launcher.ray.remote.num_cpus=1 \
  data=local "data.path=$DATA" trainer=cpu trainer.max_epochs=2 seed=1,2
"$VENV/bin/python" - <<'PY'
import os
from mlflow.tracking import MlflowClient

client = MlflowClient(f"sqlite:///{os.environ['WORDLAB_ROOT']}/outputs/mlflow.db")
[parent] = [r for e in client.search_experiments() for r in client.search_runs(
    [e.experiment_id], "tags.`wordlab.sweep` = 'true'")]
children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
print(parent.info.run_name, parent.info.status, [(c.info.run_name, c.info.status, round(c.data.metrics["test/acc"], 3)) for c in children])
assert len(children) == 2 and all(c.info.status == "FINISHED" for c in children)
PY
