from pathlib import Path

import pytest

from conftest import write_jsonl
from wordlab.data import DataError, TextDataModule
from wordlab.data.phrases import tree_phrases

TREE = "(3 (2 (2 The) (2 film)) (4 (3 (2 is) (4 great)) (2 -RRB-)))"
SST2 = {0: "negative", 1: "negative", 3: "positive", 4: "positive"}


def test_every_node_becomes_a_phrase_children_first() -> None:
    assert list(tree_phrases(TREE)) == [
        ("2", "The"),
        ("2", "film"),
        ("2", "The film"),
        ("2", "is"),
        ("4", "great"),
        ("3", "is great"),
        ("2", ")"),
        ("4", "is great )"),
        ("3", "The film is great )"),
    ]


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("(3 (2 a) (2 b)", "unbalanced"),
        ("(3 (2 a)) (2 b)", "after the end"),
        ("(3 ())", "not followed by a label"),
        ("(3 (2))", "no words"),
        ("a b", "outside any bracket"),
        ("", "no tree"),
    ],
)
def test_malformed_trees_are_rejected(tree: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(tree_phrases(tree))


def write_treebank(folder: Path) -> Path:
    rows = [
        {"text": "The film is great )", "label": "positive", "tree": TREE},
        {"text": "a dull film", "label": "negative", "tree": "(1 (2 a) (1 (1 dull) (2 film)))"},
    ]
    write_jsonl(folder / "train.jsonl", rows * 3)
    write_jsonl(folder / "validation.jsonl", rows)
    write_jsonl(folder / "test.jsonl", rows)
    return folder


def test_training_rows_become_distinct_labelled_phrases(tmp_path: Path) -> None:
    data = TextDataModule(path=str(write_treebank(tmp_path / "sst")), phrase_labels=SST2)
    data.prepare()
    train = data.splits["train"]
    phrases = dict(zip(train["text"], train["label"], strict=True))
    # Neutral (2) nodes are left out, repeats kept once, whole sentences included.
    assert phrases == {
        "great": 1,
        "is great": 1,
        "is great )": 1,
        "The film is great )": 1,
        "dull": 0,
        "dull film": 0,
        "a dull film": 0,
    }
    assert data.splits["test"]["text"] == ["The film is great )", "a dull film"]
    plain = TextDataModule(path=str(tmp_path / "sst"))
    assert plain.compute_fingerprint() != data.compute_fingerprint()


def test_bad_phrase_settings_name_the_option(tmp_path: Path) -> None:
    folder = write_treebank(tmp_path / "sst")
    with pytest.raises(DataError, match=r"maps to \['positve'\].*\['negative', 'positive'\]"):
        TextDataModule(path=str(folder), phrase_labels={4: "positve"}).prepare()
    with pytest.raises(DataError, match=r"column 'parse' \(data.tree_field\)"):
        TextDataModule(path=str(folder), phrase_labels=SST2, tree_field="parse").prepare()
    with pytest.raises(DataError, match="no phrase of the training trees"):
        TextDataModule(path=str(folder), phrase_labels={7: "positive"}).prepare()
    broken = [
        {"text": "x", "label": "positive", "tree": "(3 x"},
        {"text": "y", "label": "negative"},
    ]
    write_jsonl(folder / "train.jsonl", broken)
    with pytest.raises(DataError, match=r"training row 0, column 'tree': malformed tree"):
        TextDataModule(path=str(folder), phrase_labels=SST2).prepare()
