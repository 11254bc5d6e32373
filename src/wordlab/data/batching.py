"""Batches from numericalized splits: padded with a mask, or flat with offsets.

A split is held as one flat id tensor plus offsets (taken zero-copy from Arrow), so building a
batch is a handful of tensor slices rather than per-example Python collation.
"""

from __future__ import annotations

from collections.abc import Iterator

import datasets
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from wordlab.data.vocab import PAD_ID


class TokenizedSplit(Dataset):
    """A numericalized split that returns whole batches from a list of row indices.

    Args:
        ids: Token ids of all rows back to back, shape (N,).
        offsets: Start of each row in ``ids`` and the end of the last, shape (S + 1,).
        labels: Class index of each row, shape (S,); for labels per token, see ``token_labels``.
        layout: ``padded`` for (B, T) ids (``<pad>`` = 0 marks padding), ``flat`` for (N,) ids
            and (B,) offsets.
        token_labels: A label per token, aligned with ``ids`` (N,): batched as ``tags`` (B, T),
            0 at padding (padded layout only).
        word_chars: Character ids of each token, (N, L), 0 after a word's last character:
            batched as ``char_ids`` (B, T, L') with L' the batch's longest word.
    """

    def __init__(
        self,
        ids: torch.Tensor,
        offsets: torch.Tensor,
        labels: torch.Tensor,
        layout: str = "padded",
        token_labels: torch.Tensor | None = None,
        word_chars: torch.Tensor | None = None,
    ) -> None:
        if layout not in ("padded", "flat"):
            raise ValueError(f"unknown batch layout {layout!r}; expected 'padded' or 'flat'")
        if layout == "flat" and (token_labels is not None or word_chars is not None):
            raise ValueError("labels and characters per token need padded batches")
        self.ids = ids  # (N,)
        self.starts = offsets[:-1]  # (S,)
        self.lengths = torch.diff(offsets)  # (S,)
        self.labels = labels  # (S,)
        self.layout = layout
        self.token_labels = token_labels  # (N,)
        self.word_chars = word_chars  # (N, L)

    @classmethod
    def from_dataset(cls, dataset: datasets.Dataset, layout: str = "padded") -> TokenizedSplit:
        """From a split with ``input_ids`` (list of ints) and ``label`` columns, zero-copy."""
        table = dataset.with_format("arrow")[:]  # applies any selection (indices mapping)
        column = table.column("input_ids").combine_chunks()
        offsets = column.offsets.to_numpy().astype(np.int64)
        ids = torch.from_numpy(column.flatten().to_numpy().astype(np.int64))  # (N,)
        offsets = torch.from_numpy(offsets - offsets[0])  # (S + 1,)
        labels = torch.from_numpy(table.column("label").to_numpy().astype(np.int64))  # (S,)
        return cls(ids, offsets, labels, layout)

    @classmethod
    def from_lists(cls, rows: list[list[int]], layout: str = "padded") -> TokenizedSplit:
        """From id lists (prediction on new texts); labels are set to 0."""
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lengths, 0)])
        ids = torch.tensor([i for r in rows for i in r], dtype=torch.long)
        return cls(ids, offsets, torch.zeros(len(rows), dtype=torch.long), layout)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        # One gather per batch instead of a slice per row: a few tensor ops whatever B is.
        index = torch.as_tensor(indices, dtype=torch.long)  # (B,)
        starts, lengths = self.starts[index], self.lengths[index]  # (B,), (B,)
        batch = {"label": self.labels[index], "index": index}
        if self.layout == "flat":
            offsets = torch.cumsum(lengths, 0) - lengths  # (B,)
            within = torch.arange(int(lengths.sum())) - torch.repeat_interleave(offsets, lengths)
            batch["token_ids"] = self.ids[torch.repeat_interleave(starts, lengths) + within]  # (N,)
            batch["offsets"] = offsets
        else:
            positions = torch.arange(int(lengths.max()) if len(index) else 0)  # (T,)
            mask = positions.unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
            gather = (starts.unsqueeze(1) + positions.unsqueeze(0)).clamp(max=len(self.ids) - 1)
            batch["input_ids"] = self.ids[gather].masked_fill(~mask, PAD_ID)  # (B, T)
            if self.token_labels is not None:
                batch["tags"] = self.token_labels[gather].masked_fill(~mask, 0)  # (B, T)
            if self.word_chars is not None:
                chars = self.word_chars[gather] * mask.unsqueeze(-1)  # (B, T, L)
                longest = int((chars != 0).sum(-1).max()) if chars.numel() else 0
                batch["char_ids"] = chars[..., : max(longest, 1)]  # (B, T, L')
        return batch


def identity(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Collate function for datasets that already return whole batches."""
    return batch


class BatchSampler(Sampler[list[int]]):
    """Row indices in batches: shuffled or in order, optionally bucketed by length.

    Bucketing sorts each window of ``50 * batch_size`` shuffled rows by length before cutting it
    into batches, so recurrent models waste little work on padding, then shuffles the batches.

    Args:
        lengths: Token count of every row, shape (S,).
        batch_size: Rows per batch.
        shuffle: Draw a new order every epoch (seeded by ``seed`` and the epoch number).
        bucket: Group rows of similar length.
        seed: Base seed of the order.
    """

    def __init__(
        self,
        lengths: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        bucket: bool = False,
        seed: int = 0,
    ) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.bucket = bucket
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        n = len(self.lengths)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        if self.bucket:
            window = 50 * self.batch_size
            chunks = [order[i : i + window] for i in range(0, n, window)]
            order = torch.cat([c[torch.argsort(self.lengths[c], stable=True)] for c in chunks])
        batches = list(torch.split(order, self.batch_size))
        if self.shuffle and self.bucket:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator)]
        for batch in batches:
            yield batch.tolist()
