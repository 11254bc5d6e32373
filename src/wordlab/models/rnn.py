"""Recurrent encoder: LSTM or GRU over packed sequences, pooled to one vector or per token."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "max", "mean")


class RNNEncoder(nn.Module):
    """A (bi)directional LSTM or GRU; padding never enters the recurrence (packed sequences).

    Args:
        input_dim: Size of each input token vector.
        hidden_dim: Hidden size per direction.
        num_layers: Stacked recurrent layers.
        bidirectional: Also run right to left and concatenate both directions.
        cell: ``lstm`` or ``gru``.
        pooling: ``last`` (final hidden state of each direction), ``max`` or ``mean`` over time,
            or None: one state per token (for tagging), zero at padding.
        dropout: Dropout between recurrent layers and on the output.
    """

    input_layout = "padded"

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        pooling: str | None = "max",
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown model.cell {cell!r}; expected one of {sorted(CELLS)}")
        if pooling is not None and pooling not in POOLINGS:
            raise ValueError(f"unknown model.pooling {pooling!r}; expected one of {POOLINGS}")
        self.rnn = CELLS[cell](
            input_dim,
            hidden_dim,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self._output_dim = hidden_dim * (2 if bidirectional else 1)

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode a batch.

        Args:
            embedded: Token vectors, shape (B, T, D).
            mask: True at real tokens, shape (B, T); every row needs at least one.

        Returns:
            Pooled states, shape (B, hidden_dim * directions), or with ``pooling=None`` one
            state per token, shape (B, T, hidden_dim * directions).
        """
        lengths = mask.sum(dim=1)  # (B,)
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, state = self.rnn(packed)
        if self.pooling == "last":
            hidden = state[0] if isinstance(state, tuple) else state  # (L * dirs, B, H)
            directions = 2 if self.rnn.bidirectional else 1
            pooled = torch.cat(list(hidden[-directions:]), dim=1)  # (B, H * dirs)
        else:
            padded, _ = pad_packed_sequence(
                outputs, batch_first=True, total_length=mask.size(1)
            )  # (B, T, H * dirs)
            keep = mask.unsqueeze(-1)  # (B, T, 1)
            if self.pooling is None:
                return self.dropout(padded)  # (B, T, H * dirs), zeros at padding
            if self.pooling == "max":
                pooled = padded.masked_fill(~keep, float("-inf")).max(dim=1).values
            else:
                pooled = (padded * keep).sum(dim=1) / lengths.unsqueeze(1)  # (B, H * dirs)
        return self.dropout(pooled)

    def stream(self, embedded: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Read a window of token streams from ``state`` (a language model's, left to right).

        Args:
            embedded: Token vectors, shape (B, T, D); no padding before the last real token.
            state: The state the previous window ended in (None: zeros).

        Returns:
            One state per token, shape (B, T, hidden_dim), dropout applied, and the final
            recurrent state (``(h, c)`` for an LSTM), to carry into the next window.
        """
        if self.rnn.bidirectional:
            raise ValueError("a stream is read left to right: model.bidirectional=false")
        outputs, state = self.rnn(embedded, state)
        return self.dropout(outputs), state

    def encode_source(
        self, embedded: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a source batch for a decoder: every token's state and one summary vector.

        Whatever ``pooling`` is set to; padding never enters the recurrence (packed sequences).

        Args:
            embedded: Token vectors, shape (B, S, D).
            mask: True at real tokens, shape (B, S); every row needs at least one.

        Returns:
            One state per token, shape (B, S, hidden_dim * directions), zero at padding, and
            the top layer's final hidden state, both directions concatenated (forward, then
            backward), shape (B, hidden_dim * directions); dropout applied to both.
        """
        lengths = mask.sum(dim=1)  # (B,)
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, state = self.rnn(packed)
        padded, _ = pad_packed_sequence(
            outputs, batch_first=True, total_length=mask.size(1)
        )  # (B, S, H * dirs)
        hidden = state[0] if isinstance(state, tuple) else state  # (L * dirs, B, H)
        directions = 2 if self.rnn.bidirectional else 1
        summary = torch.cat(list(hidden[-directions:]), dim=1)  # (B, H * dirs)
        return self.dropout(padded), self.dropout(summary)
