from pathlib import Path

import pytest

from wordlab.data.vocab import PAD, UNK, UNK_ID, Vocabulary


def test_from_counts_orders_by_frequency_then_token() -> None:
    vocab = Vocabulary.from_counts({"b": 2, "a": 2, "c": 5, "rare": 1}, min_freq=2)
    assert vocab.tokens == [PAD, UNK, "c", "a", "b"]
    assert vocab.encode(["c", "rare", "b"]) == [2, UNK_ID, 4]
    assert vocab.counts == [0, 0, 5, 2, 2]


def test_max_size_counts_special_tokens() -> None:
    assert len(Vocabulary.from_counts({"a": 3, "b": 2, "c": 1}, max_size=3)) == 3


def test_save_and_load(tmp_path: Path) -> None:
    vocab = Vocabulary.from_counts({"ünï": 1, "x": 2})
    vocab.save(tmp_path / "v.json")
    loaded = Vocabulary.load(tmp_path / "v.json")
    assert loaded.tokens == vocab.tokens and loaded.counts == vocab.counts


def test_must_start_with_special_tokens() -> None:
    with pytest.raises(ValueError, match="<pad>"):
        Vocabulary(["a", "b"])
