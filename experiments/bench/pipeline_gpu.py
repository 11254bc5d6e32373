"""B6: training samples/s of the CNN, BiLSTM and bag models fed by wordlab's data pipeline
(its DataLoader, host-to-device copies included), against the same batches already on the
device. The same training step (forward, loss, backward, optimizer) runs in both; the ratio
isolates what the pipeline costs. Alternates A and B. Prints one JSON line per model.

    python experiments/bench/pipeline_gpu.py --data ../shared/data/sst2 --steps 300
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time

import torch

from wordlab.data import TextDataModule
from wordlab.embeddings import random_embeddings
from wordlab.models import BagEncoder, CNNEncoder, RNNEncoder
from wordlab.tasks.classification import TextClassifier

ENCODERS = {
    "cnn": lambda dim: CNNEncoder(dim),
    "bilstm": lambda dim: RNNEncoder(dim, hidden_dim=128, bidirectional=True),
    "bag": lambda dim: BagEncoder(dim, ngrams=2, sparse=True),
}
OPTIMIZERS = {"cnn": torch.optim.Adam, "bilstm": torch.optim.Adam, "bag": torch.optim.Adagrad}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_steps(system, optimizer, batches, device: str) -> float:
    """Samples per second over the given batches."""
    sync(device)
    started = time.perf_counter()
    samples = 0
    for batch in batches:
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        loss = torch.nn.functional.cross_entropy(system(batch), batch["label"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        samples += len(batch["label"])
    sync(device)
    return samples / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/sst2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = args.device
    with tempfile.TemporaryDirectory() as cache:
        data = TextDataModule(
            path=args.data, cache_dir=cache, batch_size=args.batch_size, pin_memory=True
        )
        data.prepare()
        for name, make in ENCODERS.items():
            embeddings = random_embeddings(data.vocab, embedding_dim=128)
            encoder = make(embeddings.embedding_dim)
            system = TextClassifier(encoder, embeddings, data.label_names, OPTIMIZERS[name]).to(
                device
            )
            optimizer = system.configure_optimizers()
            data.layout = encoder.input_layout
            data._tensors.clear()

            def pipeline():
                epochs = itertools.chain.from_iterable(
                    data.train_dataloader() for _ in itertools.count()
                )
                return itertools.islice(epochs, args.steps)

            resident = [{k: v.to(device) for k, v in b.items()} for b in pipeline()]
            run_steps(system, optimizer, resident[:20], device)  # warm up kernels and allocator
            a, b = [], []
            for _ in range(args.repeats):
                a.append(run_steps(system, optimizer, pipeline(), device))
                b.append(run_steps(system, optimizer, resident, device))
            result = {
                "model": name,
                "pipeline_samples_per_s": statistics.median(a),
                "resident_samples_per_s": statistics.median(b),
                "ratio": statistics.median(a) / statistics.median(b),
                "spread_a": [min(a), max(a)],
                "spread_b": [min(b), max(b)],
            }
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
