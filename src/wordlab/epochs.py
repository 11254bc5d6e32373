"""``EpochLines``: one log line per epoch, for the terminal and the run's log file."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytorch_lightning as pl

log = logging.getLogger(__name__)


class EpochLines(pl.Callback):
    """One log line per epoch with the epoch's metrics and time, e.g. ``epoch 3/10: train/loss
    0.412 val/acc 0.883 ... (12.3 s)``: on the terminal and in the run's log file, where a
    progress bar writes nothing readable."""

    def __init__(self) -> None:
        self._started = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.global_rank != 0:
            return
        seconds = time.perf_counter() - self._started
        values = []
        for name, value in sorted(trainer.callback_metrics.items()):
            number: Any = value.item() if hasattr(value, "item") else value
            if isinstance(number, (int, float)):
                values.append(f"{name} {number:.4g}")
        epochs = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else "?"
        log.info(
            "epoch %d/%s: %s (%.1f s)", trainer.current_epoch + 1, epochs, " ".join(values), seconds
        )
