"""Token vocabulary built on the training split only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1


class Vocabulary:
    """A fixed token list with ``<pad>`` at 0 and ``<unk>`` at 1.

    Args:
        tokens: Tokens in id order; must start with ``<pad>``, ``<unk>``.
        counts: Training-split count of each token (0 for the special tokens), if known.
    """

    def __init__(self, tokens: list[str], counts: list[int] | None = None) -> None:
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary must start with {PAD!r}, {UNK!r}; got {tokens[:2]}")
        if counts is not None and len(counts) != len(tokens):
            raise ValueError(f"{len(counts)} counts for {len(tokens)} tokens")
        self.tokens = tokens
        self.counts = counts
        self.index = {token: i for i, token in enumerate(tokens)}

    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], min_freq: int = 1, max_size: int | None = None
    ) -> Vocabulary:
        """Keep tokens seen at least ``min_freq`` times, most frequent first, ties by token.

        Args:
            counts: Token frequencies in the training split.
            min_freq: Smallest count a token needs to enter the vocabulary.
            max_size: Largest vocabulary size, ``<pad>`` and ``<unk>`` included.
        """
        kept = sorted(
            ((c, t) for t, c in counts.items() if c >= min_freq and t not in (PAD, UNK)),
            key=lambda ct: (-ct[0], ct[1]),
        )
        if max_size:
            kept = kept[: max(max_size - 2, 0)]
        return cls([PAD, UNK] + [t for _, t in kept], [0, 0] + [c for c, _ in kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Map tokens to ids, unknown tokens to ``<unk>``."""
        index = self.index
        return [index.get(t, UNK_ID) for t in tokens]

    def save(self, path: str | Path) -> None:
        """Write ``{"tokens": [...], "counts": [...]}`` as JSON."""
        data = {"tokens": self.tokens, "counts": self.counts}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["tokens"], data.get("counts"))
