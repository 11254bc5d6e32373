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
    """

    def __init__(self, tokens: list[str]) -> None:
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary must start with {PAD!r}, {UNK!r}; got {tokens[:2]}")
        self.tokens = tokens
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
        tokens = [PAD, UNK] + [t for _, t in kept]
        return cls(tokens[:max_size] if max_size else tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Map tokens to ids, unknown tokens to ``<unk>``."""
        index = self.index
        return [index.get(t, UNK_ID) for t in tokens]

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))
