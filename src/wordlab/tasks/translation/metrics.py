"""Translation scores with sacreBLEU: BLEU (cased, lowercased, on tokens), chrF, per sentence.

Hypotheses are detokenized (Moses rules of the target language, ``sacremoses``) and scored
against the raw reference texts, so ``bleu`` is the standard detokenized sacreBLEU (13a
tokenization, its signature logged with the run). ``bleu_lc`` lowercases both sides first.
``bleu_tok`` scores the token sequences as they are (``tokenize=none``), the way tutorials that
compute BLEU on their own tokens do (torchtext's ``bleu_score`` on spaCy tokens, lowercased).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

# Source lengths (tokens) of the per-length report: [1, 10], [11, 20], [21, 30], [31, ...).
LENGTH_EDGES = (0, 10, 20, 30, math.inf)


@lru_cache(maxsize=8)
def _detokenizer(language: str) -> Any:
    from sacremoses import MosesDetokenizer

    return MosesDetokenizer(lang=language)


def detokenize(tokens: Sequence[str], language: str) -> str:
    """A text from tokens, with the Moses detokenizer's rules for ``language``."""
    return str(_detokenizer(language).detokenize(list(tokens)))


def corpus_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    hypothesis_tokens: Sequence[Sequence[str]],
    reference_tokens: Sequence[Sequence[str]],
) -> dict[str, float]:
    """``bleu``, ``bleu_lc``, ``bleu_tok`` and ``chrf`` of a corpus (one reference each)."""
    from sacrebleu.metrics import BLEU, CHRF

    refs = [list(references)]
    hyps = list(hypotheses)
    joined = [" ".join(t) for t in hypothesis_tokens]
    joined_refs = [[" ".join(t) for t in reference_tokens]]
    return {
        "bleu": BLEU().corpus_score(hyps, refs).score,
        "bleu_lc": BLEU(lowercase=True).corpus_score(hyps, refs).score,
        "bleu_tok": BLEU(tokenize="none").corpus_score(joined, joined_refs).score,
        "chrf": CHRF().corpus_score(hyps, refs).score,
    }


def bleu_signature() -> str:
    """sacreBLEU's signature of ``bleu`` (what a reader needs to compare scores)."""
    from sacrebleu.metrics import BLEU

    metric = BLEU()
    metric.corpus_score(["a"], [["a"]])  # the signature names the reference count it saw
    return str(metric.get_signature())


def sentence_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> list[float]:
    """Smoothed BLEU of each sentence against its reference."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(effective_order=True)
    return [
        metric.sentence_score(h, [r]).score for h, r in zip(hypotheses, references, strict=True)
    ]


def length_table(
    source_lengths: Sequence[int], hypotheses: Sequence[str], references: Sequence[str]
) -> pd.DataFrame:
    """Corpus BLEU (and lowercased) of the sentences in each source-length bucket."""
    from sacrebleu.metrics import BLEU

    frame = pd.DataFrame(
        {
            "bucket": pd.cut(list(source_lengths), LENGTH_EDGES),
            "hypothesis": list(hypotheses),
            "reference": list(references),
        }
    )
    rows = []
    for bucket, group in frame.groupby("bucket", observed=True):
        refs = [group["reference"].tolist()]
        upper = "" if bucket.right == math.inf else str(int(bucket.right))
        rows.append(
            {
                "length": f"{int(bucket.left) + 1}-{upper}",
                "sentences": len(group),
                "bleu": BLEU().corpus_score(group["hypothesis"].tolist(), refs).score,
                "bleu_lc": BLEU(lowercase=True)
                .corpus_score(group["hypothesis"].tolist(), refs)
                .score,
            }
        )
    return pd.DataFrame(rows, columns=["length", "sentences", "bleu", "bleu_lc"])
