"""Test-set reports of a tagger, written as run artifacts: entity scores per type, a span
confusion table and its heat map, predictions in conlleval's input format, and the scores of
entities seen and unseen in training.

Spans are read with conlleval's rules (``schemes.spans``) whatever the scheme, so ill-formed
predicted sequences score as they do in conlleval and ``seqeval``'s default mode; ``scheme`` is
checked (``schemes.check_scheme``) so that a wrong option fails here and not later.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from wordlab.plots import count_heatmap
from wordlab.tasks.tagging.metrics import ALL, entity_names, seen_and_unseen, span_scores
from wordlab.tasks.tagging.schemes import check_scheme, spans

MICRO = "micro"
SPURIOUS = "(spurious)"
MISSED = "(missed)"
SCORE_COLUMNS = ["precision", "recall", "f1", "support"]


def _row(scores: dict[str, float]) -> dict[str, float | int]:
    row: dict[str, float | int] = {k: round(scores[k], 4) for k in ("precision", "recall", "f1")}
    row["support"] = int(scores["support"])
    return row


def per_type_table(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], scheme: str
) -> pd.DataFrame:
    """Precision, recall, F1 and support (gold spans) per entity type, in alphabetical order,
    and a last ``micro`` row over all spans (``metrics.span_scores``; scores rounded to 4)."""
    check_scheme(scheme)
    scores = span_scores(gold, predicted)
    types = [label for label in scores if label != ALL]
    rows = [{"type": label, **_row(scores[label])} for label in [*types, ALL]]
    rows[-1]["type"] = MICRO
    return pd.DataFrame(rows, columns=["type", *SCORE_COLUMNS])


def span_confusion(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], scheme: str
) -> pd.DataFrame:
    """Counts of spans by gold type (rows) and predicted type (columns).

    Spans are paired by their boundaries only, sentence by sentence:

    - a gold span with a predicted span of the same start and end counts at
      ``[gold type, predicted type]``: on the diagonal when the types agree (a correct span),
      off it when the type is wrong;
    - a gold span with no predicted span of the same boundaries counts at
      ``[gold type, "(missed)"]``;
    - a predicted span with no gold span of the same boundaries counts at
      ``["(spurious)", predicted type]``.

    So a span with a boundary error counts twice, missed and spurious, as in the F1 scores.
    Row sums (without ``(spurious)``) are the gold spans per type; column sums (without
    ``(missed)``) the predicted spans. Types are those of gold and predicted spans, sorted.
    """
    check_scheme(scheme)
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    pairs: list[tuple[str, str]] = []
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {index}: {len(gold_tags)} gold tags but {len(predicted_tags)} predicted"
            )
        gold_by_bounds = {(s.start, s.end): s.label for s in spans(gold_tags)}
        predicted_by_bounds = {(s.start, s.end): s.label for s in spans(predicted_tags)}
        for bounds, label in gold_by_bounds.items():
            pairs.append((label, predicted_by_bounds.get(bounds, MISSED)))
        for bounds, label in predicted_by_bounds.items():
            if bounds not in gold_by_bounds:
                pairs.append((SPURIOUS, label))
    types = sorted({label for pair in pairs for label in pair} - {MISSED, SPURIOUS})
    table = pd.DataFrame(0, index=[*types, SPURIOUS], columns=[*types, MISSED], dtype=int)
    for gold_label, predicted_label in pairs:
        table.loc[gold_label, predicted_label] += 1
    table.index.name, table.columns.name = "gold", "predicted"
    return table


def confusion_figure(table: pd.DataFrame, path: Path) -> Path:
    """Save a count table (``span_confusion``) as a PNG heat map with counts in the cells."""
    rows, columns = [str(r) for r in table.index], [str(c) for c in table.columns]
    return count_heatmap(table.to_numpy(), rows, columns, path)


def write_conll(
    path: Path,
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
) -> Path:
    """Write ``token gold predicted`` per line and a blank line after each sentence: the input
    of conlleval (``perl conlleval < path``), read back by ``wordlab.data.conll.read_conll``.

    Raises:
        ValueError: A token is empty or holds white space (conlleval splits lines on it;
            sentence and token named), or the sentences' lengths differ.
    """
    lines: list[str] = []
    for index, columns in enumerate(zip(tokens, gold, predicted, strict=True)):
        if len({len(column) for column in columns}) != 1:
            lengths = ", ".join(str(len(column)) for column in columns)
            raise ValueError(f"sentence {index}: tokens, gold and predicted tags of {lengths}")
        for position, (token, gold_tag, predicted_tag) in enumerate(zip(*columns, strict=True)):
            if not token or any(character.isspace() for character in token):
                raise ValueError(
                    f"sentence {index}, token {position} {token!r}: a token may not be empty or "
                    "hold white space (conlleval splits lines on spaces)"
                )
            lines.append(f"{token} {gold_tag} {predicted_tag}\n")
        lines.append("\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def seen_unseen_table(
    train_tokens: Sequence[Sequence[str]],
    train_tags: Sequence[Sequence[str]],
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    scheme: str,
) -> pd.DataFrame:
    """Micro precision, recall, F1 and support over the entities whose surface form occurs in
    the training data (row ``seen``) and over the others (row ``unseen``); a span is seen or
    not by its own tokens, gold and predicted alike (``metrics.seen_and_unseen``)."""
    check_scheme(scheme)
    split = seen_and_unseen(tokens, gold, predicted, entity_names(train_tokens, train_tags))
    rows = {part: _row(split[part][ALL]) for part in ("seen", "unseen")}
    return pd.DataFrame.from_dict(rows, orient="index", columns=SCORE_COLUMNS)
