"""``TaskSystem``: what every task's LightningModule shares.

The word-vector table (``TokenEmbedder``), the encoder and the batch layout it reads, the
optimizer and learning-rate schedule, the embedding drift, and the run metadata stored in every
checkpoint. A task's system adds its head, loss, metrics and test report.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.embedder import TokenEmbedder, legacy_state_keys
from wordlab.systems.optimizers import RowwiseAdagrad

SPARSE_OPTIMIZERS = (RowwiseAdagrad, torch.optim.Adagrad, torch.optim.SGD, torch.optim.SparseAdam)


class TaskSystem(pl.LightningModule):
    """Embedder, encoder, optimization and checkpoint metadata; a task adds the rest.

    Args:
        encoder: A module from ``wordlab.models`` (its ``input_layout`` says which batch it reads:
            ``padded`` ids with a mask, or ``flat`` ids with offsets).
        embeddings: The initial word-vector table (from the ``embedding`` group).
        optimizer: Partial optimizer; called with the trainable parameters (None: a model
            rebuilt to predict, which cannot be trained).
        scheduler: Partial learning-rate scheduler, called with the optimizer, or None. If it
            takes a ``total_steps`` that is not set, it gets the run's number of optimizer steps.
        scheduler_interval: ``epoch`` or ``step``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        embeddings: InitialEmbeddings,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        super().__init__()
        self.input_layout: str = getattr(encoder, "input_layout", "padded")
        if embeddings.multichannel and self.input_layout != "padded":
            raise ValueError("embedding.multichannel needs an encoder of padded batches (cnn, rnn)")
        self.embedder = TokenEmbedder(embeddings, sparse=bool(getattr(encoder, "sparse", False)))
        self.encoder = encoder
        # Dropout on each token's input vector (a task that wants it sets it; padded batches).
        self.input_dropout: nn.Module = nn.Identity()
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        # Config, vocabulary and label names, stored in every checkpoint so that a checkpoint
        # alone rebuilds the model and its tokenizer (see ``wordlab.predictor``).
        self.run_metadata: dict[str, Any] = {}

    def encode(self, batch: dict[str, torch.Tensor], extra: torch.Tensor | None = None) -> Any:
        """The encoder's output for a padded or flat batch: the one place that reads layouts.

        Args:
            batch: ``input_ids`` (B, T) for padded batches (``<pad>`` = 0 marks padding), or
                ``token_ids`` (N,) and ``offsets`` (B,) for flat ones.
            extra: Features (B, T, E) concatenated to each token's vector (character features).
        """
        if self.input_layout == "flat":
            return self.encoder(batch["token_ids"], batch["offsets"], self.embedder.embedding)
        input_ids = batch["input_ids"]  # (B, T)
        mask = input_ids != PAD_ID  # (B, T); made here, so it is never copied to the device
        vectors = self.embedder(input_ids)  # (B, T, D)
        if extra is not None:
            vectors = torch.cat([vectors, extra], dim=-1)  # (B, T, D + E)
        return self.encoder(self.input_dropout(vectors), mask)

    def on_train_epoch_end(self) -> None:
        drift = self.embedder.drift()
        if drift is not None:  # how far fine-tuning moved the word vectors
            self.log("embedding/drift", drift)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["wordlab"] = self.run_metadata

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["state_dict"] = legacy_state_keys(checkpoint["state_dict"])

    def configure_optimizers(self) -> Any:
        if self.optimizer_factory is None:
            raise ValueError("this model was rebuilt to predict, without an optimizer to train it")
        optimizer = self.optimizer_factory(params=[p for p in self.parameters() if p.requires_grad])
        if self.embedder.sparse and not isinstance(optimizer, SPARSE_OPTIMIZERS):
            raise ValueError(
                f"model.sparse=true gives sparse gradients, which {type(optimizer).__name__} "
                "cannot take: use optimizer=rowwise_adagrad, adagrad or sgd, or model.sparse=false"
            )
        if self.scheduler_factory is None:
            return optimizer
        extra = {}
        if _unset_parameter(self.scheduler_factory, "total_steps"):
            extra["total_steps"] = int(self.trainer.estimated_stepping_batches)
        scheduler = self.scheduler_factory(optimizer=optimizer, **extra)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": self.scheduler_interval,
                "monitor": "val/loss",
            },
        }


def _unset_parameter(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` (a function or ``functools.partial``) takes ``name`` and lacks it."""
    bound = factory.keywords if isinstance(factory, functools.partial) else {}
    function = factory.func if isinstance(factory, functools.partial) else factory
    return name in inspect.signature(function).parameters and name not in bound
