import random
from pathlib import Path

import pytest
import torch

from conftest import write_jsonl
from wordlab.data import DataError, TextDataModule
from wordlab.embeddings import word2vec_embeddings


@pytest.fixture
def topical(tmp_path: Path) -> TextDataModule:
    """Two topics with disjoint vocabularies, so word2vec can find neighbours."""
    rng = random.Random(0)
    topics = {
        "food": ["bread", "cheese", "butter", "jam", "toast"],
        "car": ["engine", "wheel", "brake", "tyre", "gear"],
    }
    rows = [
        {"text": " ".join(rng.choices(words, k=8)), "label": label}
        for _ in range(60)
        for label, words in topics.items()
    ]
    write_jsonl(tmp_path / "topical" / "train.jsonl", rows)
    data = TextDataModule(path=str(tmp_path / "topical"), cache_dir=str(tmp_path / "cache"))
    data.prepare()
    return data


def train(data: TextDataModule, tmp_path: Path, **kwargs):
    options = {
        "embedding_dim": 16,
        "epochs": 20,
        "window": 3,
        "workers": 1,
        "cache_dir": str(tmp_path / "w2v"),
        "output_dir": str(tmp_path / "out"),
    }
    return word2vec_embeddings(data.vocab, data, **{**options, **kwargs})


def test_trains_reports_and_caches(topical: TextDataModule, tmp_path: Path) -> None:
    first = train(topical, tmp_path)
    vocab = topical.vocab
    assert first.weight.shape == (len(vocab), 16)
    assert first.metrics["embedding/vocab_coverage"] == 1.0
    assert first.metrics["embedding/cache_hit"] == 0.0
    assert first.metrics["embedding/word2vec_words_per_second"] > 0
    normed = torch.nn.functional.normalize(first.weight, dim=1)
    cheese, butter, brake = (normed[vocab.index[w]] for w in ("cheese", "butter", "brake"))
    assert cheese @ butter > cheese @ brake  # same topic closer than the other topic
    assert {p.name for p in first.artifacts} == {"neighbours.txt", "word2vec.bin"}

    second = train(topical, tmp_path)
    assert second.metrics["embedding/cache_hit"] == 1.0
    assert torch.equal(second.weight, first.weight)
    other = train(topical, tmp_path, window=2)
    assert other.metrics["embedding/cache_hit"] == 0.0


def test_extra_text_extends_the_corpus(topical: TextDataModule, tmp_path: Path) -> None:
    extra = write_jsonl(tmp_path / "extra.jsonl", [{"review": "bread and cheese and jam"}] * 30)
    with pytest.raises(
        DataError, match=r"no column 'text' \(option embedding.extra_text_field\).*review"
    ):
        train(topical, tmp_path, extra_text=str(extra))
    table = train(topical, tmp_path, extra_text=[str(extra)], extra_text_field="review")
    plain = train(topical, tmp_path)
    assert (
        table.metrics["embedding/word2vec_corpus_tokens"]
        == plain.metrics["embedding/word2vec_corpus_tokens"] + 150
    )
    lines = tmp_path / "lines.txt"
    lines.write_text("wheel and gear\n\nbrake\n")
    with_lines = train(topical, tmp_path, extra_text=str(lines))
    assert (
        with_lines.metrics["embedding/word2vec_corpus_tokens"]
        == plain.metrics["embedding/word2vec_corpus_tokens"] + 4
    )
