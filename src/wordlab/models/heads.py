"""Output heads shared by all encoders."""

from __future__ import annotations

import torch
from torch import nn


class ClassificationHead(nn.Module):
    """A linear layer from encoder features to class logits.

    Args:
        input_dim: Encoder output size.
        num_classes: Number of labels.
        max_norm: If set, rescale each class's weight row to at most this L2 norm after
            every optimizer step (Kim 2014 used 3).
    """

    def __init__(self, input_dim: int, num_classes: int, max_norm: float | None = None) -> None:
        super().__init__()
        self.linear = nn.Linear(input_dim, num_classes)
        self.max_norm = max_norm

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map features (B, H) to logits (B, num_classes)."""
        return self.linear(features)

    @torch.no_grad()
    def apply_max_norm(self) -> None:
        if self.max_norm is not None:
            self.linear.weight.copy_(torch.renorm(self.linear.weight, 2, 0, self.max_norm))
