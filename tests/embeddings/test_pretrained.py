"""Vector files in every supported format, written by the tests."""

from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import save_facebook_model

from wordlab.data import DataError, Vocabulary
from wordlab.embeddings import pretrained_embeddings
from wordlab.embeddings.pretrained import detect_format

# counts: good 5, Movie 3, plot 1, zzz 1 -> 10 training tokens
VOCAB = Vocabulary(["<pad>", "<unk>", "good", "Movie", "plot", "zzz"], [0, 0, 5, 3, 1, 1])
VECTORS = {
    "good": [1.0, 0.0, 0.0],
    "movie": [0.0, 2.0, 0.0],
    "plot": [0.0, 0.0, 3.0],
    "bad": [-1.0, 0.0, 0.0],
}


def keyed() -> KeyedVectors:
    kv = KeyedVectors(3)
    kv.add_vectors(list(VECTORS), np.array(list(VECTORS.values()), dtype=np.float32))
    return kv


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    kv = keyed()
    out = {
        "word2vec_binary": tmp_path / "vectors.bin",
        "word2vec_text": tmp_path / "vectors.txt",
        "fasttext_vec": tmp_path / "vectors.vec",
        "glove": tmp_path / "glove.6B.3d.txt",
    }
    kv.save_word2vec_format(str(out["word2vec_binary"]), binary=True)
    kv.save_word2vec_format(str(out["word2vec_text"]))
    kv.save_word2vec_format(str(out["fasttext_vec"]))
    out["glove"].write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in VECTORS.items()))
    return out


@pytest.mark.parametrize(
    "file_format", ["word2vec_binary", "word2vec_text", "fasttext_vec", "glove"]
)
def test_formats_fill_found_rows_and_report_coverage(
    files: dict[str, Path], file_format: str, tmp_path: Path
) -> None:
    path = files[file_format]
    assert detect_format(path) == file_format
    table = pretrained_embeddings(VOCAB, path=str(path), output_dir=str(tmp_path / "out"))
    weight = table.weight
    assert weight.shape == (6, 3)
    assert torch.equal(weight[2], torch.tensor([1.0, 0.0, 0.0]))  # exact match
    assert torch.equal(weight[3], torch.tensor([0.0, 2.0, 0.0]))  # "Movie" found lowercased
    assert torch.equal(weight[0], torch.zeros(3))  # <pad>
    assert table.metrics["embedding/vocab_coverage"] == pytest.approx(3 / 4)
    assert table.metrics["embedding/token_coverage"] == pytest.approx(9 / 10)
    found_std = weight[2:5].std().item()
    half_width = np.sqrt(3) * found_std
    assert weight[5].abs().max() <= half_width + 1e-6  # zzz: random, same scale
    assert "good:" in (tmp_path / "out" / "neighbours.txt").read_text()


def test_fasttext_bin_gives_subword_vectors(tmp_path: Path) -> None:
    model = FastText(vector_size=4, min_count=1, min_n=2, max_n=3, seed=0, workers=1)
    sentences = [["good", "movie", "plot"], ["bad", "movie"]] * 20
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=2)
    path = tmp_path / "model.bin"
    save_facebook_model(model, str(path))
    assert detect_format(path) == "fasttext_bin"
    table = pretrained_embeddings(VOCAB, path=str(path), output_dir=str(tmp_path / "out"))
    assert table.metrics["embedding/subword_vectors"] == 1  # zzz has no vector but has n-grams
    assert torch.allclose(table.weight[2], torch.from_numpy(model.wv["good"]), atol=1e-5)
    assert torch.allclose(table.weight[5], torch.from_numpy(model.wv["zzz"]), atol=1e-5)


def test_pickled_gensim_file_needs_opt_in(tmp_path: Path) -> None:
    path = tmp_path / "vectors.kv"
    keyed().save(str(path))
    with pytest.raises(DataError, match=r"runs code.*embedding.allow_pickle=true"):
        pretrained_embeddings(VOCAB, path=str(path), output_dir=str(tmp_path))
    table = pretrained_embeddings(
        VOCAB, path=str(path), allow_pickle=True, output_dir=str(tmp_path)
    )
    assert table.metrics["embedding/found"] == 3


def test_dimension_mismatch_names_file_and_value(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"vectors.vec: vectors have dimension 3, but embedding.embedding_dim=300"
    ):
        pretrained_embeddings(
            VOCAB, path=str(files["fasttext_vec"]), embedding_dim=300, output_dir=str(tmp_path)
        )


