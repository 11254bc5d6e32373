"""Where a training window of B10 spends its time: wordlab's language model with and without
Lightning against the example's model, on the same windows, each variant in a fresh process.

    python experiments/bench/profile_lm.py --data ../shared/data [--tokens 150000] \
        [--windows 60] [--rounds 2] [--threads 1] [--variants example,wordlab_loop,...]
    python experiments/bench/profile_lm.py --data ../shared/data --cprofile lightning_mlflow

The corpus is B10's: the first ``--tokens`` tokens of PTB's training text (written to a
scratch folder; ``--corpus`` names a folder with ``train.txt``, ``validation.txt`` and
``test.txt`` instead). Every variant builds the data module and ``LanguageModel`` through
``wordlab.train.build`` with ``language_model.SETTINGS`` (the model, vocabulary and windows of
B10's A), then trains on the first ``--windows`` training windows of epoch 0, one torch thread.
Each (round, variant) runs in a process of its own, the variants taking turns: run in one
process one after another, they share the allocator's state and show the same CPU time, which
hides the cost that separates A from B (the kernel zero-filling pages that malloc gave back and
takes again: system time and minor page faults). Reported per window: wall ms, user and
system CPU ms, minor page faults.

- ``example``: ``plain_lm.RNNModel`` (sequence-first LSTM, ``log_softmax`` + ``NLLLoss``), the
  windows transposed to (T, B); the loop of ``plain_lm.py``.
- ``example_batch_first``: the same with ``batch_first=True`` and (B, T) windows, as wordlab's.
- ``example_none``: the example with ``cross_entropy(reduction="none")`` and then the mean, as
  wordlab's ``window_losses`` computes the loss.
- ``wordlab_loop``: wordlab's ``LanguageModel`` in a plain loop in Lightning's order:
  ``window_losses``, the mean over real targets times the window's scale, ``train_nll.update``,
  then ``zero_grad``, backward, clipping, SGD.
- ``wordlab_loop_mean``: the same with the loss from ``cross_entropy``'s own mean.
- ``lightning_nolog``: ``Trainer.fit`` (``limit_train_batches=--windows``), no logger, no
  checkpoint: wordlab's ``training_step`` with Lightning's loop, clipping and optimizer step.
- ``lightning_mlflow``: the same with the MLflow logger (a scratch SQLite store) as
  ``wordlab-train`` logs: ``train/loss`` every step, written every 20 steps.
- ``lightning_mlflow_mean``: the same with ``MeanLossLanguageModel`` (below).

``--cprofile VARIANT`` prints cProfile's table of one pass of a Lightning variant instead.

Two classes for ``wordlab-train`` runs of B10 (``language_model.py --a-override``):
``MeanLossLanguageModel`` (the training loss from ``cross_entropy``'s mean) and
``KeepFreedMemory`` (malloc keeps the freed logits in the heap).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch
from language_model import SETTINGS, TrainLoopTimer, usage_since
from plain_lm import RNNModel, repackage_hidden
from torch.nn import functional as F

from wordlab.tasks.language_model import LanguageModel
from wordlab.tasks.language_model.data import IGNORE
from wordlab.tasks.language_model.system import detach

VARIANTS = (
    "example",
    "example_batch_first",
    "example_none",
    "wordlab_loop",
    "wordlab_loop_mean",
    "lightning_nolog",
    "lightning_mlflow",
    "lightning_mlflow_mean",
)


class MeanLossLanguageModel(LanguageModel):
    """``LanguageModel`` whose ``training_step`` lets ``cross_entropy`` average the window's
    loss (``reduction="mean"``) instead of keeping each token's loss and averaging the real ones
    (every target of a training window is real); the epoch's mean loss is the same.

    For ``wordlab-train system._target_=profile_lm.MeanLossLanguageModel`` (``PYTHONPATH`` with
    this folder): the same run but for this one step.
    """

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        state = None if batch["first"] else self._states.get("train")
        logits, state = self(batch["input_ids"], state)
        self._states["train"] = detach(state)
        targets = batch["targets"].reshape(-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets, ignore_index=IGNORE)
        self.train_nll.update(loss.detach(), weight=targets.numel())
        self.log("train/loss", loss, on_step=True, on_epoch=False, batch_size=targets.numel())
        return loss * batch["scale"]


class KeepFreedMemory(pl.Callback):
    """Tell glibc's malloc to serve blocks below ``mmap_threshold`` (32 MB: B10's 22 MB logits
    and their gradients) from the heap and to give the heap back to the kernel only past
    ``trim_threshold`` of free memory at its top (``mallopt``: ``M_MMAP_THRESHOLD``,
    ``M_TRIM_THRESHOLD``), as a run could at its start. A callback only so that ``wordlab-train``
    can load it: ``+callbacks.malloc._target_=profile_lm.KeepFreedMemory`` (Linux with glibc).
    """

    def __init__(self, mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> None:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        if not (
            libc.mallopt(m_mmap_threshold, mmap_threshold)
            and libc.mallopt(m_trim_threshold, trim_threshold)
        ):
            raise RuntimeError("mallopt refused the thresholds")


def example_loop(model: RNNModel, windows: list[dict], reduction: str, batch_first: bool) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    model.rnn.batch_first = batch_first
    model.train()
    hidden = model.init_hidden(windows[0]["input_ids"].size(0))
    for batch in windows:
        data, targets = batch["input_ids"], batch["targets"].reshape(-1)
        if not batch_first:
            data, targets = data.t(), batch["targets"].t().reshape(-1)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        if reduction == "log_softmax":
            output, hidden = model(data, hidden)  # log-probabilities
            loss = F.nll_loss(output, targets)
        else:
            emb = model.drop(model.encoder(data))
            output, hidden = model.rnn(emb, hidden)
            logits = model.decoder(model.drop(output)).view(-1, model.ntoken)
            loss = F.cross_entropy(logits, targets, reduction="none").mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        loss.item()


def wordlab_loop(system: LanguageModel, windows: list[dict], mean: bool) -> None:
    parameters = [p for p in system.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=20.0)
    system.train()
    for batch in windows:
        if mean:
            state = None if batch["first"] else system._states.get("train")
            logits, state = system(batch["input_ids"], state)
            system._states["train"] = detach(state)
            targets = batch["targets"].reshape(-1)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets)
            system.train_nll.update(loss.detach(), weight=targets.numel())
        else:
            losses, real = system.window_losses(batch, "train")
            loss = losses[real].mean() * batch["scale"]
            system.train_nll.update(losses[real].detach())
        optimizer.zero_grad()  # after the forward, as Lightning's closure does
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 0.25)
        optimizer.step()


class Recorder(TrainLoopTimer):
    """``TrainLoopTimer`` keeping its record instead of printing it."""

    def on_train_epoch_end(self, trainer: pl.Trainer, *args: object) -> None:
        self.record = {"loop_seconds": time.perf_counter() - self.started}
        self.record |= usage_since(self.usage)


def lightning_fit(system, datamodule, windows: int, logger, profiler=None) -> dict:
    recorder = Recorder()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        limit_train_batches=windows,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        gradient_clip_val=0.25,
        log_every_n_steps=20,
        logger=logger,
        callbacks=[recorder],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    if profiler is not None:
        profiler.enable()
    trainer.fit(system, datamodule=datamodule)
    if profiler is not None:
        profiler.disable()
    return recorder.record


def one(variant: str, corpus: Path, windows: int, scratch: Path, profiler=None) -> dict:
    """Run ``variant`` in this process (its cache and MLflow store under ``scratch``); its
    loop's seconds, CPU and page faults."""
    from hydra.utils import instantiate
    from pytorch_lightning.loggers import MLFlowLogger

    from wordlab.config import compose
    from wordlab.train import build

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    os.environ["WORDLAB_ROOT"] = str(scratch)
    overrides = [*SETTINGS, "trainer=cpu", f"data.path={corpus.resolve()}"]
    if variant.endswith("_mean") and variant.startswith("lightning"):
        overrides.append("system._target_=profile_lm.MeanLossLanguageModel")
    cfg = compose(overrides)
    datamodule, _, system = build(cfg, instantiate(cfg.data))
    batches = list(itertools.islice(datamodule.windows("train", train=True), windows))
    assert datamodule.vocab is not None
    if variant.startswith("lightning"):
        logger = False
        if "mlflow" in variant:
            store = f"sqlite:///{scratch / 'mlflow.db'}"
            logger = MLFlowLogger(experiment_name="profile", tracking_uri=store)
        return lightning_fit(system, datamodule, windows, logger, profiler)
    model = RNNModel(len(datamodule.vocab), 200, 200, 2, 0.2)
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if variant.startswith("example"):
        reduction = "none" if variant == "example_none" else "log_softmax"
        example_loop(model, batches, reduction, batch_first=variant == "example_batch_first")
    else:
        wordlab_loop(system, batches, mean=variant == "wordlab_loop_mean")
    return {"loop_seconds": time.perf_counter() - started} | usage_since(before)


