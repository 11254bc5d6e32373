"""``TranslationPredictor``: translate texts with a trained model, and show where it looked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import PAD_ID, Vocabulary
from wordlab.predictor import Predictor
from wordlab.tasks.translation import metrics
from wordlab.tasks.translation.data import EOS
from wordlab.tasks.translation.system import Translator


class TranslationPredictor(Predictor):
    """A trained translator with the tokenizers and vocabularies it was trained with."""

    system: Translator

    def __init__(
        self,
        system: Translator,
        vocab: Vocabulary,
        target_vocab: Vocabulary,
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        super().__init__(system, vocab, config, run_id)
        data = config.get("data", {})
        name, lowercase = data.get("tokenizer", "regex"), data.get("lowercase", False)
        self.source_language = data.get("source_language") or data.get("source_field", "de")
        self.target_language = data.get("target_language") or data.get("target_field", "en")
        self.tokenizer = make_tokenizer(name, lowercase, self.source_language)
        self.target_tokenizer = make_tokenizer(name, lowercase, self.target_language)
        self.target_vocab = target_vocab

    def _batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, list[list[str]]]:
        tokens = [self.tokenizer(t)[: self.max_length] or ["<unk>"] for t in texts]
        longest = max(len(t) for t in tokens)
        ids = torch.full((len(texts), longest), PAD_ID, dtype=torch.long)
        for row, words in enumerate(tokens):
            ids[row, : len(words)] = torch.tensor(self.vocab.encode(words))
        return ids.to(self.system.device), tokens

    def translate(
        self,
        texts: str | Sequence[str],
        beam: int | None = None,
        length_penalty: float | None = None,
        batch_size: int = 64,
    ) -> list[str]:
        """Translations of ``texts`` (detokenized).

        Args:
            texts: A text or a list of texts in the source language.
            beam: Beam size (1: greedy; None: the run's ``system.beam_size``).
            length_penalty: GNMT's length normalisation of beam search (None: the run's).
            batch_size: Texts translated at once.
        """
        return [
            r["translation"] for r in self.translate_rows(texts, beam, length_penalty, batch_size)
        ]

    def translate_rows(
        self,
        texts: str | Sequence[str],
        beam: int | None = None,
        length_penalty: float | None = None,
        batch_size: int = 64,
    ) -> list[dict[str, Any]]:
        """Per text: ``translation``, its ``tokens``, the ``source_tokens`` and the attention
        ``weights`` (translation tokens with ``<eos>`` x source tokens)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        rows = []
        for start in range(0, len(texts), batch_size):
            ids, sources = self._batch(texts[start : start + batch_size])
            outputs, weights = self.system.translate_ids(ids, beam, length_penalty)
            for source, out, weight in zip(sources, outputs, weights, strict=True):
                tokens = self.system.tokens(out)
                rows.append(
                    {
                        "translation": metrics.detokenize(tokens, self.target_language),
                        "tokens": tokens,
                        "source_tokens": source,
                        "weights": weight.cpu(),
                    }
                )
        return rows

    def plot_attention(
        self, text: str, beam: int | None = None, path: str | Path | None = None
    ) -> Any:
        """A heat map of the attention weights while translating ``text`` (a matplotlib
        figure; written to ``path`` too when given)."""
        from wordlab.plots import attention_map

        row = self.translate_rows(text, beam)[0]
        rows = row["weights"].shape[0]  # with the <eos> step, unless cut at the length limit
        figure = attention_map(row["weights"], row["source_tokens"], [*row["tokens"], EOS][:rows])
        if path is not None:
            figure.savefig(path, bbox_inches="tight")
        return figure
