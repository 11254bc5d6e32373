"""The LightningModule base every task's system builds on: embedder, encoder, optimization."""

from wordlab.systems.base import TaskSystem

__all__ = ["TaskSystem"]
