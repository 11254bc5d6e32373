"""Adagrad with a faster step for sparse gradients (the bag model's embedding tables).

torch's Adagrad updates a parameter from a sparse gradient by coalescing it, adding its squares
to the state as a sparse tensor, then reading the state back at those rows with
``sparse_mask``; on a two-million-row bigram table that is most of a training step
(``experiments/bench/RESULTS.md``, B1). The same update done on the rows directly (sum the
gradient's duplicate rows, then ``index_add_`` and ``index_select`` on the state and the
parameter) gives the same numbers in less time. Dense gradients, the state and the options are
torch's, so checkpoints move between the two classes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


class Adagrad(torch.optim.Adagrad):
    """``torch.optim.Adagrad``, taking sparse gradients row by row."""

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        done = []
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is not None and grad.is_sparse and grad.sparse_dim() == 1:
                    self._sparse_step(param, group)
                    done.append((param, grad))
                    param.grad = None  # so that torch's step skips it
        super().step()
        for param, grad in done:
            param.grad = grad
        return loss

    def _sparse_step(self, param: torch.Tensor, group: dict) -> None:
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        state = self.state[param]
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"].item() - 1) * group["lr_decay"])
        grad = param.grad
        rows, inverse = grad._indices()[0].unique(return_inverse=True)
        values = grad._values()
        summed = values.new_zeros((len(rows), *values.shape[1:])).index_add_(0, inverse, values)
        if group["maximize"]:
            summed.neg_()
        state["sum"].index_add_(0, rows, summed * summed)
        std = state["sum"].index_select(0, rows).sqrt_().add_(group["eps"])
        param.index_add_(0, rows, summed.div_(std), alpha=-clr)
