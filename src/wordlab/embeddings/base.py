"""The result every option of the ``embedding`` group returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch


@dataclass
class InitialEmbeddings:
    """An initial word-vector table and how to train it.

    Attributes:
        weight: One row per vocabulary id, shape (V, D); row 0 (``<pad>``) is zero.
        freeze: Keep the table fixed during training (Kim's "static").
        metrics: Figures to log with the run (coverage, training speed).
        artifacts: Files to log with the run.
    """

    weight: torch.Tensor
    freeze: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)

    @property
    def embedding_dim(self) -> int:
        return int(self.weight.size(1))
