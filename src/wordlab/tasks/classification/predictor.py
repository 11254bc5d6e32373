"""``TextPredictor``: a trained classifier that labels raw texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from wordlab.data.batching import TokenizedSplit
from wordlab.data.vocab import Vocabulary
from wordlab.predictor import Predictor
from wordlab.tasks.classification.system import TextClassifier


class TextPredictor(Predictor):
    """A trained classifier with the tokenizer and vocabulary it was trained with.

    Attributes:
        system: The ``TextClassifier`` (in eval mode).
        label_names: Class names in index order.
    """

    system: TextClassifier

    def __init__(
        self,
        system: TextClassifier,
        vocab: Vocabulary,
        label_names: Sequence[str],
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        super().__init__(system, vocab, config, run_id)
        self.label_names = list(label_names)

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """Class probabilities, shape (len(texts), num_classes)."""
        split = TokenizedSplit.from_lists(self.encode(texts), self.system.input_layout)
        device = self.system.device
        outputs = []
        for start in range(0, len(split), batch_size):
            batch = split.__getitems__(list(range(start, min(start + batch_size, len(split)))))
            batch = {k: v.to(device) for k, v in batch.items()}
            outputs.append(self.system(batch).softmax(-1).float().cpu())
        if not outputs:
            return torch.zeros(0, len(self.label_names))
        return torch.cat(outputs)

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> list[dict[str, Any]]:
        """For each text, ``{"label": name, "probabilities": {name: p}}``."""
        probabilities = self.predict_proba(texts, batch_size)
        return [
            {
                "label": self.label_names[int(row.argmax())],
                "probabilities": dict(zip(self.label_names, row.tolist(), strict=True)),
            }
            for row in probabilities
        ]
