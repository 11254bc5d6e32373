"""Convolutional encoder (Kim, 2014, "Convolutional Neural Networks for Sentence
Classification"), pooled over time or per token."""

from __future__ import annotations

import torch
from torch import nn


class CNNEncoder(nn.Module):
    """Parallel 1-D convolutions of several widths, ReLU, and max over time.

    Windows that reach into batch padding are masked out before the max, so a padded batch
    gives the same output as each sequence alone. Sequences shorter than the widest kernel are
    zero-padded up to it. ``padding`` adds zero vectors at both ends of every sequence ("wide"
    convolution): Kim's implementation adds ``max(kernel_sizes) - 1``, so that words at the
    edges are seen by every filter position.

    With ``pooling=None`` each token gets the features of the windows centred on it (the
    sequence zero-padded at its ends, as in Collobert et al. 2011), for tagging.

    Args:
        input_dim: Size of each input token vector (the embedding dimension).
        num_filters: Feature maps per kernel size.
        kernel_sizes: Window widths in tokens.
        dropout: Dropout on the pooled features (Kim used 0.5).
        padding: Zero vectors added before and after every sequence (Kim's code: 4); pooled
            output only.
        pooling: ``max`` over time, or None: features per token.
    """

    input_layout = "padded"

    def __init__(
        self,
        input_dim: int,
        num_filters: int = 100,
        kernel_sizes: tuple[int, ...] | list[int] = (3, 4, 5),
        dropout: float = 0.5,
        padding: int = 0,
        pooling: str | None = "max",
    ) -> None:
        super().__init__()
        if not kernel_sizes:
            raise ValueError("model.kernel_sizes must list at least one window width")
        if padding < 0:
            raise ValueError(f"model.padding must be 0 or more zero vectors, got {padding}")
        if pooling not in ("max", None):
            raise ValueError(f"unknown model.pooling {pooling!r}; expected max or null")
        self.pooling = pooling
        self.padding = int(padding)
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
            Pooled features, shape (B, num_filters * len(kernel_sizes)), or with
            ``pooling=None`` features per token, shape (B, T, num_filters * len(kernel_sizes)).
        """
        if self.pooling is None:
            return self._per_token(embedded, mask)
        p = self.padding
        x = (embedded * mask.unsqueeze(-1)).transpose(1, 2)  # (B, D, T)
        # p zeros at each end; then up to the widest kernel if still shorter.
        short = max(0, max(self.kernel_sizes) - (x.size(2) + 2 * p))
        if p or short:  # pad copies the batch: only when there is something to add
            x = nn.functional.pad(x, (p, p + short))  # (B, D, T + 2p + short)
        padded_lengths = mask.sum(dim=1) + 2 * p  # (B,)
        pooled = []
        for conv, k in zip(self.convs, self.kernel_sizes, strict=True):
            features = torch.relu(conv(x))  # (B, F, W): W = T + 2p + short - k + 1 windows
            # A window starting at t is valid if it ends inside the sequence and its own
            # padding; short sequences keep their first window (it covers zeros up to width k).
            last_start = (padded_lengths - k).clamp(min=0)  # (B,)
            starts = torch.arange(features.size(2), device=features.device)  # (W,)
            valid = starts.unsqueeze(0) <= last_start.unsqueeze(1)  # (B, W)
            features = features.masked_fill(~valid.unsqueeze(1), float("-inf"))
            pooled.append(features.max(dim=2).values)  # (B, F)
        return self.dropout(torch.cat(pooled, dim=1))  # (B, F * len(kernel_sizes))

    def _per_token(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = (embedded * mask.unsqueeze(-1)).transpose(1, 2)  # (B, D, T), zeros at padding
        features = []
        for conv, k in zip(self.convs, self.kernel_sizes, strict=True):
            centred = nn.functional.pad(x, ((k - 1) // 2, k // 2))  # (B, D, T + k - 1)
            features.append(torch.relu(conv(centred)))  # (B, F, T)
        per_token = torch.cat(features, dim=1).transpose(1, 2)  # (B, T, F * len(kernel_sizes))
        return self.dropout(per_token * mask.unsqueeze(-1))  # zeros at padding
