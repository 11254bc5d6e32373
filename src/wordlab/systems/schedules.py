"""Learning-rate schedules that need the run's length, which only the trainer knows.

A scheduler partial with a ``total_steps`` parameter left unset gets the number of optimizer
steps of the whole run (``Trainer.estimated_stepping_batches``); ``OneCycleLR`` works the same way.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import PolynomialLR


def linear_decay(optimizer: torch.optim.Optimizer, total_steps: int) -> PolynomialLR:
    """fastText's schedule: the learning rate falls linearly to 0 over the run's steps."""
    return PolynomialLR(optimizer, total_iters=total_steps, power=1.0)
