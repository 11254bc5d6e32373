"""``LanguageModelPredictor``: score texts and continue prompts with a trained language model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional as F

from wordlab.data.vocab import UNK_ID, Vocabulary
from wordlab.predictor import Predictor
from wordlab.tasks.language_model.data import IGNORE
from wordlab.tasks.language_model.system import LanguageModel


class LanguageModelPredictor(Predictor):
    """A trained language model with the tokenizer and vocabulary it was trained with.

    Each text is read as a line of the corpus: after an ``<eos>``, and followed by one.
    """

    system: LanguageModel

    def __init__(
        self,
        system: LanguageModel,
        vocab: Vocabulary,
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        super().__init__(system, vocab, config, run_id)
        self.max_length = None  # a text is scored whole

    def ids(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokenizer(text))

    @torch.no_grad()
    def score(self, texts: Sequence[str], batch_size: int = 64) -> list[dict[str, Any]]:
        """Per text: ``tokens`` (with ``<eos>``), ``unknown`` (words read as ``<unk>``), the
        summed negative log-likelihood ``nll`` (nats) and the perplexity ``ppl``."""
        eos = self.system.eos_id
        results = []
        for start in range(0, len(texts), batch_size):
            chunk = [self.ids(t) for t in texts[start : start + batch_size]]
            longest = max(len(ids) for ids in chunk) + 1
            inputs = torch.zeros(len(chunk), longest, dtype=torch.long)
            targets = torch.full((len(chunk), longest), IGNORE, dtype=torch.long)
            for row, ids in enumerate(chunk):
                inputs[row, : len(ids) + 1] = torch.tensor([eos, *ids])
                targets[row, : len(ids) + 1] = torch.tensor([*ids, eos])
            logits, _ = self.system(inputs.to(self.system.device))
            losses = F.cross_entropy(
                logits.float().transpose(1, 2),
                targets.to(logits.device),
                ignore_index=IGNORE,
                reduction="none",
            ).cpu()  # (B, T)
            for row, ids in enumerate(chunk):
                nll = float(losses[row, : len(ids) + 1].sum())
                results.append(
                    {
                        "tokens": len(ids) + 1,
                        "unknown": sum(i == UNK_ID for i in ids),
                        "nll": round(nll, 4),
                        "ppl": round(math.exp(nll / (len(ids) + 1)), 4),
                    }
                )
        return results

    def generate(
        self,
        prompt: str = "",
        max_tokens: int = 30,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> str:
        """The prompt continued by up to ``max_tokens`` sampled tokens (ending at ``<eos>``,
        which is not written).

        Args:
            prompt: Start of a line, tokenized as the training data was ("" starts a line).
            max_tokens: Most tokens to add.
            temperature: Below 1 sharpens the distribution, above 1 flattens it; 0 is greedy.
            top_k: Sample among the k likeliest tokens only.
            seed: Seed of the sampling (None: a fresh draw each call).
        """
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        context = [self.system.eos_id, *self.ids(prompt)]
        ids = self.system.generate(context, max_tokens, temperature, top_k, generator)
        words = [self.vocab.tokens[i] for i in ids if i != self.system.eos_id]
        return " ".join([*self.tokenizer(prompt), *words])
