"""Randomly initialised word vectors."""

from __future__ import annotations

import torch

from wordlab.data.vocab import PAD_ID, Vocabulary
from wordlab.embeddings.base import InitialEmbeddings


def random_embeddings(
    vocab: Vocabulary,
    source: object = None,
    embedding_dim: int = 128,
    init: str = "uniform",
    scale: float = 0.25,
    freeze: bool = False,
    seed: int = 0,
) -> InitialEmbeddings:
    """Draw a (len(vocab), embedding_dim) table.

    Args:
        vocab: The run's vocabulary.
        source: The data module (unused; every embedding option takes it).
        embedding_dim: Vector size.
        init: ``uniform`` on [-scale, scale] (Kim 2014 used 0.25) or ``normal`` with std ``scale``.
        scale: Half-width of the uniform or standard deviation of the normal.
        freeze: Keep the vectors fixed during training.
        seed: Seed of the draw, so the table does not depend on what ran before.
    """
    generator = torch.Generator().manual_seed(seed)
    shape = (len(vocab), embedding_dim)
    if init == "uniform":
        weight = (torch.rand(shape, generator=generator) * 2 - 1) * scale
    elif init == "normal":
        weight = torch.randn(shape, generator=generator) * scale
    else:
        raise ValueError(f"unknown embedding.init {init!r}; expected 'uniform' or 'normal'")
    weight[PAD_ID] = 0.0
    return InitialEmbeddings(weight=weight, freeze=freeze)
