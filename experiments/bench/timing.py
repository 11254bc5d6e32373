"""Callbacks the benchmarks add to ``wordlab-train`` to time parts of a run from inside.

PYTHONPATH=experiments/bench wordlab-train +callbacks.first_step._target_=timing.FirstStep
"""

from __future__ import annotations

import json
import os
import time

import pytorch_lightning as pl


class FirstStep(pl.Callback):
    """Print the wall-clock time of the first optimizer step, then end the process."""

    def on_train_batch_end(self, *args: object, **kwargs: object) -> None:
        print(json.dumps({"first_step_at": time.time()}), flush=True)
        os._exit(0)


class FitTimer(pl.Callback):
    """Print the seconds spent in ``fit`` (training and per-epoch validation)."""

    def on_fit_start(self, *args: object, **kwargs: object) -> None:
        self.started = time.perf_counter()

    def on_fit_end(self, *args: object, **kwargs: object) -> None:
        print(json.dumps({"fit_seconds": time.perf_counter() - self.started}), flush=True)
