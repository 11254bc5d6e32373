"""Character-level word features for sequence labelling: a CNN (Ma & Hovy, 2016, "End-to-end
Sequence Labeling via Bi-directional LSTM-CNNs-CRF") or a bidirectional LSTM (Lample et al.,
2016, "Neural Architectures for Named Entity Recognition") over each word's characters."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

CHAR_ENCODERS = ("none", "cnn", "lstm")


class CharCNN(nn.Module):
    """Character embeddings, dropout, one 1-D convolution and max over each word's characters.

    Positions of padding characters (id 0) are set to -inf before the max, so they never win
    it, and a word made only of padding (a padding token position) gets a zero vector. The
    convolution sees zero vectors at padding characters and beyond the word's ends, so
    appending padding characters or padding words leaves the real words' features unchanged.
    As in the brief (and NCRF++), no nonlinearity follows the convolution.

    Args:
        num_chars: Size of the character vocabulary (0 = padding, 1 = unknown character).
        char_dim: Size of each character embedding (Ma & Hovy: 30).
        num_filters: Feature maps, the size of each word's vector (Ma & Hovy: 30).
        kernel_size: Window width in characters (Ma & Hovy: 3); ``kernel_size // 2`` zero
            vectors pad each end of a word.
        dropout: Dropout on the character embeddings before the convolution (Ma & Hovy: 0.5).
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int = 30,
        num_filters: int = 30,
        kernel_size: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"model.kernel_size must be 1 or more characters, got {kernel_size}")
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv1d(char_dim, num_filters, kernel_size, padding=kernel_size // 2)
        self._output_dim = num_filters

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """Encode the characters of every word.

        Args:
            chars: Character ids, shape (B, T, L), long; 0 = padding character.

        Returns:
            One vector per word, shape (B, T, num_filters); zeros at words with no characters.
        """
        batch, tokens, length = chars.shape
        flat = chars.reshape(batch * tokens, length)  # (N, L), N = B * T
        real = flat != 0  # (N, L)
        embedded = self.embedding(flat) * real.unsqueeze(-1)  # (N, L, C), zeros at padding
        embedded = self.dropout(embedded).transpose(1, 2)  # (N, C, L)
        features = self.conv(embedded)[:, :, :length]  # (N, F, L); an even kernel gives L + 1
        features = features.masked_fill(~real.unsqueeze(1), float("-inf"))
        pooled = features.max(dim=2).values  # (N, F), -inf for words without characters
        has_chars = real.any(dim=1, keepdim=True)  # (N, 1)
        pooled = torch.where(has_chars, pooled, torch.zeros_like(pooled))
        return pooled.reshape(batch, tokens, -1)  # (B, T, F)


class CharLSTM(nn.Module):
    """Character embeddings and a bidirectional LSTM over each word's characters.

    A word's vector is the final forward state (after its last real character) concatenated
    with the final backward state (after its first character). Words are packed by their
    number of real characters (ids other than 0, padding on the right), so padding never enters
    the recurrence; words with no characters (padding token positions) are not run and get
    zero vectors.

    Args:
        num_chars: Size of the character vocabulary (0 = padding, 1 = unknown character).
        char_dim: Size of each character embedding (Lample et al.: 25).
        hidden_dim: Hidden size per direction (Lample et al.: 25).
        dropout: Dropout on the character embeddings before the LSTM.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int = 25,
        hidden_dim: int = 25,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(char_dim, hidden_dim, batch_first=True, bidirectional=True)
        self._output_dim = 2 * hidden_dim

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """Encode the characters of every word.

        Args:
            chars: Character ids, shape (B, T, L), long; 0 = padding character, on the right.

        Returns:
            One vector per word, shape (B, T, 2 * hidden_dim); zeros at words with no
            characters.
        """
        batch, tokens, length = chars.shape
        flat = chars.reshape(batch * tokens, length)  # (N, L), N = B * T
        lengths = (flat != 0).sum(dim=1)  # (N,)
        words = lengths.nonzero(as_tuple=True)[0]  # (n,) indices of words with characters
        if words.numel() == 0:  # nothing to run: pack_padded_sequence refuses length 0
            return self.embedding.weight.new_zeros(batch, tokens, self._output_dim)  # (B, T, 2H)
        embedded = self.dropout(self.embedding(flat[words]))  # (n, L, C)
        packed = pack_padded_sequence(
            embedded, lengths[words].cpu(), batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)  # (2, n, H), in the order of `words`
        final = torch.cat([hidden[0], hidden[1]], dim=1)  # (n, 2H): forward, backward
        out = final.new_zeros(batch * tokens, self._output_dim)  # (N, 2H)
        out = out.index_copy(0, words, final)  # (N, 2H), zeros at words without characters
        return out.reshape(batch, tokens, -1)  # (B, T, 2H)


def make_char_encoder(kind: str | None, num_chars: int, **options) -> nn.Module | None:
    """Build the character encoder named by ``model.chars``.

    Args:
        kind: ``None`` or ``none`` (no character features), ``cnn`` (:class:`CharCNN`) or
            ``lstm`` (:class:`CharLSTM`).
        num_chars: Size of the character vocabulary.
        **options: Keyword arguments of the chosen class.

    Returns:
        The encoder, or None.
    """
    if kind is None or kind == "none":
        return None
    if kind == "cnn":
        return CharCNN(num_chars, **options)
    if kind == "lstm":
        return CharLSTM(num_chars, **options)
    raise ValueError(f"unknown model.chars {kind!r}; expected one of {CHAR_ENCODERS} or null")
