"""Tagging schemes of labelled spans: IOB1, IOB2 (BIO) and BIOES.

A tag is ``O`` or ``<prefix>-<type>`` (``B-PER``, ``I-LOC``, ``E-ORG``, ``S-MISC``). Spans are
read from any of the three schemes with conlleval's rules (Tjong Kim Sang & Buchholz 2000, the
CoNLL shared tasks' scorer): a span starts at ``B-`` or ``S-``, or at an ``I-``/``E-`` whose
type differs from the tag before it or that follows ``O``, ``E-`` or ``S-``; it ends where the
next tag does not continue it. So an ill-formed ``I-X`` after ``O`` starts a span, as in
conlleval, and writing the spans back in a scheme repairs the sequence.

- IOB1 (CoNLL-2003's files): ``I-`` throughout; ``B-`` only where a span follows one of the same
  type directly.
- IOB2, also called BIO: every span starts with ``B-``.
- BIOES: ``S-`` for one-token spans, ``B-``/``I-``/``E-`` for the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch

SCHEMES = ("iob1", "iob2", "bioes")
OUTSIDE = "O"


class Span(NamedTuple):
    """Tokens ``start`` to ``end`` (exclusive) of type ``label``."""

    label: str
    start: int
    end: int


def check_scheme(scheme: str) -> str:
    """``scheme`` lowercased (``BIO`` is ``iob2``), or a ``ValueError`` naming the option."""
    name = {"bio": "iob2"}.get(scheme.lower(), scheme.lower())
    if name not in SCHEMES:
        expected = ", ".join(SCHEMES)
        raise ValueError(
            f"unknown tag scheme {scheme!r} (option data.tag_scheme); expected one of {expected} "
            "(bio is iob2)"
        )
    return name


def split_tag(tag: str) -> tuple[str, str]:
    """``B-PER`` -> ``("B", "PER")``; ``O`` -> ``("O", "")``; a bare type is ``I-`` of it."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, dash, label = tag.partition("-")
    if dash and prefix in ("B", "I", "E", "S"):
        return prefix, label
    return "I", tag


def spans(tags: Sequence[str]) -> list[Span]:
    """The labelled spans of a tag sequence in any of the three schemes (conlleval's reading)."""
    found: list[Span] = []
    start, label = None, ""
    previous = OUTSIDE, ""
    for position, tag in enumerate([*tags, OUTSIDE]):
        prefix, kind = split_tag(tag)
        continues = (
            start is not None
            and prefix in ("I", "E")
            and kind == label
            and previous[0] in ("B", "I")
        )
        if start is not None and not continues:
            found.append(Span(label, start, position))
            start = None
        if start is None and prefix != OUTSIDE:
            start, label = position, kind
        if prefix in ("E", "S") and start is not None:
            found.append(Span(label, start, position + 1))
            start = None
        previous = prefix, kind
    return found


def to_tags(found: Sequence[Span], length: int, scheme: str) -> list[str]:
    """Write spans (in order, not overlapping) as ``length`` tags of ``scheme``."""
    scheme = check_scheme(scheme)
    tags = [OUTSIDE] * length
    previous_end, previous_label = -1, ""
    for span in found:
        size = span.end - span.start
        if scheme == "bioes" and size == 1:
            tags[span.start] = f"S-{span.label}"
            continue
        for position in range(span.start, span.end):
            tags[position] = f"I-{span.label}"
        adjacent = previous_end == span.start and previous_label == span.label
        if scheme != "iob1" or adjacent:  # IOB1: B- only right after a span of the same type
            tags[span.start] = f"B-{span.label}"
        if scheme == "bioes":
            tags[span.end - 1] = f"E-{span.label}"
        previous_end, previous_label = span.end, span.label
    return tags


def convert(tags: Sequence[str], source: str, target: str) -> tuple[list[str], int]:
    """``tags`` of scheme ``source`` written in ``target``, and how many were ill-formed in
    ``source`` (an ``I-X`` after ``O`` in IOB2, say), which the conversion repairs."""
    found = spans(tags)
    well_formed = to_tags(found, len(tags), source)
    repaired = sum(a != b for a, b in zip(tags, well_formed, strict=True))
    return to_tags(found, len(tags), target), repaired


def detect_scheme(sequences: Iterable[Sequence[str]]) -> str:
    """The scheme a corpus's tags are written in: ``bioes`` if any ``E-``/``S-`` tag occurs,
    ``iob1`` if every ``B-X`` follows an ``I-X`` or ``B-X`` (IOB1 uses ``B`` only between two
    adjacent spans of one type) and some ``I-X`` starts a span, else ``iob2``."""
    starts_with_inside = False
    for tags in sequences:
        previous = ("O", "")
        for tag in tags:
            prefix, label = split_tag(tag)
            if prefix in ("E", "S"):
                return "bioes"
            if prefix == "B" and (previous[0] == "O" or previous[1] != label):
                return "iob2"
            if prefix == "I" and (previous[0] == "O" or previous[1] != label):
                starts_with_inside = True
            previous = (prefix, label)
    return "iob1" if starts_with_inside else "iob2"


def allowed_transitions(
    tags: Sequence[str], scheme: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which tag may follow which in a well-formed sequence of ``scheme`` (for a CRF).

    Returns:
        ``allowed`` (K, K) bool (row: from, column: to), ``allowed_start`` (K,) and
        ``allowed_end`` (K,).
    """
    scheme = check_scheme(scheme)
    parts = [split_tag(t) for t in tags]
    k = len(tags)
    allowed = torch.zeros(k, k, dtype=torch.bool)
    for i, (prefix_a, label_a) in enumerate(parts):
        for j, (prefix_b, label_b) in enumerate(parts):
            allowed[i, j] = _may_follow(scheme, prefix_a, label_a, prefix_b, label_b)
    start = torch.tensor([_may_follow(scheme, "O", "", p, label) for p, label in parts])
    end = torch.tensor([_may_follow(scheme, p, label, "O", "") for p, label in parts])
    return allowed, start, end


def _may_follow(scheme: str, prefix_a: str, label_a: str, prefix_b: str, label_b: str) -> bool:
    inside_a = prefix_a in ("B", "I")  # a span of label_a is open after tag a
    if scheme == "bioes":
        if inside_a:
            return prefix_b in ("I", "E") and label_b == label_a
        return prefix_b in ("O", "B", "S")
    if prefix_b in ("E", "S"):
        return False
    if scheme == "iob2":
        return prefix_b != "I" or (inside_a and label_b == label_a)
    return prefix_b != "B" or (inside_a and label_b == label_a)  # iob1
