"""Optimizers that torch does not ship.

``RowwiseAdagrad`` is the row-wise Adagrad of large recommendation models (DLRM; FBGEMM's
``EmbOptimType.EXACT_ROWWISE_ADAGRAD``): for an embedding table's sparse gradient it keeps one
accumulator per row, the running sum of the mean squared gradient over that row, instead of one
per element. The state of a 2M x 100 table is then 8 MB instead of 800 MB, and a step reads and
writes one number per row it touches instead of ``sparse_mask``-ing a table-sized tensor, which
is what makes ``torch.optim.Adagrad`` the most expensive part of the bag model's step (see
``experiments/bench/RESULTS.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class RowwiseAdagrad(torch.optim.Optimizer):
    """Adagrad with one accumulator per embedding row for sparse gradients.

    For a sparse gradient ``g`` (as ``nn.Embedding(sparse=True)`` gives) each row ``i`` it
    touches is updated as ``s[i] += mean(g[i] ** 2)``, ``w[i] -= lr * g[i] / (sqrt(s[i]) + eps)``;
    duplicate rows are summed first. Dense gradients (the output layer) get the usual
    element-wise Adagrad, as ``torch.optim.Adagrad`` with its default options.

    Args:
        params: Parameters or parameter groups.
        lr: Learning rate.
        eps: Added to the root of the accumulator.
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.1, eps: float = 1e-10) -> None:
        if lr <= 0:
            raise ValueError(f"RowwiseAdagrad: lr must be positive, got {lr}")
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    self._sparse_step(p, p.grad.coalesce(), lr, eps)
                else:
                    state = self.state[p]
                    if "sum" not in state:
                        state["sum"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["sum"].addcmul_(p.grad, p.grad)
                    p.addcdiv_(p.grad, state["sum"].sqrt().add_(eps), value=-lr)
        return loss

    def _sparse_step(self, p: torch.Tensor, grad: torch.Tensor, lr: float, eps: float) -> None:
        state = self.state[p]
        if "sum" not in state:
            state["sum"] = torch.zeros(p.shape[0], dtype=p.dtype, device=p.device)
        rows, values = grad.indices()[0], grad.values()
        total = state["sum"].index_select(0, rows).add_(values.pow(2).flatten(1).mean(1))
        state["sum"].index_copy_(0, rows, total)
        scale = total.sqrt_().add_(eps).reciprocal_().mul_(-lr)
        p.index_add_(0, rows, values * scale.view(-1, *([1] * (values.dim() - 1))))
