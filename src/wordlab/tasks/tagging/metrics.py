"""Entity-level precision, recall and F1, as the CoNLL shared tasks' ``conlleval`` scores them.

A predicted span counts when its type and both boundaries match a gold span. Spans are read
with conlleval's rules (``schemes.spans``), so ill-formed sequences score as they do there and as
in ``seqeval``'s default mode. The scores of entities seen and unseen in training are kept
apart too: on CoNLL-2003, about half the test entities never occur in training, and that half
shows what a model learnt beyond memorising names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from wordlab.tasks.tagging.schemes import Span, spans

ALL = "all"


def span_scores(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    keep: Callable[[int, Span], bool] | None = None,
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 (in [0, 1]) and support (gold spans), per type and micro over all.

    Args:
        gold: Gold tags, one sequence per sentence.
        predicted: Predicted tags, the same lengths.
        keep: Count only the spans (of sentence ``i``) for which this is true, gold and
            predicted alike (for example: entities unseen in training).

    Returns:
        ``{"all": {...}, "PER": {...}, ...}``, each with ``precision``, ``recall``, ``f1`` and
        ``support``; types in alphabetical order after ``all``.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    correct: Counter[str] = Counter()
    found_gold: Counter[str] = Counter()
    found_predicted: Counter[str] = Counter()
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {index}: {len(gold_tags)} gold tags but {len(predicted_tags)} predicted"
            )
        gold_spans = {s for s in spans(gold_tags) if keep is None or keep(index, s)}
        predicted_spans = {s for s in spans(predicted_tags) if keep is None or keep(index, s)}
        found_gold.update(s.label for s in gold_spans)
        found_predicted.update(s.label for s in predicted_spans)
        correct.update(s.label for s in gold_spans & predicted_spans)
    types = sorted(set(found_gold) | set(found_predicted))
    scores = {ALL: _scores(correct.total(), found_predicted.total(), found_gold.total())}
    for label in types:
        scores[label] = _scores(correct[label], found_predicted[label], found_gold[label])
    return scores


def _scores(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": float(gold)}


def entity_names(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> set[str]:
    """The surface form (tokens joined by a space) of every entity in tagged sentences."""
    return {" ".join(words[s.start : s.end]) for words, t in zip(tokens, tags, strict=True)
            for s in spans(t)}  # fmt: skip


def seen_and_unseen(
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    seen: set[str],
) -> dict[str, dict[str, dict[str, float]]]:
    """``span_scores`` over the spans whose surface form is in ``seen`` (the training
    entities, from ``entity_names``), and over the others."""

    def is_seen(index: int, span: Span) -> bool:
        return " ".join(tokens[index][span.start : span.end]) in seen

    return {
        "seen": span_scores(gold, predicted, is_seen),
        "unseen": span_scores(gold, predicted, lambda i, s: not is_seen(i, s)),
    }