def test_truncated_and_malformed_files(files: dict[str, Path], tmp_path: Path) -> None:
    binary = files["word2vec_binary"].read_bytes()
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(binary[: len(binary) - 7])
    with pytest.raises(DataError, match=r"truncated.bin: not a valid word2vec_binary vector file"):
        pretrained_embeddings(VOCAB, path=str(truncated), output_dir=str(tmp_path))
    malformed = tmp_path / "broken.txt"
    malformed.write_text("4 3\ngood 1 0 0\nmovie 0 two 0\nplot 0 0 3\nbad -1 0 0\n")
    with pytest.raises(DataError, match=r"broken.txt: not a valid word2vec_text vector file"):
        pretrained_embeddings(VOCAB, path=str(malformed), output_dir=str(tmp_path))


def test_no_overlap_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "other.txt"
    path.write_text("alpha 1 2\nbeta 3 4\n")
    with pytest.raises(DataError, match=r"other.txt: none of the 4 vocabulary words has a vector"):
        pretrained_embeddings(VOCAB, path=str(path), output_dir=str(tmp_path))
    with pytest.raises(DataError, match=r"does not exist \(option embedding.path\)"):
        pretrained_embeddings(VOCAB, path=str(tmp_path / "nope.vec"), output_dir=str(tmp_path))


def test_lowercase_fallback_is_counted_and_exact_forms_win(tmp_path: Path) -> None:
    path = tmp_path / "cased.txt"
    path.write_text("Apple 1 0\napple 0 1\nparis 2 2\nthe 3 0\n")
    cased = Vocabulary(["<pad>", "<unk>", "Apple", "Paris", "the", "THE", "Nope"])
    table = pretrained_embeddings(cased, path=str(path), output_dir=str(tmp_path / "out"))
    assert torch.equal(table.weight[2], torch.tensor([1.0, 0.0]))  # the exact "Apple" wins
    assert torch.equal(table.weight[3], torch.tensor([2.0, 2.0]))  # Paris -> paris
    assert torch.equal(table.weight[5], table.weight[4])  # THE -> the
    assert table.metrics["embedding/found_lowercased"] == 2
    assert table.metrics["embedding/found"] == 4
    # a lowercase vocabulary: nothing found lowercased, the table as without the fallback
    lower = Vocabulary(["<pad>", "<unk>", "apple", "paris", "nope"])
    plain = pretrained_embeddings(lower, path=str(path), output_dir=str(tmp_path / "out"))
    assert plain.metrics["embedding/found_lowercased"] == 0
    assert torch.equal(plain.weight[2:4], torch.tensor([[0.0, 1.0], [2.0, 2.0]]))


def test_vectors_are_scored_on_word_similarity_with_coverage() -> None:
    from gensim.test.utils import datapath

    from wordlab.embeddings.vectors import similarity_scores

    lines = Path(datapath("wordsim353.tsv")).read_text().splitlines()
    test = [line.lower().split("\t")[:3] for line in lines if not line.startswith("#")]
    # pairs with words of their own, such that no other pair of the test has both words
    pairs: list[tuple[str, str, float]] = []
    seen: set[str] = set()
    for first, second, score in test:
        words = seen | {first, second}
        chosen = {(a, b) for a, b, _ in pairs} | {(first, second)}
        others = [(a, b) for a, b, _ in test if {a, b} <= words and (a, b) not in chosen]
        if first != second and not {first, second} & seen and not others:
            pairs.append((first, second, float(score)))
            seen = words
    total = len(test)
    # each pair's cosine falls as its human score falls: a perfect rank correlation
    tokens, rows = ["<pad>", "<unk>"], [[0.0, 0.0], [0.0, 0.0]]
    for first, second, score in pairs:
        angle = (10 - score) / 10 * np.pi / 2
        tokens += [first, second]
        rows += [[1.0, 0.0], [np.cos(angle), np.sin(angle)]]
    vocab = Vocabulary(tokens)
    found = np.array([False, False] + [True] * (len(tokens) - 2))
    scores = similarity_scores(vocab, torch.tensor(rows), found)
    assert scores["embedding/wordsim353"] == pytest.approx(1.0, abs=1e-4)  # float32 cosines
    covered = sum({a, b} <= seen for a, b, _ in test)  # the chosen pairs, and repeats of them
    assert scores["embedding/wordsim353_coverage"] == pytest.approx(covered / total)
    assert "embedding/simlex999" not in scores or scores["embedding/simlex999_coverage"] < 0.2
