"""``TaggerPredictor``: a trained tagger that finds spans in raw texts or token lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from wordlab.data.batching import TokenizedSplit
from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import UNK_ID, Vocabulary
from wordlab.predictor import Predictor
from wordlab.tasks.tagging import schemes
from wordlab.tasks.tagging.data import char_table
from wordlab.tasks.tagging.system import SequenceTagger


class TaggerPredictor(Predictor):
    """A trained tagger with the vocabulary, characters and schemes it was trained with.

    Attributes:
        system: The ``SequenceTagger`` (in eval mode).
        tag_names: Tags in index order (the training scheme's).
        chars: The training characters.
        source_scheme: The training corpus's scheme, the one predictions are written in.
    """

    system: SequenceTagger

    def __init__(
        self,
        system: SequenceTagger,
        vocab: Vocabulary,
        meta: dict[str, Any],
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        super().__init__(system, vocab, config, run_id)
        data = config.get("data", {})
        self.tag_names = list(meta["label_names"])
        self.chars = list(meta["chars"])
        self.tag_scheme = meta.get("tag_scheme")
        self.source_scheme = meta.get("source_scheme") or self.tag_scheme
        self.lowercase = bool(data.get("lowercase", False))
        self.max_word_length = int(data.get("max_word_length", 30))
        # Raw texts are cut into words with the corpus's case kept: the characters see it.
        self.tokenizer = make_tokenizer(data.get("tokenizer", "regex"), lowercase=False)

    @property
    def label_names(self) -> list[str]:
        return self.tag_names

    def batch(self, sentences: Sequence[Sequence[str]]) -> dict[str, torch.Tensor]:
        """A padded batch of token lists: word ids and character ids."""
        ids = [
            self.vocab.encode([w.lower() if self.lowercase else w for w in words]) or [UNK_ID]
            for words in sentences
        ]
        split = TokenizedSplit.from_lists(ids)
        words = [w for s in sentences for w in s]
        split.word_chars = char_table(words, self.chars, self.max_word_length)
        return split.__getitems__(list(range(len(sentences))))

    @torch.no_grad()
    def tag(
        self, sentences: Sequence[Sequence[str]], batch_size: int = 64
    ) -> list[tuple[list[str], list[float]]]:
        """The tags (in the corpus's scheme) of each token list, with each tag's probability
        (the softmax of its score at that token)."""
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            batch = {k: v.to(self.system.device) for k, v in self.batch(chunk).items()}
            emissions = self.system(batch)  # (B, T, K)
            mask = batch["input_ids"] != 0
            paths = self.system.decode(emissions, mask)
            probabilities = emissions.float().softmax(-1).cpu()  # (B, T, K)
            for row, path in enumerate(paths):
                tags = [self.tag_names[i] for i in path]
                if self.tag_scheme and self.source_scheme and self.source_scheme != self.tag_scheme:
                    tags = schemes.convert(tags, self.tag_scheme, self.source_scheme)[0]
                scores = [float(probabilities[row, t, i]) for t, i in enumerate(path)]
                results.append((tags, scores))
        return results

    def predict(
        self, inputs: Sequence[str | Sequence[str]], batch_size: int = 64
    ) -> list[dict[str, Any]]:
        """For each raw text (or token list): ``tokens``, ``tags`` and ``spans``.

        A span is ``{"type", "text", "start", "end", "score"}``: character offsets into the text
        (into the tokens joined by spaces for a token list) and the mean probability of its
        tags. Tags without a scheme (part of speech) give no spans.
        """
        sentences, texts = [], []
        for item in inputs:
            if isinstance(item, str):
                sentences.append(self.tokenizer(item) or [item])
                texts.append(item)
            else:
                sentences.append(list(item))
                texts.append(" ".join(item))
        tagged = self.tag(sentences, batch_size)
        results = []
        for text, words, (tags, scores) in zip(texts, sentences, tagged, strict=True):
            offsets = token_offsets(text, words)
            found = schemes.spans(tags) if self.tag_scheme else []
            spans = [
                {
                    "type": span.label,
                    "text": text[offsets[span.start][0] : offsets[span.end - 1][1]],
                    "start": offsets[span.start][0],
                    "end": offsets[span.end - 1][1],
                    "score": round(sum(scores[span.start : span.end]) / (span.end - span.start), 5),
                }
                for span in found
            ]
            results.append({"tokens": words, "tags": tags, "spans": spans})
        return results


def token_offsets(text: str, tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Start and end character of each token in ``text``, searched left to right; a token not
    found as written (a tokenizer that rewrites it) takes the position after the previous one."""
    offsets, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0:
            start = position
        end = start + len(token)
        offsets.append((start, min(end, len(text))))
        position = end
    return offsets
