"""B2/B3 baseline: Kim's CNN trained in a plain PyTorch loop (no Lightning, Hydra or MLflow).

Same encoder class, embedding size, optimizer, batch size and epochs as the wordlab run, on the
same numericalized tensors (exported by ``run.py`` from wordlab's prepared SST-2): random
batches padded to their longest sentence, validation after every epoch, the best epoch's
weights tested at the end. Prints one JSON line.

    python experiments/bench/plain_cnn.py --tensors sst2.pt --epochs 5 --batch-size 50
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from wordlab.models import CNNEncoder


def batches(split: dict, batch_size: int, device: str, generator: torch.Generator | None):
    """Padded (B, T) ids, mask and labels, in random order if a generator is given."""
    n = len(split["labels"])
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    starts, lengths = split["offsets"][:-1], torch.diff(split["offsets"])
    for chunk in order.split(batch_size):
        rows = [
            split["ids"][s : s + k] for s, k in zip(starts[chunk].tolist(), lengths[chunk].tolist())
        ]
        ids = pad_sequence(rows, batch_first=True).to(device, non_blocking=True)
        yield ids, ids != 0, split["labels"][chunk].to(device, non_blocking=True)


class Classifier(nn.Module):
    def __init__(self, vocab_size: int, dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        nn.init.uniform_(self.embedding.weight, -0.25, 0.25)
        self.encoder = CNNEncoder(dim, num_filters=100, kernel_sizes=(3, 4, 5), dropout=0.5)
        self.head = nn.Linear(self.encoder.output_dim, num_classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embedding(ids), mask))


@torch.no_grad()
def accuracy(model: nn.Module, split: dict, batch_size: int, device: str) -> float:
    model.eval()
    right = total = 0
    for ids, mask, labels in batches(split, batch_size, device, None):
        right += int((model(ids, mask).argmax(1) == labels).sum())
        total += len(labels)
    return right / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tensors", required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    data = torch.load(args.tensors)
    model = Classifier(data["vocab_size"], args.dim, data["num_classes"]).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    best, best_state = -1.0, None
    train_seconds = 0.0
    fit_started = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        epoch_start = time.perf_counter()
        for ids, mask, labels in batches(data["train"], args.batch_size, args.device, generator):
            loss = nn.functional.cross_entropy(model(ids, mask), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        train_seconds += time.perf_counter() - epoch_start
        score = accuracy(model, data["validation"], 256, args.device)
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    fit_seconds = time.perf_counter() - fit_started
    model.load_state_dict(best_state)
    test = accuracy(model, data["test"], 256, args.device)
    print(json.dumps({"test_acc": test, "val_acc_best": best, "train_seconds": train_seconds, "fit_seconds": fit_seconds,
                      "seconds": time.perf_counter() - started}))  # fmt: skip


if __name__ == "__main__":
    main()
