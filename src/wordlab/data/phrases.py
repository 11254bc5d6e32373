"""Phrase-level training rows from labelled constituency trees (the Stanford Sentiment Treebank).

Kim (2014) and most SST results train on every labelled phrase of the training trees and test
on whole sentences. A tree is written PTB-style with a label on every node::

    (3 (2 (2 The) (2 Rock)) (4 (2 is) (4 great)))
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import datasets

from wordlab.data.errors import DataError

_TOKEN = re.compile(r"\(|\)|[^\s()]+")
# The treebank escapes brackets inside leaves; the sentence texts use the brackets themselves.
_LEAF = {"-LRB-": "(", "-RRB-": ")"}


def tree_phrases(tree: str) -> Iterator[tuple[str, str]]:
    """Yield ``(label, text)`` for every node of a labelled tree, children before parents.

    Raises:
        ValueError: The string is not one well-formed tree.
    """
    stack: list[tuple[str, list[str]]] = []  # (label, leaves so far) of each open node
    tokens = _TOKEN.findall(tree)
    position = 0
    done = False
    while position < len(tokens):
        token = tokens[position]
        if done:
            raise ValueError(f"text after the end of the tree: {token!r}")
        if token == "(":
            if position + 1 >= len(tokens) or tokens[position + 1] in "()":
                raise ValueError("a '(' is not followed by a label")
            stack.append((tokens[position + 1], []))
            position += 2
            continue
        if not stack:
            raise ValueError(f"{token!r} outside any bracket")
        if token == ")":
            label, leaves = stack.pop()
            if not leaves:
                raise ValueError(f"node {label!r} has no words")
            yield label, " ".join(leaves)
            if stack:
                stack[-1][1].extend(leaves)
            else:
                done = True
        else:
            stack[-1][1].append(_LEAF.get(token, token))
        position += 1
    if stack or not done:
        raise ValueError("unbalanced brackets" if stack else "no tree")


def expand_phrases(
    train: datasets.Dataset,
    tree_field: str,
    phrase_labels: Mapping[Any, str],
    label_names: Sequence[str],
    source: str,
) -> datasets.Dataset:
    """Replace the training rows by every distinct labelled phrase of their trees.

    Args:
        train: Rows with a ``tree_field`` column (integer ``label`` already encoded).
        tree_field: Column holding each row's labelled tree.
        phrase_labels: Tree label -> class name; nodes with other labels are skipped (e.g.
            SST-2 leaves out neutral phrases).
        label_names: The corpus's class names, index order.
        source: The corpus, for error messages.

    Returns:
        ``text`` and ``label`` of each phrase, first occurrence kept when a phrase repeats
        (the treebank gives a phrase the same label wherever it occurs). The whole sentences
        are among them.
    """
    if tree_field not in train.column_names:
        raise DataError(
            f"{source}: data.phrase_labels needs trees in column {tree_field!r} "
            f"(data.tree_field); available columns: {train.column_names}"
        )
    mapping = {str(k): str(v) for k, v in phrase_labels.items()}
    unknown = sorted(set(mapping.values()) - set(label_names))
    if unknown:
        raise DataError(
            f"{source}: data.phrase_labels maps to {unknown}, which are not among the classes "
            f"{list(label_names)}"
        )
    index = {name: i for i, name in enumerate(label_names)}
    phrases: dict[str, int] = {}
    for row, tree in enumerate(train[tree_field]):
        try:
            for label, text in tree_phrases(tree or ""):
                if label in mapping:
                    phrases.setdefault(text, index[mapping[label]])
        except ValueError as error:
            raise DataError(
                f"{source}: training row {row}, column {tree_field!r}: malformed tree ({error})"
            ) from None
    if not phrases:
        raise DataError(
            f"{source}: no phrase of the training trees has a label in data.phrase_labels "
            f"({sorted(mapping)})"
        )
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(label_names))}
    )
    return datasets.Dataset.from_dict(
        {"text": list(phrases), "label": list(phrases.values())}, features=features
    )
