"""Which optimizer trains the bag model fastest at fastText's accuracy?

Trains the bag model (bigrams, 100-d, IMDB) for a few epochs in a plain loop (no Lightning, so
only the optimizer differs) with each configuration below, one after another in one process
(``--repeats`` times, in turn), and prints test accuracy and training seconds. Row-wise Adagrad
at batch 256 is wordlab's default, torch's element-wise Adagrad the one before it; SGD with
fastText's linear decay has no per-row state, so its step is far cheaper (see ``profile_bag.py``).

    python experiments/bench/bag_optimizers.py --data ../shared/data/imdb [--epochs 5] [--repeats 1]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import tempfile
import time

import datasets
import torch

from wordlab.data import TextDataModule
from wordlab.embeddings import random_embeddings
from wordlab.models import BagEncoder
from wordlab.systems.optimizers import RowwiseAdagrad
from wordlab.systems.schedules import linear_decay
from wordlab.tasks.classification import TextClassifier

OPTIMIZERS = {
    "rowwise_adagrad": RowwiseAdagrad,
    "adagrad": torch.optim.Adagrad,
    "sgd": torch.optim.SGD,
}
# (optimizer, learning rate, batch size); SGD's rate scales with the batch (mean loss).
CONFIGS = [
    ("rowwise_adagrad", 0.1, 256),
    ("adagrad", 0.1, 256),
    ("sgd", 32.0, 256),
    ("sgd", 6.4, 64),
    ("sgd", 3.2, 32),
]


def run(data: TextDataModule, optimizer: str, lr: float, batch_size: int, epochs: int) -> dict:
    torch.manual_seed(0)
    data.batch_size = batch_size
    factory = functools.partial(OPTIMIZERS[optimizer], lr=lr)
    system = TextClassifier(
        BagEncoder(100, ngrams=2, sparse=True),
        random_embeddings(data.vocab, embedding_dim=100),
        data.label_names,
        factory,
    )
    optim = system.configure_optimizers()
    steps_per_epoch = len(data.train_dataloader())
    schedule = linear_decay(optim, epochs * steps_per_epoch) if optimizer == "sgd" else None
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in data.train_dataloader():
            loss = torch.nn.functional.cross_entropy(system(batch), batch["label"])
            optim.zero_grad()
            loss.backward()
            optim.step()
            if schedule is not None:
                schedule.step()
    seconds = time.perf_counter() - started
    system.eval()
    correct = 0
    with torch.no_grad():
        for batch in data.test_dataloader():
            correct += int((system(batch).argmax(-1) == batch["label"]).sum())
    return {
        "optimizer": optimizer + (" + linear decay" if schedule else ""),
        "lr": lr,
        "batch_size": batch_size,
        "test_acc": round(100 * correct / len(data.split("test")), 2),
        "train_seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/imdb")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as cache:
        data = TextDataModule(path=args.data, cache_dir=cache, max_length=None)
        data.prepare()
        data.layout = "flat"
        for _, (optimizer, lr, batch_size) in itertools.product(range(args.repeats), CONFIGS):
            print(json.dumps(run(data, optimizer, lr, batch_size, args.epochs)), flush=True)


if __name__ == "__main__":
    main()
