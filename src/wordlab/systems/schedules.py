"""Learning-rate schedules that need the run's length, which only the trainer knows.

A scheduler partial with a ``total_steps`` parameter left unset gets the number of optimizer
steps of the whole run (``Trainer.estimated_stepping_batches``); ``OneCycleLR`` works the same way.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LambdaLR, PolynomialLR


def linear_decay(optimizer: torch.optim.Optimizer, total_steps: int) -> PolynomialLR:
    """fastText's schedule: the learning rate falls linearly to 0 over the run's steps."""
    return PolynomialLR(optimizer, total_iters=total_steps, power=1.0)


def delayed_decay(optimizer: torch.optim.Optimizer, decay: float, start_epoch: int) -> LambdaLR:
    """Zaremba et al.'s (2014) schedule: the learning rate stays fixed for ``start_epoch``
    epochs, then is multiplied by ``decay`` after each epoch (call it once per epoch)."""
    return LambdaLR(optimizer, lambda epoch: decay ** max(epoch + 1 - start_epoch, 0))
