import random
from pathlib import Path

import pytest
from seqeval.metrics import classification_report, f1_score

from wordlab.data.conll import read_conll
from wordlab.tasks.tagging.reports import (
    confusion_figure,
    per_type_table,
    seen_unseen_table,
    span_confusion,
    write_conll,
)
from wordlab.tasks.tagging.schemes import convert

TOKENS = [
    ["Anna", "lives", "in", "Paris"],
    ["Acme", "Corp", "hired", "Bob"],
    ["Rain", "in", "Rome"],
]
GOLD = [
    ["B-PER", "O", "O", "B-LOC"],
    ["B-ORG", "I-ORG", "O", "B-PER"],
    ["O", "O", "B-LOC"],
]
PREDICTED = [
    ["B-PER", "O", "O", "B-ORG"],  # Anna right; Paris LOC called ORG (same boundaries)
    ["B-ORG", "I-ORG", "O", "O"],  # Acme Corp right; Bob missed
    ["B-MISC", "O", "B-LOC"],  # Rain spurious; Rome right
]
# gold spans 5 (PER 2, LOC 2, ORG 1); predicted 5 (PER 1, LOC 1, ORG 2, MISC 1); correct 3


def test_per_type_table_by_hand() -> None:
    table = per_type_table(GOLD, PREDICTED, "iob2")
    assert list(table.columns) == ["type", "precision", "recall", "f1", "support"]
    assert list(table["type"]) == ["LOC", "MISC", "ORG", "PER", "micro"]
    rows = table.set_index("type")
    # LOC: 1 correct of 1 predicted, 2 gold -> P 1, R 1/2, F1 2/3
    assert rows.loc["LOC"].tolist() == pytest.approx([1.0, 0.5, 0.6667, 2], abs=1e-4)
    # MISC: 1 predicted, none gold -> all 0
    assert rows.loc["MISC"].tolist() == [0.0, 0.0, 0.0, 0]
    # ORG: 1 correct of 2 predicted, 1 gold -> P 1/2, R 1, F1 2/3
    assert rows.loc["ORG"].tolist() == pytest.approx([0.5, 1.0, 0.6667, 1], abs=1e-4)
    # PER: 1 correct of 1 predicted, 2 gold -> P 1, R 1/2, F1 2/3
    assert rows.loc["PER"].tolist() == pytest.approx([1.0, 0.5, 0.6667, 2], abs=1e-4)
    # micro: 3 correct of 5 predicted and 5 gold -> P = R = F1 = 0.6
    assert rows.loc["micro"].tolist() == pytest.approx([0.6, 0.6, 0.6, 5])
    assert f1_score(GOLD, PREDICTED) == pytest.approx(0.6)


def random_tags(rng: random.Random, length: int) -> list[str]:
    """Tags of any prefix in any order: ill-formed sequences included."""
    return [rng.choice(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]) for _ in range(length)]


def test_micro_row_is_seqeval_micro_f1() -> None:
    rng = random.Random(1)
    for _ in range(30):
        lengths = [rng.randint(1, 10) for _ in range(rng.randint(1, 5))]
        gold = [random_tags(rng, n) for n in lengths]
        predicted = [random_tags(rng, n) for n in lengths]
        rows = per_type_table(gold, predicted, "iob2").set_index("type")
        theirs = classification_report(gold, predicted, output_dict=True, zero_division=0)
        assert rows.loc["micro", "f1"] == pytest.approx(f1_score(gold, predicted), abs=1e-4)
        assert rows.loc["micro", "support"] == theirs["micro avg"]["support"]
        for label in ("PER", "LOC"):
            if label in theirs:
                assert rows.loc[label, "f1"] == pytest.approx(theirs[label]["f1-score"], abs=1e-4)


def test_span_confusion_by_hand() -> None:
    table = span_confusion(GOLD, PREDICTED, "iob2")
    assert list(table.index) == ["LOC", "MISC", "ORG", "PER", "(spurious)"]
    assert list(table.columns) == ["LOC", "MISC", "ORG", "PER", "(missed)"]
    expected = {
        ("LOC", "LOC"): 1,  # Rome
        ("LOC", "ORG"): 1,  # Paris, wrong type
        ("ORG", "ORG"): 1,  # Acme Corp
        ("PER", "PER"): 1,  # Anna
        ("PER", "(missed)"): 1,  # Bob
        ("(spurious)", "MISC"): 1,  # Rain
    }
    for row in table.index:
        for column in table.columns:
            assert table.loc[row, column] == expected.get((row, column), 0), (row, column)
    # the same spans in BIOES give the same table
    bioes = [[convert(t, "iob2", "bioes")[0] for t in tags] for tags in (GOLD, PREDICTED)]
    assert span_confusion(*bioes, "bioes").equals(table)


def test_a_boundary_error_is_missed_and_spurious() -> None:
    table = span_confusion([["B-PER", "I-PER"]], [["B-PER", "O"]], "bio")
    assert table.loc["PER", "(missed)"] == 1 and table.loc["(spurious)", "PER"] == 1
    assert table.loc["PER", "PER"] == 0


def test_unknown_scheme_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown tag scheme 'iob3'"):
        per_type_table(GOLD, PREDICTED, "iob3")


def test_confusion_figure_is_a_png(tmp_path: Path) -> None:
    path = confusion_figure(span_confusion(GOLD, PREDICTED, "iob2"), tmp_path / "spans.png")
    assert path.stat().st_size > 0
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_write_conll_round_trips(tmp_path: Path) -> None:
    path = write_conll(tmp_path / "pred.conll", TOKENS, GOLD, PREDICTED)
    assert path.read_text().splitlines()[:5] == [
        "Anna B-PER B-PER",
        "lives O O",
        "in O O",
        "Paris B-LOC B-ORG",
        "",
    ]
    data = read_conll(path, columns=["tokens", "gold", "predicted"])
    assert data["tokens"] == TOKENS
    assert data["gold"] == GOLD
    assert data["predicted"] == PREDICTED


def test_write_conll_rejects_tokens_with_white_space(tmp_path: Path) -> None:
    tokens = [["Anna"], ["in", "New York"]]
    gold = [["B-PER"], ["O", "B-LOC"]]
    with pytest.raises(ValueError, match="sentence 1, token 1 'New York'"):
        write_conll(tmp_path / "bad.conll", tokens, gold, gold)


def test_seen_unseen_table_by_hand() -> None:
    train_tokens = [["Anna", "met", "Bob"]]
    train_tags = [["B-PER", "O", "B-PER"]]
    table = seen_unseen_table(train_tokens, train_tags, TOKENS, GOLD, PREDICTED, "iob2")
    assert list(table.index) == ["seen", "unseen"]
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    # seen: gold Anna, Bob; predicted Anna; correct Anna -> P 1, R 1/2, F1 2/3
    assert table.loc["seen"].tolist() == pytest.approx([1.0, 0.5, 0.6667, 2], abs=1e-4)
    # unseen: gold Paris, Acme Corp, Rome; predicted Paris (ORG), Acme Corp, Rain, Rome;
    # correct Acme Corp, Rome -> P 2/4, R 2/3, F1 2 * (1/2)(2/3) / (7/6) = 4/7
    assert table.loc["unseen"].tolist() == pytest.approx([0.5, 0.6667, 0.5714, 3], abs=1e-4)
