"""From word vectors (gensim ``KeyedVectors``) to an initial table for a vocabulary."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from wordlab.data.errors import DataError
from wordlab.data.vocab import PAD_ID, Vocabulary
from wordlab.embeddings.base import InitialEmbeddings

Lookup = Callable[[str], "np.ndarray | None"]


def table_from_vectors(
    vocab: Vocabulary,
    lookup: Lookup,
    dim: int,
    source: str,
    seed: int = 0,
    fallback: Lookup | None = None,
) -> tuple[torch.Tensor, dict[str, float], np.ndarray]:
    """Fill a (len(vocab), dim) table from ``lookup``, trying each token then its lowercase.

    The lowercase try lets a cased vocabulary (tagging keeps case) use lowercase vectors such as
    GloVe's; ``embedding/found_lowercased`` counts the words found only that way (always 0 for a
    lowercase vocabulary, whose table the try leaves as it was). Words without a vector get
    ``fallback`` (fastText subwords) if given, else uniform random vectors with the variance of
    the found ones (Kim 2014).

    Returns:
        The table, coverage figures, and a boolean mask of the rows that were found.
    """
    table = np.zeros((len(vocab), dim), dtype=np.float32)
    found = np.zeros(len(vocab), dtype=bool)
    lowercased = 0  # words found only through their lowercase form
    for index, token in enumerate(vocab.tokens[2:], start=2):
        vector = lookup(token)
        if vector is None and token.lower() != token:
            vector = lookup(token.lower())
            lowercased += vector is not None
        if vector is not None:
            table[index], found[index] = vector, True
    if not found.any():
        raise DataError(
            f"{source}: none of the {len(vocab) - 2} vocabulary words has a vector (tried each "
            "word and its lowercase form); check the file and data.lowercase"
        )
    missing = ~found
    missing[PAD_ID] = False
    subword = 0
    if fallback is not None:
        for index in (np.flatnonzero(missing[2:]) + 2).tolist():  # words only, not <unk>
            vector = fallback(vocab.tokens[index])
            if vector is not None:
                table[index], missing[index] = vector, False
                subword += 1
    half_width = float(np.sqrt(3.0) * table[found].std())  # uniform with the found variance
    rng = np.random.default_rng(seed)
    table[missing] = rng.uniform(-half_width, half_width, (int(missing.sum()), dim))
    counts = np.asarray(vocab.counts or [1] * len(vocab), dtype=np.float64)
    counts[:2] = 0
    metrics = {
        "embedding/vocab_coverage": float(found[2:].mean()) if len(vocab) > 2 else 0.0,
        "embedding/token_coverage": float(counts[found].sum() / max(counts.sum(), 1)),
        "embedding/found": float(found.sum()),
        "embedding/found_lowercased": float(lowercased),
    }
    if fallback is not None:
        metrics["embedding/subword_vectors"] = float(subword)
    return torch.from_numpy(table), metrics, found


def frequent_words(vocab: Vocabulary, found: np.ndarray, count: int = 8) -> list[str]:
    """Frequent alphabetic words of 4+ letters that have vectors (skips most stop words)."""
    words = [t for i, t in enumerate(vocab.tokens) if found[i] and t.isalpha() and len(t) >= 4]
    return words[:count]


def write_neighbours(
    table: torch.Tensor, vocab: Vocabulary, words: list[str], path: Path, k: int = 8
) -> Path:
    """Nearest neighbours by cosine similarity among the vocabulary, one word per line."""
    normed = torch.nn.functional.normalize(table, dim=1)  # (V, D)
    lines = []
    for word in words:
        similarity = normed @ normed[vocab.index[word]]  # (V,)
        similarity[[PAD_ID, 1, vocab.index[word]]] = -2.0
        best = similarity.topk(min(k, len(vocab) - 3))
        pairs = ", ".join(
            f"{vocab.tokens[i]} {s:.2f}"
            for s, i in zip(best.values.tolist(), best.indices.tolist(), strict=True)
        )
        lines.append(f"{word}: {pairs}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Word-similarity tests that gensim's wheel ships (``gensim.test.utils.datapath``): word pairs
# with human similarity judgements.
SIMILARITY_TESTS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def similarity_scores(
    vocab: Vocabulary, table: torch.Tensor, found: np.ndarray
) -> dict[str, float]:
    """Spearman correlation of the vectors' cosine similarities with the human judgements of
    WordSim-353 (relatedness) and SimLex-999 (similarity), over the pairs whose two words have
    a vector (case-insensitive), and the share of pairs that do (``_coverage``): how good the
    vectors are before any training on them. A test none of whose pairs is covered is left out.
    """
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    rows = [int(i) for i in np.flatnonzero(found) if i >= 2]  # not <pad>, <unk>
    metrics: dict[str, float] = {}
    if not rows:
        return metrics
    vectors = KeyedVectors(table.size(1))
    vectors.add_vectors([vocab.tokens[i] for i in rows], table[rows].float().numpy())
    for name, file in SIMILARITY_TESTS.items():
        try:
            _, spearman, oov_percent = vectors.evaluate_word_pairs(datapath(file))
        except ValueError:  # gensim's answer when no pair has both words
            continue
        if not math.isnan(spearman.statistic):
            metrics[f"embedding/{name}"] = float(spearman.statistic)
            metrics[f"embedding/{name}_coverage"] = 1 - oov_percent / 100
    return metrics


def finish(
    vocab: Vocabulary,
    table: torch.Tensor,
    metrics: dict[str, float],
    found: np.ndarray,
    folder: Path,
    freeze: bool,
    multichannel: bool,
    artifacts: list[Path] | None = None,
) -> InitialEmbeddings:
    """Write the neighbours report, score the vectors on word similarity, and wrap everything
    as ``InitialEmbeddings``."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics = {**metrics, **similarity_scores(vocab, table, found)}
    report = write_neighbours(table, vocab, frequent_words(vocab, found), folder / "neighbours.txt")
    return InitialEmbeddings(
        weight=table,
        freeze=freeze,
        multichannel=multichannel,
        metrics=metrics,
        artifacts=[report, *(artifacts or [])],
    )
