"""Where a training window of B10 spends its time: wordlab's language model with and without
Lightning against the example's model, on the same windows, in one process.

    python experiments/bench/profile_lm.py --corpus <folder with train/validation/test.txt> \
        [--windows 40] [--rounds 3] [--threads 1] [--cprofile]

Builds the data module and ``LanguageModel`` through ``wordlab.train.build`` from the overrides
``language_model.py`` gives ``wordlab-train`` (so the same model, vocabulary and windows), then
times the first ``--windows`` training windows of epoch 0 in each variant, the variants taking
turns in each of ``--rounds`` rounds (median ms per window over the rounds):

- ``example``: ``plain_lm.RNNModel`` (sequence-first LSTM, ``log_softmax`` + ``NLLLoss``), the
  windows transposed to (T, B); the loop of ``plain_lm.py``.
- ``example_batch_first``: the same with ``batch_first=True`` and (B, T) windows, as wordlab's.
- ``wordlab_loop``: wordlab's ``LanguageModel`` in the same plain loop: ``window_losses``,
  the mean over real targets times the window's scale, backward, clipping, SGD.
- ``wordlab_loop_metric``: the same plus ``training_step``'s ``train_nll.update``.
- ``lightning_nolog``: ``Trainer.fit`` (``limit_train_batches=--windows``), no logger, no
  checkpoint: wordlab's ``training_step`` with Lightning's loop, clipping and optimizer step.
- ``lightning_mlflow``: the same with the MLflow logger (a scratch SQLite store), as
  ``wordlab-train`` logs: ``train/loss`` every step, written every 20 steps.

``--cprofile nolog|mlflow`` prints cProfile's table of one Lightning pass (cumulative time).
Prints JSON lines of each round's wall and CPU (process) milliseconds per window, then their
medians.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from language_model import SETTINGS, TrainLoopTimer
from plain_lm import RNNModel, repackage_hidden


def example_loop(model: RNNModel, windows: list[dict], batch_first: bool) -> tuple[float, float]:
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    criterion = torch.nn.NLLLoss()
    model.train()
    hidden = model.init_hidden(windows[0]["input_ids"].size(0))
    cpu, started = time.process_time(), time.perf_counter()
    for batch in windows:
        data, targets = batch["input_ids"], batch["targets"]
        if not batch_first:
            data, targets = data.t(), targets.t()
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        loss.item()
    return time.perf_counter() - started, time.process_time() - cpu


def wordlab_loop(system, windows: list[dict], metric: bool) -> tuple[float, float]:
    parameters = [p for p in system.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=20.0)
    system.train()
    cpu, started = time.process_time(), time.perf_counter()
    for batch in windows:
        losses, real = system.window_losses(batch, "train")
        loss = losses[real].mean() * batch["scale"]
        if metric:
            system.train_nll.update(losses[real].detach())
            int(real.sum())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 0.25)
        optimizer.step()
    seconds = time.perf_counter() - started, time.process_time() - cpu
    system.train_nll.reset()
    return seconds


class Quiet(TrainLoopTimer):
    """``TrainLoopTimer`` keeping the seconds (wall, CPU) instead of printing them."""

    def on_train_epoch_end(self, trainer: pl.Trainer, *args: object) -> None:
        self.seconds = time.perf_counter() - self.started, time.process_time() - self.cpu_started


def lightning_fit(system, datamodule, windows: int, logger, profiler=None) -> tuple[float, float]:
    timer = Quiet()
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
        callbacks=[timer],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    if profiler is not None:
        profiler.enable()
    trainer.fit(system, datamodule=datamodule)
    if profiler is not None:
        profiler.disable()
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default=None, help="comma-separated variants")
    parser.add_argument(
        "--cprofile", choices=("nolog", "mlflow"), help="cProfile one Lightning pass, this logger"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import logging
    import warnings

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from pytorch_lightning.loggers import MLFlowLogger

    from wordlab.config import compose
    from wordlab.train import build

    scratch = Path(tempfile.mkdtemp(prefix="wordlab-profile-lm-"))
    os.environ["WORDLAB_ROOT"] = str(scratch)
    cfg = compose([*SETTINGS, "trainer=cpu", f"data.path={args.corpus.resolve()}"])
    from hydra.utils import instantiate

    datamodule, _, system = build(cfg, instantiate(cfg.data))
    windows = list(itertools.islice(datamodule.windows("train", train=True), args.windows))
    vocab = len(datamodule.vocab)
    torch.manual_seed(13)
    examples = {
        False: RNNModel(vocab, 200, 200, 2, 0.2),
        True: RNNModel(vocab, 200, 200, 2, 0.2),
    }
    examples[True].rnn.batch_first = True

    def mlflow() -> MLFlowLogger:
        return MLFlowLogger(
            experiment_name="profile", tracking_uri=f"sqlite:///{scratch / 'mlflow.db'}"
        )

    variants = {
        "example": lambda: example_loop(examples[False], windows, batch_first=False),
        "example_batch_first": lambda: example_loop(examples[True], windows, batch_first=True),
        "wordlab_loop": lambda: wordlab_loop(system, windows, metric=False),
        "wordlab_loop_metric": lambda: wordlab_loop(system, windows, metric=True),
        "lightning_nolog": lambda: lightning_fit(system, datamodule, args.windows, False),
        "lightning_mlflow": lambda: lightning_fit(system, datamodule, args.windows, mlflow()),
    }
    variants["example"]()  # warm-up: first allocations, thread pool
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only.split(",")}
    results: dict[str, list[float]] = {name: [] for name in variants}
    cpu_results: dict[str, list[float]] = {name: [] for name in variants}
    for number in range(args.rounds):
        for name, variant in variants.items():
            wall, cpu = variant()
            results[name].append(1000 * wall / args.windows)
            cpu_results[name].append(1000 * cpu / args.windows)
        for label, table in (("round", results), ("round_cpu", cpu_results)):
            print(json.dumps({label: number, **{k: round(v[-1], 1) for k, v in table.items()}}))
    summary = {k: round(statistics.median(v), 1) for k, v in results.items()}
    cpu_summary = {k: round(statistics.median(v), 1) for k, v in cpu_results.items()}
    print(json.dumps({"ms_per_window_median": summary, "vocab": vocab, "windows": args.windows}))
    print(json.dumps({"cpu_ms_per_window_median": cpu_summary}))
    if args.cprofile:
        profiler = cProfile.Profile()
        logger = mlflow() if args.cprofile == "mlflow" else False
        lightning_fit(system, datamodule, args.windows, logger, profiler)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        print(text.getvalue())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
