"""Convolutional sentence encoder (Kim, 2014, "Convolutional Neural Networks for Sentence
Classification")."""

from __future__ import annotations

import torch
from torch import nn


class CNNEncoder(nn.Module):
    """Parallel 1-D convolutions of several widths, ReLU, and max over time.

    Windows that reach into padding are masked out before the max, so a padded batch gives
    the same output as each sequence alone. Sequences shorter than the widest kernel are
    zero-padded up to it, as Kim's implementation does.

    Args:
        input_dim: Size of each input token vector (the embedding dimension).
        num_filters: Feature maps per kernel size.
        kernel_sizes: Window widths in tokens.
        dropout: Dropout on the pooled features (Kim used 0.5).
    """

    input_layout = "padded"

    def __init__(
        self,
        input_dim: int,
        num_filters: int = 100,
        kernel_sizes: tuple[int, ...] | list[int] = (3, 4, 5),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if not kernel_sizes:
            raise ValueError("model.kernel_sizes must list at least one window width")
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.convs = nn.ModuleList(nn.Conv1d(input_dim, num_filters, k) for k in self.kernel_sizes)
        self.dropout = nn.Dropout(dropout)
        self._output_dim = num_filters * len(self.kernel_sizes)

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode a batch.

        Args:
            embedded: Token vectors, shape (B, T, D).
            mask: True at real tokens, shape (B, T).

        Returns:
            Pooled features, shape (B, num_filters * len(kernel_sizes)).
        """
        width = max(self.kernel_sizes)
        if embedded.size(1) < width:
            pad = width - embedded.size(1)
            embedded = nn.functional.pad(embedded, (0, 0, 0, pad))  # (B, width, D)
            mask = nn.functional.pad(mask, (0, pad))  # (B, width)
        x = (embedded * mask.unsqueeze(-1)).transpose(1, 2)  # (B, D, T)
        lengths = mask.sum(dim=1)  # (B,)
        pooled = []
        for conv, k in zip(self.convs, self.kernel_sizes, strict=True):
            features = torch.relu(conv(x))  # (B, F, T - k + 1)
            # A window starting at t is valid if it ends inside the sequence; short sequences
            # keep their first window (it covers the zero padding up to the kernel width).
            last_start = (lengths - k).clamp(min=0)  # (B,)
            starts = torch.arange(features.size(2), device=features.device)  # (T - k + 1,)
            valid = starts.unsqueeze(0) <= last_start.unsqueeze(1)  # (B, T - k + 1)
            features = features.masked_fill(~valid.unsqueeze(1), float("-inf"))
            pooled.append(features.max(dim=2).values)  # (B, F)
        return self.dropout(torch.cat(pooled, dim=1))  # (B, F * len(kernel_sizes))
