"""``TextClassifier``: one label per text from pooled encoder features."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics import ConfusionMatrix, MaxMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.heads import ClassificationHead
from wordlab.systems.base import TaskSystem


def _metrics(num_classes: int) -> MetricCollection:
    return MetricCollection(
        {
            "acc": MulticlassAccuracy(num_classes, average="micro"),
            "f1_macro": MulticlassF1Score(num_classes, average="macro"),
        }
    )


class TextClassifier(TaskSystem):
    """Classify texts: look up word vectors, encode them, map features to class logits.

    Args:
        encoder: A module from ``wordlab.models`` with pooled output (one vector per text).
        embeddings: The initial word-vector table (from the ``embedding`` group).
        label_names: Class names, index order.
        optimizer: Partial optimizer (None: a model rebuilt to predict).
        scheduler: Partial learning-rate scheduler, or None (see ``TaskSystem``).
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
        if hasattr(encoder, "pooling") and encoder.pooling is None:
            raise ValueError(
                "model.pooling=null gives one vector per token (for tagging); classification "
                "needs one per text: model.pooling=max (or mean, last for the RNN)"
            )
        super().__init__(encoder, embeddings, optimizer, scheduler, scheduler_interval)
        self.label_names = list(label_names)
        num_classes = len(self.label_names)
        features: int = encoder.output_dim  # type: ignore[assignment]
        self.head = ClassificationHead(features, num_classes, max_norm)
        self.train_metrics = _metrics(num_classes).clone(prefix="train/")
        self.val_metrics = _metrics(num_classes).clone(prefix="val/")
        self.test_metrics = _metrics(num_classes).clone(prefix="test/")
        self.test_confusion = ConfusionMatrix(task="multiclass", num_classes=num_classes)
        self.val_acc_best = MaxMetric()
        self.test_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Class logits, shape (B, num_classes), for a padded or flat batch."""
        return self.head(self.encode(batch))  # (B, C)

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
        super().on_train_epoch_end()

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

    def test_report(self) -> dict[str, torch.Tensor]:
        """Confusion matrix (gold x predicted), row indices and probabilities of the last test."""
        report = {
            "confusion": self.test_confusion.compute().cpu(),
            "indices": torch.cat([i for i, _ in self.test_outputs]),
            "probabilities": torch.cat([p for _, p in self.test_outputs]),
        }
        self.test_confusion.reset()
        return report