def alternate(args: argparse.Namespace) -> None:
    """Each variant in a process of its own, in turns; print each run and the medians."""
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    names = args.variants.split(",")
    per_window: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    for number in range(args.rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            command = [sys.executable, __file__, "--corpus", str(args.corpus), "--one", name,
                       "--windows", str(args.windows), "--threads", str(args.threads)]  # fmt: skip
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            record = json.loads(output.stdout.strip().splitlines()[-1])
            if record["torch_threads"] != args.threads:
                raise RuntimeError(f"{name}: {record['torch_threads']} torch threads")
            values = {
                "ms": 1000 * record["loop_seconds"] / args.windows,
                "user_ms": 1000 * record["user_seconds"] / args.windows,
                "system_ms": 1000 * record["system_seconds"] / args.windows,
                "faults": record["minor_faults"] / args.windows,
            }
            for key, value in values.items():
                per_window[name].setdefault(key, []).append(value)
            rounded = {k: round(v, 1) for k, v in values.items()}
            print(json.dumps({"round": number, "variant": name} | rounded), flush=True)
    medians = {
        name: {k: round(statistics.median(v), 1) for k, v in values.items()}
        for name, values in per_window.items()
    }
    print(json.dumps({"per_window_median": medians, "windows": args.windows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--tokens", type=int, default=150_000, help="PTB training prefix")
    parser.add_argument("--corpus", type=Path, help="instead of the prefix: this folder")
    parser.add_argument("--windows", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", choices=VARIANTS, help="run one variant in this process")
    parser.add_argument("--cprofile", choices=[v for v in VARIANTS if v.startswith("lightning")])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="wordlab-profile-lm-") as folder:
        scratch = Path(folder)
        if args.corpus is None:
            from language_model import prefix_corpus

            args.corpus = prefix_corpus(args.data.resolve(), scratch, args.tokens)
        if args.cprofile:
            profiler = cProfile.Profile()
            one(args.cprofile, args.corpus, args.windows, scratch, profiler)
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
            print(text.getvalue())
        elif args.one:
            print(json.dumps(one(args.one, args.corpus, args.windows, scratch)))
        else:
            alternate(args)


if __name__ == "__main__":
    main()
