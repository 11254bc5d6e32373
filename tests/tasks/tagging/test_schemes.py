import itertools

import pytest
import torch

from wordlab.tasks.tagging.schemes import (
    Span,
    allowed_transitions,
    check_scheme,
    convert,
    spans,
    to_tags,
)

# One sentence in each scheme: "John Smith visited New York and Paris with Anna"
SENTENCE = {
    "iob1": ["I-PER", "I-PER", "O", "I-LOC", "I-LOC", "O", "I-LOC", "O", "I-PER"],
    "iob2": ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "B-LOC", "O", "B-PER"],
    "bioes": ["B-PER", "E-PER", "O", "B-LOC", "E-LOC", "O", "S-LOC", "O", "S-PER"],
}
SPANS = [Span("PER", 0, 2), Span("LOC", 3, 5), Span("LOC", 6, 7), Span("PER", 8, 9)]


@pytest.mark.parametrize("scheme", SENTENCE)
def test_every_scheme_reads_and_writes_the_same_spans(scheme: str) -> None:
    assert spans(SENTENCE[scheme]) == SPANS
    assert to_tags(SPANS, 9, scheme) == SENTENCE[scheme]
    for target in SENTENCE:
        assert convert(SENTENCE[scheme], scheme, target) == (SENTENCE[target], 0)


def test_adjacent_spans_of_one_type() -> None:
    adjacent = [Span("LOC", 0, 2), Span("LOC", 2, 3)]
    assert to_tags(adjacent, 3, "iob1") == ["I-LOC", "I-LOC", "B-LOC"]
    assert to_tags(adjacent, 3, "iob2") == ["B-LOC", "I-LOC", "B-LOC"]
    assert to_tags(adjacent, 3, "bioes") == ["B-LOC", "E-LOC", "S-LOC"]
    for scheme in ("iob1", "iob2", "bioes"):
        assert spans(to_tags(adjacent, 3, scheme)) == adjacent


def test_ill_formed_tags_are_read_as_conlleval_does_and_repaired() -> None:
    # I- after O starts a span; a type change inside a span starts another
    assert spans(["O", "I-PER", "I-LOC", "O"]) == [Span("PER", 1, 2), Span("LOC", 2, 3)]
    assert convert(["O", "I-PER", "I-PER", "O"], "iob2", "iob2") == (
        ["O", "B-PER", "I-PER", "O"],
        1,
    )
    # BIOES: a span left open, and an E- after O
    assert spans(["B-PER", "I-PER", "O", "E-LOC"]) == [Span("PER", 0, 2), Span("LOC", 3, 4)]
    assert convert(["B-PER", "I-PER", "O", "E-LOC"], "bioes", "bioes")[1] == 2


def test_unknown_scheme_is_named() -> None:
    assert check_scheme("BIO") == "iob2"
    with pytest.raises(ValueError, match=r"unknown tag scheme 'bilou' \(option data.tag_scheme\)"):
        check_scheme("bilou")


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "bioes"])
def test_allowed_transitions_accept_exactly_the_well_formed_sequences(scheme: str) -> None:
    """Enumerate every sequence of 3 tags: allowed steps <=> writing its spans back changes
    nothing (the sequence is well-formed in the scheme)."""
    tags = ["O", *[f"{p}-{t}" for t in ("PER", "LOC") for p in ("B", "I", "E", "S")]]
    if scheme != "bioes":
        tags = [t for t in tags if t[0] not in "ES"]
    allowed, start, end = allowed_transitions(tags, scheme)
    index = {t: i for i, t in enumerate(tags)}
    for sequence in itertools.product(tags, repeat=3):
        ids = [index[t] for t in sequence]
        steps = all(bool(allowed[a, b]) for a, b in itertools.pairwise(ids))
        valid = steps and bool(start[ids[0]]) and bool(end[ids[-1]])
        well_formed = to_tags(spans(sequence), 3, scheme) == list(sequence)
        assert valid == well_formed, sequence
    assert allowed.dtype == torch.bool and allowed.shape == (len(tags), len(tags))
