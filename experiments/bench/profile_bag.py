"""Where a training step of the bag model (bigrams, IMDB) spends its time, per phase, with
row-wise Adagrad (wordlab's default for the bag model), torch's Adagrad and plain SGD, all on
sparse gradients.

    python experiments/bench/profile_bag.py --data ../shared/data/imdb --steps 40
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time

import datasets
import torch

from wordlab.data import TextDataModule
from wordlab.embeddings import random_embeddings
from wordlab.models import BagEncoder
from wordlab.systems.optimizers import RowwiseAdagrad
from wordlab.tasks.classification import TextClassifier

OPTIMIZERS = {
    "rowwise_adagrad": functools.partial(RowwiseAdagrad, lr=0.1),
    "adagrad": functools.partial(torch.optim.Adagrad, lr=0.1),
    "sgd": functools.partial(torch.optim.SGD, lr=0.5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/imdb")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as cache:
        data = TextDataModule(
            path=args.data, cache_dir=cache, max_length=None, batch_size=args.batch_size
        )
        data.prepare()
        data.layout = "flat"
        embeddings = random_embeddings(data.vocab, embedding_dim=100)
        for name, optimizer_factory in OPTIMIZERS.items():
            encoder = BagEncoder(100, ngrams=2, sparse=True)
            system = TextClassifier(encoder, embeddings, data.label_names, optimizer_factory)
            optimizer = system.configure_optimizers()
            phases = dict.fromkeys(("data", "forward", "backward", "optimizer"), 0.0)
            loader = iter(data.train_dataloader())
            for _ in range(args.steps):
                started = time.perf_counter()
                batch = next(loader)
                loaded = time.perf_counter()
                loss = torch.nn.functional.cross_entropy(system(batch), batch["label"])
                forward = time.perf_counter()
                optimizer.zero_grad()
                loss.backward()
                backward = time.perf_counter()
                optimizer.step()
                done = time.perf_counter()
                for phase, seconds in zip(
                    phases,
                    (loaded - started, forward - loaded, backward - forward, done - backward),
                    strict=True,
                ):
                    phases[phase] += seconds
            per_step = {k: round(1000 * v / args.steps, 1) for k, v in phases.items()}
            epoch = sum(phases.values()) / args.steps * len(data.split("train")) / args.batch_size
            print(
                json.dumps(
                    {"optimizer": name, "ms_per_step": per_step, "epoch_seconds": round(epoch, 1)}
                )
            )


if __name__ == "__main__":
    main()
