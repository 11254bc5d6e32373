"""fastText itself on wordlab's splits and tokens, logged to MLflow next to the bag-model runs.

The corpus is prepared by wordlab's data group (same splits, same tokenizer, same cache), written
as fastText training files, and ``fasttext.train_supervised`` runs once per learning rate in a
separate process (``../bench/fasttext_run.py``; fastText cannot train twice in one process). The
learning rate with the best validation accuracy is tested, as Joulin et al. (2016) chose it.
One MLflow run per call, tagged ``study=fasttext``, ``model=fasttext``.

    python experiments/fasttext/run_fasttext.py data=local data.path=../shared/data/trec \\
        --word-ngrams 2 [--seed 1 --epoch 5 --dim 10 --lrs 0.05,0.1,0.25,0.5 --threads 2]

Needs ``pip install fasttext-numpy2``. Arguments without dashes are wordlab config overrides
(those of ``wordlab-baseline``: data, paths, logger).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

from wordlab.config import compose
from wordlab.tracking.mlflow_run import RunRecorder, flatten
from wordlab.tracking.store import get_or_create_experiment

TRAINER = Path(__file__).resolve().parents[1] / "bench" / "fasttext_run.py"


def write_split(data, split: str, path: Path, shuffle: bool) -> None:
    """One ``__label__<class> tokens...`` line per text; class index as label name."""
    lines = [
        f"__label__{label} {' '.join(data.tokenizer(text))}"
        for text, label in zip(data.texts(split), data.split(split).labels.tolist(), strict=True)
    ]
    if shuffle:  # fastText reads in order; some corpora are sorted by label
        random.Random(13).shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--word-ngrams", type=int, default=1)
    parser.add_argument("--epoch", type=int, default=5)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--lrs", default="0.05,0.1,0.25,0.5")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_intermixed_args()
    from hydra.utils import instantiate

    cfg = compose(args.overrides, config_name="baseline")
    data = instantiate(cfg.data)
    data.prepare()
    trials: dict[float, dict] = {}
    failures: dict[float, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        files = {s: Path(folder) / f"{s}.txt" for s in ("train", "validation", "test")}
        for split, path in files.items():
            write_split(data, split, path, shuffle=split == "train")
        for lr in (float(x) for x in args.lrs.split(",")):
            command = [sys.executable, str(TRAINER), "--train", str(files["train"]),
                       "--valid", str(files["validation"]), "--test", str(files["test"]),
                       "--epoch", str(args.epoch), "--dim", str(args.dim), "--lr", str(lr),
                       "--word-ngrams", str(args.word_ngrams), "--threads", str(args.threads),
                       "--seed", str(args.seed)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode == 0:
                trials[lr] = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"lr={lr}: {trials[lr]}")
            else:  # fastText stops with "Encountered NaN." on some small corpora
                failures[lr] = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
                print(f"lr={lr}: fastText failed: {failures[lr]}", file=sys.stderr)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(cfg.logger.tracking_uri)
    experiment = get_or_create_experiment(
        client, cfg.logger.experiment_name, cfg.logger.get("artifact_location")
    )
    name = f"fasttext-{data.name}-ngrams{args.word_ngrams} seed={args.seed}"
    tags = {"study": "fasttext", "model": "fasttext", "task": "fasttext", "dataset": data.name}
    run = client.create_run(experiment, run_name=name, tags=tags)
    recorder = RunRecorder(client, run.info.run_id)
    if not trials:
        error = "; ".join(f"lr {lr}: {message}" for lr, message in failures.items())
        recorder.set_tags({"error": f"fastText failed at every learning rate: {error}"})
        client.set_terminated(run.info.run_id, "FAILED")
        raise SystemExit(f"{name}: fastText failed at every learning rate: {error}")
    best = max(trials, key=lambda lr: trials[lr]["valid_acc"])
    recorder.log_params(
        flatten({"data": OmegaConf.to_container(cfg.data, resolve=True)})
        | {
            "model.ngrams": args.word_ngrams,
            "model.dim": args.dim,
            "model.lrs": args.lrs,
            "model.lr": best,
            "trainer.epoch": args.epoch,
            "trainer.threads": args.threads,
            "seed": args.seed,
            "model.failed_lrs": ",".join(str(lr) for lr in failures) or "none",
        }
    )
    recorder.log_metrics(
        {
            "test/acc": trials[best]["test_acc"],
            "val/acc_best": trials[best]["valid_acc"],
            "time/train_seconds": trials[best]["train_seconds"],
        }
    )
    recorder.finish()
    accuracy = trials[best]["test_acc"]
    print(f"{name}: lr {best}, test acc {accuracy:.4f} (MLflow run {run.info.run_id})")


if __name__ == "__main__":
    main()
