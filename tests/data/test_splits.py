from collections import Counter

import datasets
import pytest

from wordlab.data.errors import DataError
from wordlab.data.splits import carve_splits, drop_empty, encode_labels, select_fields


def dd(**splits: list[dict]) -> datasets.DatasetDict:
    return datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in splits.items()})


def test_missing_field_lists_available_columns() -> None:
    raw = dd(train=[{"sentence": "a", "label": 0}])
    with pytest.raises(DataError, match=r"no column 'text' \(data.text_field\).*'sentence'"):
        select_fields(raw, "text", "label", "corpus")


def test_fields_are_renamed() -> None:
    raw = select_fields(dd(train=[{"sentence": "a", "y": 1}]), "sentence", "y", "corpus")
    assert raw["train"].column_names == ["text", "label"]


def test_empty_texts_are_skipped_and_counted() -> None:
    raw = dd(train=[{"text": t, "label": "a"} for t in ["x", "", "  ", None, "y"]])
    assert drop_empty(raw, "corpus") == {"train": 3}
    assert raw["train"]["text"] == ["x", "y"]


def test_empty_split_is_an_error() -> None:
    raw = dd(train=[{"text": "x", "label": "a"}], test=[{"text": " ", "label": "a"}])
    with pytest.raises(DataError, match="every text in split test is empty"):
        drop_empty(raw, "corpus")


def test_string_labels_sorted_and_unseen_test_label_rejected() -> None:
    raw = dd(train=[{"label": "pos"}, {"label": "neg"}], test=[{"label": "neutral"}])
    with pytest.raises(DataError, match=r"split test has labels \['neutral'\].*\['neg', 'pos'\]"):
        encode_labels(raw, "corpus")
    raw = dd(train=[{"label": "pos"}, {"label": "neg"}], test=[{"label": "pos"}])
    assert encode_labels(raw, "corpus") == ["neg", "pos"]
    assert raw["test"]["label"] == [1]
    assert raw["test"].features["label"].names == ["neg", "pos"]


def test_integer_labels_with_and_without_names() -> None:
    raw = dd(train=[{"label": 1}, {"label": 0}])
    assert encode_labels(raw, "corpus", label_names=["negative", "positive"]) == [
        "negative",
        "positive",
    ]
    assert raw["train"]["label"] == [1, 0]
    raw = dd(train=[{"label": 3}, {"label": 7}])
    assert encode_labels(raw, "corpus") == ["3", "7"]
    assert raw["train"]["label"] == [0, 1]


def test_model_classes_map_labels_by_name() -> None:
    raw = dd(test=[{"label": "b"}, {"label": "a"}])
    assert encode_labels(raw, "corpus", classes=["a", "b", "c"]) == ["a", "b", "c"]
    assert raw["test"]["label"] == [1, 0]


def labelled(n: int) -> datasets.DatasetDict:
    raw = dd(train=[{"text": str(i), "label": ["a", "b"][i % 2], "fold": i % 5} for i in range(n)])
    encode_labels(raw, "corpus")
    return raw


def test_carve_is_stratified_and_seeded() -> None:
    first = carve_splits(labelled(200), "corpus", 0.1, 0.2, seed=13)
    assert {k: v.num_rows for k, v in first.items()} == {"train": 144, "validation": 16, "test": 40}
    assert Counter(first["test"]["label"]) == {0: 20, 1: 20}
    again = carve_splits(labelled(200), "corpus", 0.1, 0.2, seed=13)
    assert again["test"]["text"] == first["test"]["text"]
    other = carve_splits(labelled(200), "corpus", 0.1, 0.2, seed=14)
    assert other["test"]["text"] != first["test"]["text"]


def test_carve_cuts_the_rows_that_train_test_split_cuts() -> None:
    # The cut reads the labels at once but must keep the rows of datasets' own stratified
    # train_test_split, which earlier results were measured on.
    rows = [{"text": str(i), "label": "abcab"[i % 5] if i % 7 else "c"} for i in range(301)]
    raw = dd(train=rows)
    encode_labels(raw, "corpus")
    train = raw["train"].select(range(1, 301, 2))  # with an indices mapping, as after a filter
    test = train.train_test_split(test_size=0.1, stratify_by_column="label", seed=13)
    validation = test["train"].train_test_split(test_size=0.2, stratify_by_column="label", seed=13)
    out = carve_splits(datasets.DatasetDict({"train": train}), "corpus", 0.2, 0.1, seed=13)
    assert list(out["test"]["text"]) == list(test["test"]["text"])
    assert list(out["validation"]["text"]) == list(validation["test"]["text"])
    assert list(out["train"]["text"]) == list(validation["train"]["text"])


def test_carve_with_a_label_of_one_row_names_the_corpus() -> None:
    raw = dd(train=[{"text": str(i), "label": "a" if i else "b"} for i in range(20)])
    encode_labels(raw, "corpus.jsonl")
    with pytest.raises(DataError, match=r"corpus.jsonl: cannot cut .* at least 2 rows"):
        carve_splits(raw, "corpus.jsonl", 0.1, 0.2, seed=13)


def test_fold_selects_test_rows() -> None:
    out = carve_splits(labelled(100), "corpus", 0.1, 0.2, seed=13, fold=2)
    assert set(out["test"]["fold"]) == {2} and out["test"].num_rows == 20
    assert 2 not in set(out["train"]["fold"]) | set(out["validation"]["fold"])
    with pytest.raises(DataError, match=r"data.fold=9 is not among the folds"):
        carve_splits(labelled(100), "corpus", 0.1, 0.2, seed=13, fold=9)
    with pytest.raises(DataError, match=r"needs a 'part' column \(data.fold_field\)"):
        carve_splits(labelled(100), "corpus", 0.1, 0.2, seed=13, fold=1, fold_field="part")
