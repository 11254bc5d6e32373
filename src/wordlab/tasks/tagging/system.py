"""``SequenceTagger``: a tag per token from per-token encoder states, softmax or CRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torchmetrics import MaxMetric

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.chars import make_char_encoder
from wordlab.models.crf import CRF
from wordlab.systems.base import TaskSystem
from wordlab.tasks.tagging import schemes
from wordlab.tasks.tagging.metrics import ALL, span_scores

HEADS = ("crf", "softmax")


def char_features(chars: str | None, char_options: dict[str, Any] | None) -> int:
    """Features per token that the character encoder adds (0 without one)."""
    encoder = make_char_encoder(chars, 3, **(char_options or {}))
    return int(encoder.output_dim) if encoder is not None else 0  # type: ignore[arg-type]


class SequenceTagger(TaskSystem):
    """Tag each token: word vectors (and character features), a per-token encoder, a head.

    Args:
        encoder: The CNN or RNN encoder with ``pooling=None`` (one state per token); its
            ``input_dim`` is the word vector size plus the character features.
        embeddings: The initial word-vector table (from the ``embedding`` group).
        tag_names: Tags in index order (the training scheme's).
        num_chars: Size of the character vocabulary, padding and unknown included.
        chars: Character features: ``cnn`` (Ma & Hovy 2016), ``lstm`` (Lample et al. 2016) or None.
        char_options: Arguments of the character encoder (``char_dim``, ``num_filters``...).
        head: ``crf`` (a linear-chain CRF, Viterbi decoding, transitions the scheme forbids
            never taken) or ``softmax`` (each token on its own).
        tag_scheme: Scheme of ``tag_names`` (for the CRF's constraints and span F1); None for
            tags without spans (part of speech: token accuracy only).
        dropout: Dropout on the encoder states before the tag scores.
        input_dropout: Dropout on each token's input (word vector and character features), as
            Ma & Hovy (2016) and Lample et al. (2016) apply it.
        optimizer: Partial optimizer (None: a model rebuilt to predict).
        scheduler: Partial learning-rate scheduler, or None (see ``TaskSystem``).
        scheduler_interval: ``epoch`` or ``step``.
    """

    def __init__(
        self,
        encoder: nn.Module,
        embeddings: InitialEmbeddings,
        tag_names: list[str],
        num_chars: int = 2,
        chars: str | None = "cnn",
        char_options: dict[str, Any] | None = None,
        head: str = "crf",
        tag_scheme: str | None = "bioes",
        dropout: float = 0.5,
        input_dropout: float = 0.5,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        if getattr(encoder, "input_layout", "padded") != "padded":
            raise ValueError("tagging needs one state per token: model=rnn or model=cnn, not bag")
        if getattr(encoder, "pooling", None) is not None:
            raise ValueError(
                f"model.pooling={encoder.pooling} gives one vector per text; tagging needs one "
                "per token: model.pooling=null (the tagging task's default)"
            )
        if head not in HEADS:
            raise ValueError(f"unknown system.head {head!r}; expected one of {HEADS}")
        super().__init__(encoder, embeddings, optimizer, scheduler, scheduler_interval)
        self.tag_names = list(tag_names)
        self.tag_scheme = schemes.check_scheme(tag_scheme) if tag_scheme else None
        self.char_encoder = make_char_encoder(chars, num_chars, **(char_options or {}))
        expected = self.embedder.output_dim + char_features(chars, char_options)
        if getattr(encoder, "input_dim", expected) != expected:
            raise ValueError(
                f"the encoder reads {encoder.input_dim} features per token, but word vectors and "
                f"characters give {expected}"
            )
        features: int = encoder.output_dim  # type: ignore[assignment]
        self.dropout = nn.Dropout(dropout)
        self.input_dropout = nn.Dropout(input_dropout)
        self.scores = nn.Linear(features, len(self.tag_names))
        self.crf: CRF | None = None
        if head == "crf":
            constraints = (
                schemes.allowed_transitions(self.tag_names, self.tag_scheme)
                if self.tag_scheme
                else (None, None, None)
            )
            self.crf = CRF(len(self.tag_names), *constraints)
        self.val_f1_best = MaxMetric()
        self.val_acc_best = MaxMetric()
        self.outputs: list[tuple[torch.Tensor, list[list[int]]]] = []
        self._gold: list[list[int]] = []
        self.test_paths: list[tuple[int, list[int]]] = []

    @property
    def label_names(self) -> list[str]:
        return self.tag_names

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Tag scores (emissions), shape (B, T, K)."""
        chars = self.char_encoder(batch["char_ids"]) if self.char_encoder is not None else None
        states = self.encode(batch, extra=chars)  # (B, T, H)
        return self.scores(self.dropout(states))  # (B, T, K)

    def loss(self, emissions: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = batch["input_ids"] != PAD_ID  # (B, T)
        if self.crf is not None:
            return -self.crf.log_likelihood(emissions, batch["tags"], mask).mean()
        return F.cross_entropy(emissions[mask], batch["tags"][mask])

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best tag ids of each sentence (Viterbi with a CRF), as many as real tokens."""
        if self.crf is not None:
            return self.crf.decode(emissions.float(), mask)
        best = emissions.argmax(-1).cpu()  # (B, T)
        return [row[:n].tolist() for row, n in zip(best, mask.sum(1).tolist(), strict=True)]

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch), batch)
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=len(batch["tags"]))
        return loss

    def _evaluate_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        emissions = self(batch)
        loss = self.loss(emissions, batch)
        self.log(f"{stage}/loss", loss, on_epoch=True, batch_size=len(batch["tags"]))
        mask = batch["input_ids"] != PAD_ID
        self.outputs.append((batch["index"].cpu(), self.decode(emissions, mask)))
        gold = batch["tags"].cpu()
        lengths = mask.sum(1).tolist()
        self._gold.extend(row[:n].tolist() for row, n in zip(gold, lengths, strict=True))

    def _scores(self, stage: str) -> dict[str, torch.Tensor]:
        predicted = [path for _, paths in self.outputs for path in paths]
        gold = self._gold
        tokens = sum(len(g) for g in gold)
        right = sum(
            p == g
            for ps, gs in zip(predicted, gold, strict=True)
            for p, g in zip(ps, gs, strict=True)
        )
        metrics = {f"{stage}/acc": torch.tensor(right / max(tokens, 1))}
        if self.tag_scheme is not None:
            names = self.tag_names
            scores = span_scores(
                [[names[i] for i in g] for g in gold], [[names[i] for i in p] for p in predicted]
            )[ALL]
            for key in ("precision", "recall", "f1"):
                metrics[f"{stage}/{key}"] = torch.tensor(scores[key])
        return metrics

    def on_validation_epoch_start(self) -> None:
        self.outputs, self._gold = [], []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate_step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        metrics = self._scores("val")
        if not self.trainer.sanity_checking:
            self.val_acc_best.update(metrics["val/acc"])
            metrics["val/acc_best"] = self.val_acc_best.compute()
            if "val/f1" in metrics:
                self.val_f1_best.update(metrics["val/f1"])
                metrics["val/f1_best"] = self.val_f1_best.compute()
        self.log_dict(metrics, prog_bar=True)

    def on_test_epoch_start(self) -> None:
        self.outputs, self._gold = [], []

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate_step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self.log_dict(self._scores("test"))
        self.test_paths = [
            (int(i), path)
            for indices, paths in self.outputs
            for i, path in zip(indices, paths, strict=True)
        ]

    def test_report(self) -> list[tuple[int, list[int]]]:
        """Row index and predicted tag ids of every sentence of the last test."""
        return sorted(self.test_paths)
