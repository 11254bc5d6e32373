"""The result every option of the ``embedding`` group returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch

if TYPE_CHECKING:
    from wordlab.data.tokenizers import Tokenizer


@dataclass
class InitialEmbeddings:
    """An initial word-vector table and how to train it.

    Attributes:
        weight: One row per vocabulary id, shape (V, D); row 0 (``<pad>``) is zero.
        freeze: Keep the table fixed during training (Kim's "static").
        multichannel: Two copies, one frozen and one fine-tuned, concatenated per token
            (Kim's "multichannel"); the encoder then sees 2 * D features.
        metrics: Figures to log with the run (coverage, training speed).
        artifacts: Files to log with the run.
    """

    weight: torch.Tensor
    freeze: bool = False
    multichannel: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)

    @property
    def embedding_dim(self) -> int:
        return int(self.weight.size(1))

    @property
    def output_dim(self) -> int:
        """Features per token that the encoder receives."""
        return self.embedding_dim * (2 if self.multichannel else 1)


class TokenSource(Protocol):
    """What an embedding builder may read from the data (``TextDataModule`` provides it)."""

    fingerprint: str
    tokenizer: Tokenizer

    def training_tokens(self) -> list[list[str]]: ...
