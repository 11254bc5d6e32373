"""``TextClassifier``: embedding, encoder and head, with loss, metrics and optimization."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics import ConfusionMatrix, MaxMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.heads import ClassificationHead
from wordlab.systems.optimizers import RowwiseAdagrad

SPARSE_OPTIMIZERS = (RowwiseAdagrad, torch.optim.Adagrad, torch.optim.SGD, torch.optim.SparseAdam)


def _metrics(num_classes: int) -> MetricCollection:
    return MetricCollection(
        {
            "acc": MulticlassAccuracy(num_classes, average="micro"),
            "f1_macro": MulticlassF1Score(num_classes, average="macro"),
        }
    )


class TextClassifier(pl.LightningModule):
    """Classify texts: look up word vectors, encode them, map features to class logits.

    Args:
        encoder: A module from ``wordlab.models`` (its ``input_layout`` says which batch it reads).
        embeddings: The initial word-vector table (from the ``embedding`` group).
        label_names: Class names, index order.
        optimizer: Partial optimizer; called with the trainable parameters (None: a model
            rebuilt to predict, which cannot be trained).
        scheduler: Partial learning-rate scheduler, called with the optimizer, or None. If it
            takes a ``total_steps`` that is not set, it gets the run's number of optimizer steps.
        scheduler_interval: ``epoch`` or ``step``.
        max_norm: Kim's max-norm constraint on the output weights (None: off).
    """

    def __init__(
        self,
        encoder: nn.Module,
        embeddings: InitialEmbeddings,
        label_names: list[str],
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
        max_norm: float | None = None,
    ) -> None:
        super().__init__()
        self.label_names = list(label_names)
        num_classes = len(self.label_names)
        if hasattr(encoder, "pooling") and encoder.pooling is None:
            raise ValueError(
                "model.pooling=null gives one vector per token (for tagging); classification "
                "needs one per text: model.pooling=max (or mean, last for the RNN)"
            )
        self.input_layout: str = getattr(encoder, "input_layout", "padded")
        if embeddings.multichannel and self.input_layout != "padded":
            raise ValueError("embedding.multichannel needs an encoder of padded batches (cnn, rnn)")
        weight = embeddings.weight
        # Multichannel (Kim 2014): a frozen copy next to the fine-tuned one, concatenated.
        self.embedding = nn.Embedding.from_pretrained(
            weight.clone(),
            freeze=embeddings.freeze and not embeddings.multichannel,
            padding_idx=0,
            sparse=bool(getattr(encoder, "sparse", False)),
        )
        self.static_embedding = (
            nn.Embedding.from_pretrained(weight.clone(), freeze=True, padding_idx=0)
            if embeddings.multichannel
            else None
        )
        if self.embedding.weight.requires_grad:  # to report how far fine-tuning moves vectors
            self.register_buffer("initial_embedding", weight.clone(), persistent=False)
        else:
            self.initial_embedding = None
        self.encoder = encoder
        features: int = encoder.output_dim  # type: ignore[assignment]
        self.head = ClassificationHead(features, num_classes, max_norm)
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        self.train_metrics = _metrics(num_classes).clone(prefix="train/")
        self.val_metrics = _metrics(num_classes).clone(prefix="val/")
        self.test_metrics = _metrics(num_classes).clone(prefix="test/")
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=num_classes)
        self.val_acc_best = MaxMetric()
        self.test_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []
        # Config, vocabulary and label names, stored in every checkpoint so that a checkpoint
        # alone rebuilds the model and its tokenizer (see ``wordlab.predictor``).
        self.run_metadata: dict[str, Any] = {}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Class logits, shape (B, num_classes), for a padded or flat batch."""
        if self.input_layout == "flat":
            features = self.encoder(batch["token_ids"], batch["offsets"], self.embedding)  # (B, H)
        else:
            input_ids = batch["input_ids"]  # (B, T)
            mask = input_ids != PAD_ID  # (B, T); made here, so it is never copied to the device
            features = self.encoder(self.embed(input_ids), mask)  # (B, H)
        return self.head(features)  # (B, C)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token vectors (B, T, D), or (B, T, 2D) with a static channel first."""
        embedded = self.embedding(input_ids)
        if self.static_embedding is not None:
            embedded = torch.cat([self.static_embedding(input_ids), embedded], dim=-1)
        return embedded

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(batch)
        return F.cross_entropy(logits, batch["label"]), logits

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, logits = self._step(batch)
        size = len(batch["label"])
        self.train_metrics.update(logits, batch["label"])
        # Not in the progress bar: showing a step's loss waits for the GPU at every step.
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=size)
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.head.apply_max_norm()

    def on_train_epoch_end(self) -> None:
        self.log_dict(self.train_metrics.compute())
        self.train_metrics.reset()
        if self.initial_embedding is not None:
            moved = self.embedding.weight.detach()[2:] - self.initial_embedding[2:]  # (V - 2, D)
            self.log("embedding/drift", moved.norm(dim=1).mean())

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logits = self._step(batch)
        self.val_metrics.update(logits, batch["label"])
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, batch_size=len(batch["label"]))

    def on_validation_epoch_end(self) -> None:
        metrics = self.val_metrics.compute()
        self.val_metrics.reset()
        if not self.trainer.sanity_checking:
            self.val_acc_best.update(metrics["val/acc"])
            metrics["val/acc_best"] = self.val_acc_best.compute()
        self.log_dict(metrics, prog_bar=True)

    def on_test_epoch_start(self) -> None:
        self.test_outputs = []

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logits = self._step(batch)
        self.test_metrics.update(logits, batch["label"])
        self.test_confusion.update(logits, batch["label"])
        self.test_outputs.append((batch["index"].cpu(), logits.softmax(-1).float().cpu()))
        self.log("test/loss", loss, on_epoch=True, batch_size=len(batch["label"]))

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.test_metrics.compute())
        self.test_metrics.reset()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["wordlab"] = self.run_metadata

    def configure_optimizers(self) -> Any:
        if self.optimizer_factory is None:
            raise ValueError("this model was rebuilt to predict, without an optimizer to train it")
        optimizer = self.optimizer_factory(params=[p for p in self.parameters() if p.requires_grad])
        if self.embedding.sparse and not isinstance(optimizer, SPARSE_OPTIMIZERS):
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

    def test_report(self) -> dict[str, torch.Tensor]:
        """Confusion matrix (gold x predicted), row indices and probabilities of the last test."""
        report = {
            "confusion": self.test_confusion.compute().cpu(),
            "indices": torch.cat([i for i, _ in self.test_outputs]),
            "probabilities": torch.cat([p for _, p in self.test_outputs]),
        }
        self.test_confusion.reset()
        return report


def _unset_parameter(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` (a function or ``functools.partial``) takes ``name`` and lacks it."""
    bound = factory.keywords if isinstance(factory, functools.partial) else {}
    function = factory.func if isinstance(factory, functools.partial) else factory
    return name in inspect.signature(function).parameters and name not in bound
