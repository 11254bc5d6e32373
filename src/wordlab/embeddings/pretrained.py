"""Word vectors read from a file: word2vec (binary or text), GloVe, fastText ``.vec``/``.bin``."""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any

from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings, TokenSource
from wordlab.embeddings.vectors import finish, table_from_vectors

log = logging.getLogger(__name__)

FORMATS = (
    "auto",
    "word2vec_binary",
    "word2vec_text",
    "glove",
    "fasttext_vec",
    "fasttext_bin",
    "gensim",
)
FASTTEXT_MAGIC = 793712314  # first int32 of a fastText .bin model


def detect_format(path: Path) -> str:
    """Guess the format from the name and the first bytes."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".model", ".kv")):
        return "gensim"
    if name.endswith(".vec"):
        return "fasttext_vec"
    with path.open("rb") as handle:
        head = handle.read(4)
    if name.endswith(".bin"):
        if len(head) == 4 and struct.unpack("<i", head)[0] == FASTTEXT_MAGIC:
            return "fasttext_bin"
        return "word2vec_binary"
    first = _first_line(path).split()
    return "word2vec_text" if len(first) == 2 and all(x.isdigit() for x in first) else "glove"


def _first_line(path: Path) -> str:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return handle.readline()


def load_vectors(path: Path, file_format: str, allow_pickle: bool) -> Any:
    """Load a file with gensim; every failure becomes a ``DataError`` naming the file."""
    from gensim.models import KeyedVectors
    from gensim.models.fasttext import load_facebook_vectors

    if file_format == "gensim" and not allow_pickle:
        raise DataError(
            f"{path} is a pickled gensim model: loading it runs code stored in the file. Set "
            "embedding.allow_pickle=true only for files you trust, or save the vectors with "
            "KeyedVectors.save_word2vec_format and load that instead"
        )
    try:
        if file_format == "gensim":
            return KeyedVectors.load(str(path))
        if file_format == "fasttext_bin":
            return load_facebook_vectors(str(path))
        return KeyedVectors.load_word2vec_format(
            str(path),
            binary=file_format == "word2vec_binary",
            no_header=file_format == "glove",
            unicode_errors="strict",
        )
    except (ValueError, EOFError, UnicodeDecodeError, struct.error, IndexError, OSError) as error:
        raise DataError(f"{path}: not a valid {file_format} vector file ({error})") from error


def pretrained_embeddings(
    vocab: Vocabulary,
    source: TokenSource | None = None,
    path: str = "???",
    file_format: str = "auto",
    embedding_dim: int | None = None,
    freeze: bool = False,
    multichannel: bool = False,
    allow_pickle: bool = False,
    seed: int = 0,
    output_dir: str = "embeddings",
) -> InitialEmbeddings:
    """Fill the table from a vector file; words it lacks get random vectors of the same scale.

    Each vocabulary word is looked up as it is, then lowercased. With a fastText ``.bin`` model,
    words it lacks get vectors built from their character n-grams instead of random ones.

    Args:
        vocab: The run's vocabulary.
        source: The data module (unused; every embedding option takes it).
        path: The vector file.
        file_format: ``auto`` (from the name and first bytes), ``word2vec_binary``,
            ``word2vec_text``, ``glove`` (text without a header line), ``fasttext_vec``,
            ``fasttext_bin``, or ``gensim`` (a pickled ``KeyedVectors``; needs ``allow_pickle``).
        embedding_dim: Expected vector size (None: take the file's).
        freeze: Keep the vectors fixed (Kim's CNN-static).
        multichannel: A frozen and a fine-tuned copy (Kim's CNN-multichannel).
        allow_pickle: Allow loading pickled gensim files, which can run code from the file.
        seed: Seed of the random rows for missing words.
        output_dir: Folder for the reports logged with the run.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"vector file {file} does not exist (option embedding.path)")
    if file_format not in FORMATS:
        raise ValueError(
            f"unknown embedding.file_format {file_format!r}; expected one of {FORMATS}"
        )
    resolved = detect_format(file) if file_format == "auto" else file_format
    vectors = load_vectors(file, resolved, allow_pickle)
    dim = int(vectors.vector_size)
    if embedding_dim is not None and dim != embedding_dim:
        raise DataError(
            f"{file}: vectors have dimension {dim}, but embedding.embedding_dim={embedding_dim}"
        )
    known = vectors.key_to_index
    fallback = (lambda w: vectors[w]) if resolved == "fasttext_bin" else None
    table, metrics, found = table_from_vectors(
        vocab, lambda w: vectors[w] if w in known else None, dim, str(file), seed, fallback
    )
    log.info("%s: %.1f%% of the vocabulary found", file, 100 * metrics["embedding/vocab_coverage"])
    return finish(vocab, table, metrics, found, Path(output_dir), freeze, multichannel)
