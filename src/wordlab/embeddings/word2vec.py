"""word2vec (Mikolov et al. 2013) trained with gensim on the run's training text."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings, TokenSource
from wordlab.embeddings.vectors import finish, table_from_vectors

log = logging.getLogger(__name__)

ALGORITHMS = {"skipgram": 1, "cbow": 0}
TEXT_BUILDERS = {
    ".txt": "text",
    ".jsonl": "json",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}


def _builder(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2", ".xz", ".zst")]
    builder = TEXT_BUILDERS.get(suffixes[-1] if suffixes else "")
    if builder is None:
        raise DataError(
            f"{path}: unknown extra text file type; expected one of {sorted(TEXT_BUILDERS)}"
        )
    return builder


def extra_tokens(paths: list[str], field: str, tokenizer: Any) -> list[list[str]]:
    """Tokens of unlabelled texts: ``.txt`` lines, or ``field`` of JSON Lines/CSV/Parquet rows."""
    import datasets

    from wordlab.data.prepare import tokenize

    documents: list[list[str]] = []
    for name in paths:
        path = Path(name).expanduser()
        if not path.is_file():
            raise DataError(f"extra text file {path} does not exist (option embedding.extra_text)")
        builder = _builder(path)
        texts = datasets.load_dataset(builder, data_files=str(path), split="train")
        column = "text" if builder == "text" else field
        if column not in texts.column_names:
            raise DataError(
                f"{path}: no column {column!r} (option embedding.extra_text_field); "
                f"available columns: {texts.column_names}"
            )
        texts = texts.select_columns([column])
        if column != "text":
            texts = texts.rename_column(column, "text")
        tokens = tokenize(datasets.DatasetDict({"extra": texts}), tokenizer)["extra"]["tokens"]
        documents.extend(t for t in tokens if t)
    return documents


def word2vec_embeddings(
    vocab: Vocabulary,
    source: TokenSource,
    embedding_dim: int = 300,
    algorithm: str = "skipgram",
    window: int = 5,
    min_count: int = 1,
    epochs: int = 5,
    negative: int = 5,
    sample: float = 1e-3,
    workers: int | None = None,
    extra_text: list[str] | str | None = None,
    extra_text_field: str = "text",
    freeze: bool = False,
    multichannel: bool = False,
    seed: int = 1,
    cache_dir: str | None = None,
    output_dir: str = "embeddings",
    log_vectors: bool = True,
) -> InitialEmbeddings:
    """Train word2vec on the training split (plus unlabelled text) and fill the table with it.

    Trained vectors are cached under ``cache_dir`` keyed by the data fingerprint, the extra
    files and every setting below, so later runs and sweep jobs reuse them.

    Args:
        vocab: The run's vocabulary.
        source: The data module (training tokens and its fingerprint).
        embedding_dim: Vector size.
        algorithm: ``skipgram`` or ``cbow``.
        window: Context window on each side.
        min_count: Ignore words rarer than this in the word2vec corpus.
        epochs: Passes over the corpus.
        negative: Negative samples per positive pair.
        sample: Down-sampling threshold for frequent words.
        workers: Training threads (default: all cores).
        extra_text: Unlabelled text files: ``.txt`` (one text per line) or JSON Lines / CSV /
            Parquet (gzip allowed) with ``extra_text_field``.
        extra_text_field: Column of the texts in ``extra_text`` tables.
        freeze: Keep the vectors fixed (Kim's CNN-static).
        multichannel: A frozen and a fine-tuned copy (Kim's CNN-multichannel).
        seed: Seed of gensim's initialisation and of the random rows for missing words.
        cache_dir: Folder for trained vectors (none: no cache).
        output_dir: Folder for the reports logged with the run.
        log_vectors: Also log the trained vectors (word2vec binary format) with the run.
    """
    from gensim.models import KeyedVectors, Word2Vec

    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown embedding.algorithm {algorithm!r}; expected one of {sorted(ALGORITHMS)}"
        )
    extra = [extra_text] if isinstance(extra_text, str) else list(extra_text or [])
    settings = {
        "dim": embedding_dim, "algorithm": algorithm, "window": window, "min_count": min_count,
        "epochs": epochs, "negative": negative, "sample": sample, "seed": seed,
        "extra": [[str(Path(p).resolve()), *_stat(p)] for p in extra], "field": extra_text_field,
        "data": source.fingerprint,
    }  # fmt: skip
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"{key}.bin" if cache_dir else None
    if cached is not None and cached.is_file():
        vectors = KeyedVectors.load_word2vec_format(str(cached), binary=True)
        stats = json.loads(cached.with_suffix(".json").read_text())
        stats["embedding/cache_hit"] = 1.0
        log.info("word2vec vectors found in cache %s", cached)
    else:
        sentences = source.training_tokens() + extra_tokens(
            extra, extra_text_field, source.tokenizer
        )
        model = Word2Vec(
            vector_size=embedding_dim, sg=ALGORITHMS[algorithm], window=window,
            min_count=min_count, negative=negative, sample=sample, seed=seed,
            workers=workers or os.cpu_count() or 1,
        )  # fmt: skip
        model.build_vocab(sentences)
        started = time.perf_counter()
        # report_delay: a progress line a minute, not gensim's one a second
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs, report_delay=60)
        seconds = time.perf_counter() - started
        words = model.corpus_total_words * epochs
        vectors = model.wv
        stats = {
            "embedding/word2vec_seconds": seconds,
            "embedding/word2vec_words_per_second": words / seconds,
            "embedding/word2vec_corpus_tokens": float(model.corpus_total_words),
            "embedding/word2vec_vocab": float(len(vectors)),
            "embedding/cache_hit": 0.0,
        }
        log.info("word2vec: %d words in %.1f s (%.0f words/s)", words, seconds, words / seconds)
        if cached is not None:
            _save(vectors, cached, stats)
    table, metrics, found = table_from_vectors(
        vocab, lambda w: vectors[w] if w in vectors.key_to_index else None, embedding_dim,
        "word2vec", seed,
    )  # fmt: skip
    folder = Path(output_dir)
    artifacts = []
    if log_vectors:
        folder.mkdir(parents=True, exist_ok=True)
        vectors.save_word2vec_format(str(folder / "word2vec.bin"), binary=True)
        artifacts.append(folder / "word2vec.bin")
    return finish(
        vocab, table, {**metrics, **stats}, found, folder, freeze, multichannel, artifacts
    )


def _stat(path: str) -> list[int]:
    stat = Path(path).expanduser().stat() if Path(path).expanduser().exists() else None
    return [stat.st_size, stat.st_mtime_ns] if stat else [0, 0]


def _save(vectors: Any, path: Path, stats: dict[str, float]) -> None:
    """Write vectors and their training figures, atomically (parallel jobs may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    vectors.save_word2vec_format(str(temporary), binary=True)
    path.with_suffix(".json").write_text(json.dumps(stats))
    os.replace(temporary, path)
