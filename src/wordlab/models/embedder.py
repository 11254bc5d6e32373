"""``TokenEmbedder``: the word-vector table of every task (static, non-static, multichannel)."""

from __future__ import annotations

import torch
from torch import nn

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings

# First ids of a vocabulary that are not words (<pad>, <unk>): left out of the drift.
SPECIAL_IDS = 2


class TokenEmbedder(nn.Module):
    """Look up token vectors in a table built from the ``embedding`` group's initial weights.

    Kim's (2014) variants are all here: a trained table (non-static), a frozen one (static), or
    both side by side (multichannel: a frozen copy first, then the fine-tuned one, concatenated
    per token). The table keeps its initial weights, so a run can report how far training moved
    the vectors (``drift``).

    Args:
        embeddings: The initial table and how to train it.
        sparse: Sparse gradients for the trained table (the bag model's row-wise optimizers).
    """

    def __init__(self, embeddings: InitialEmbeddings, sparse: bool = False) -> None:
        super().__init__()
        weight = embeddings.weight
        self.embedding = nn.Embedding.from_pretrained(
            weight.clone(),
            freeze=embeddings.freeze and not embeddings.multichannel,
            padding_idx=PAD_ID,
            sparse=sparse,
        )
        self.static_embedding = (
            nn.Embedding.from_pretrained(weight.clone(), freeze=True, padding_idx=PAD_ID)
            if embeddings.multichannel
            else None
        )
        self.initial: torch.Tensor | None
        if self.embedding.weight.requires_grad:
            self.register_buffer("initial", weight.clone(), persistent=False)
        else:
            self.initial = None
        self.output_dim = weight.size(1) * (2 if embeddings.multichannel else 1)

    @property
    def multichannel(self) -> bool:
        return self.static_embedding is not None

    @property
    def sparse(self) -> bool:
        return bool(self.embedding.sparse)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token vectors (..., D), or (..., 2D) with the static channel first."""
        embedded = self.embedding(input_ids)
        if self.static_embedding is not None:
            embedded = torch.cat([self.static_embedding(input_ids), embedded], dim=-1)
        return embedded

    @torch.no_grad()
    def drift(self) -> torch.Tensor | None:
        """Mean L2 distance of the word vectors from their initial values (None: frozen)."""
        if self.initial is None:
            return None
        moved = self.embedding.weight[SPECIAL_IDS:] - self.initial[SPECIAL_IDS:]  # (V - 2, D)
        return moved.norm(dim=1).mean()


def legacy_state_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict saved before the embedder had its own module, with today's key names.

    Classifiers saved their tables as ``embedding.weight`` and ``static_embedding.weight``;
    they are ``embedder.embedding.weight`` and ``embedder.static_embedding.weight`` now.
    """
    renamed = {}
    for key, value in state.items():
        if key.split(".", 1)[0] in ("embedding", "static_embedding"):
            key = f"embedder.{key}"
        renamed[key] = value
    return renamed


def saved_embeddings(state: dict[str, torch.Tensor]) -> InitialEmbeddings:
    """An all-zero initial table of the shape a saved embedder has (and whether it had a static
    channel): enough to rebuild the system, whose weights then come from ``state``."""
    return InitialEmbeddings(
        weight=torch.zeros_like(state["embedder.embedding.weight"]),
        multichannel="embedder.static_embedding.weight" in state,
    )
