"""Pairs of texts: two vocabularies, <bos>/<eos> batches, empty and odd pairs, bad columns."""

import logging
from pathlib import Path

import pytest
import torch

from conftest import make_pairs, write_jsonl
from wordlab.data.errors import DataError
from wordlab.data.vocab import PAD_ID
from wordlab.tasks.translation import PairDataModule
from wordlab.tasks.translation.data import BOS, EOS


def module(path: Path, **options) -> PairDataModule:
    return PairDataModule(str(path), batch_size=4, **options)


def test_each_side_gets_its_vocabulary_and_the_target_its_markers(pair_corpus: Path) -> None:
    data = module(pair_corpus, lowercase=True)
    data.prepare()
    assert data.vocab is not None and data.target_vocab is not None
    assert "hund" in data.vocab and "hund" not in data.target_vocab
    assert "dog" in data.target_vocab and "dog" not in data.vocab
    assert BOS in data.target_vocab and EOS in data.target_vocab and BOS not in data.vocab
    assert data.stats["train_size"] == 300 and data.stats["test_size"] == 30
    assert data.stats["train_source_tokens"] > 300 * 5


def test_a_batch_holds_source_decoder_inputs_and_targets(pair_corpus: Path) -> None:
    data = module(pair_corpus, lowercase=True)
    batch = next(iter(data.dataloader("test")))
    vocab, target = data.vocab, data.target_vocab
    assert vocab is not None and target is not None
    first = [vocab.tokens[i] for i in batch["input_ids"][0] if i != PAD_ID]
    assert first == data.tokenizer(batch["sources"][0])
    words = data.target_tokenizer(batch["references"][0])
    inputs = [target.tokens[i] for i in batch["decoder_inputs"][0] if i != PAD_ID]
    targets = [target.tokens[i] for i in batch["targets"][0] if i != PAD_ID]
    assert inputs == [BOS, *words] and targets == [*words, EOS]
    assert batch["decoder_inputs"].shape == batch["targets"].shape
    # a shorter target is padded after its <eos>
    lengths = (batch["targets"] != PAD_ID).sum(1)
    short = int(lengths.argmin())
    assert batch["targets"][short, int(lengths[short]) - 1] == target.index[EOS]
    assert batch["index"].tolist() == [0, 1, 2, 3]


def test_a_shared_vocabulary_serves_both_sides(pair_corpus: Path) -> None:
    data = module(pair_corpus, shared_vocab=True)
    data.prepare()
    assert data.vocab is data.target_vocab
    assert {"Der", "The", "hund", "dog", BOS, EOS} <= set(data.vocab.tokens)


def test_the_prepared_pairs_come_back_from_the_cache(pair_corpus: Path, tmp_path: Path) -> None:
    first = module(pair_corpus, cache_dir=str(tmp_path / "cache"))
    first.prepare()
    second = module(pair_corpus, cache_dir=str(tmp_path / "cache"))
    second.prepare()
    assert second.target_vocab is not None and first.target_vocab is not None
    assert second.target_vocab.tokens == first.target_vocab.tokens
    assert next(iter(second.dataloader("validation")))["targets"].equal(
        next(iter(first.dataloader("validation")))["targets"]
    )


def test_empty_sides_are_skipped_and_counted_odd_lengths_counted_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = make_pairs(40, 1)
    rows[3]["de"] = "  "
    rows[5]["en"] = None
    rows[7] = {"de": "Der hund.", "en": "The dog runs and runs and runs and runs and runs."}
    write_jsonl(tmp_path / "odd" / "train.jsonl", rows)
    with caplog.at_level(logging.WARNING):
        data = module(tmp_path / "odd")
        data.prepare()
    assert data.stats["train_skipped_empty"] == 2
    assert data.stats["train_odd_ratio"] == 1
    assert sum(data.stats[f"{s}_size"] for s in ("train", "validation", "test")) == 38
    assert "skipped 2 pairs" in caplog.text and "over 3 times as long" in caplog.text


def test_a_missing_column_is_named_with_the_columns_there(pair_corpus: Path) -> None:
    with pytest.raises(DataError, match=r"no column 'fr' \(data.target_field\).*\['de', 'en'\]"):
        module(pair_corpus, target_field="fr").prepare()
    with pytest.raises(ValueError, match="both 'de'"):
        module(pair_corpus, target_field="de")


def test_a_language_the_tokenizer_lacks_is_an_error_naming_it(pair_corpus: Path) -> None:
    pytest.importorskip("spacy")
    data = module(pair_corpus, tokenizer="spacy", target_language="de")
    assert data.target_tokenizer("Der Hund, z.B. hier.") == [
        "Der",
        "Hund",
        ",",
        "z.B.",
        "hier",
        ".",
    ]
    with pytest.raises(ValueError, match="spacy has no language 'src'"):
        module(pair_corpus, tokenizer="spacy", source_field="de", source_language="src")


def test_a_trained_models_vocabularies_score_one_other_file(
    pair_corpus: Path, tmp_path: Path
) -> None:
    trained = module(pair_corpus)
    trained.prepare()
    other = write_jsonl(tmp_path / "other.jsonl", [{"de": "Der zebra sieht den hund.", "en": "x"}])
    data = module(other, vocab=trained.vocab, target_vocab=trained.target_vocab)
    batch = next(iter(data.dataloader("test")))
    assert data.target_vocab is trained.target_vocab
    assert batch["input_ids"][0].tolist().count(1) == 1  # "zebra" is <unk>
    assert batch["sources"] == ["Der zebra sieht den hund."]


def test_training_text_of_each_side_feeds_its_word_vectors(pair_corpus: Path) -> None:
    data = module(pair_corpus, lowercase=True)
    data.prepare()
    source, target = data.training_tokens(), data.target_side().training_tokens()
    assert len(source) == len(target) == 300
    assert source[0][0] == "der" and target[0][0] == "the"
    assert data.target_side().fingerprint != data.fingerprint
    assert torch.is_tensor(data.split("train").lengths)


def test_a_training_subset_keeps_the_evaluation_splits(pair_corpus: Path) -> None:
    data = module(pair_corpus, train_size=50)
    data.prepare()
    assert data.stats["train_size"] == 50 and data.stats["validation_size"] == 30
