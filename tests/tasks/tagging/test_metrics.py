import random

import pytest
from seqeval.metrics import classification_report

from wordlab.tasks.tagging.metrics import entity_names, seen_and_unseen, span_scores


def test_a_hand_counted_case() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-LOC"]]
    scores = span_scores(gold, predicted)
    # gold: PER, LOC, ORG; predicted: PER, ORG (wrong type), ORG, LOC; correct: PER, ORG
    assert scores["all"] == pytest.approx(
        {"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7, "support": 3}
    )
    assert scores["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert list(scores) == ["all", "LOC", "ORG", "PER"]


def random_tags(rng: random.Random, length: int) -> list[str]:
    """Tags of any prefix in any order: ill-formed sequences included."""
    return [rng.choice(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]) for _ in range(length)]


def test_scores_match_seqeval_in_its_default_conlleval_mode() -> None:
    rng = random.Random(0)
    for _ in range(50):
        lengths = [rng.randint(1, 12) for _ in range(rng.randint(1, 6))]
        gold = [random_tags(rng, n) for n in lengths]
        predicted = [random_tags(rng, n) for n in lengths]
        ours = span_scores(gold, predicted)
        theirs = classification_report(gold, predicted, output_dict=True, zero_division=0)
        assert ours["all"]["precision"] == pytest.approx(theirs["micro avg"]["precision"])
        assert ours["all"]["recall"] == pytest.approx(theirs["micro avg"]["recall"])
        assert ours["all"]["f1"] == pytest.approx(theirs["micro avg"]["f1-score"])
        for label in ("PER", "LOC"):
            if label in theirs:
                assert ours[label]["f1"] == pytest.approx(theirs[label]["f1-score"])
                assert ours[label]["support"] == theirs[label]["support"]


def test_entities_seen_in_training_are_scored_apart() -> None:
    train = entity_names([["Anna", "met", "Bob"]], [["B-PER", "O", "B-PER"]])
    assert train == {"Anna", "Bob"}
    tokens = [["Anna", "and", "Carl", "Jones", "left"]]
    gold = [["B-PER", "O", "B-PER", "I-PER", "O"]]
    predicted = [["B-PER", "O", "B-PER", "O", "O"]]  # the unseen name is cut short
    split = seen_and_unseen(tokens, gold, predicted, train)
    assert split["seen"]["all"]["f1"] == 1.0 and split["seen"]["all"]["support"] == 1
    assert split["unseen"]["all"]["recall"] == 0.0  # "Carl Jones" missed, "Carl" spurious
    assert split["unseen"]["all"]["precision"] == 0.0


def test_sentences_of_different_lengths_are_named() -> None:
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        span_scores([["O", "O"]], [["O"]])
