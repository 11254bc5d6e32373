"""Tokenize, build the vocabulary and numericalize, with ``datasets`` doing the batching.

Tokenizing (the tokenizer's Arrow ``batch``, under ``Dataset.map(batched=True)``), counting and
the token to id lookup all run inside Arrow (string kernels, ``value_counts``, ``index_in``),
which is an order of magnitude faster than doing the last two in Python.
"""

from __future__ import annotations

import datasets
import pyarrow as pa
import pyarrow.compute as pc

from wordlab.data.tokenizers import Tokenizer
from wordlab.data.vocab import UNK_ID, Vocabulary


def tokenize(
    splits: datasets.DatasetDict,
    tokenizer: Tokenizer,
    max_length: int | None = None,
    num_proc: int | None = None,
) -> datasets.DatasetDict:
    """Add a ``tokens`` column, truncated to ``max_length`` tokens."""

    def tokenize_batch(table: pa.Table) -> pa.Table:
        tokens = tokenizer.batch(table.column("text").combine_chunks())
        if max_length is not None:
            tokens = pc.list_slice(tokens, 0, max_length)
        return table.append_column("tokens", tokens)

    return (
        splits.with_format("arrow")
        .map(
            tokenize_batch,
            batched=True,
            batch_size=10_000,
            num_proc=num_proc,
            desc="tokenize",
            load_from_cache_file=False,
        )
        .with_format(None)
    )


def count_tokens(dataset: datasets.Dataset, column: str = "tokens") -> dict[str, int]:
    """Frequency of every token in a list-of-strings column."""
    if dataset.num_rows == 0:
        return {}
    chunks = dataset.with_format("arrow")[:].column(column).chunks
    if not chunks:
        return {}
    flat = pa.chunked_array([chunk.flatten() for chunk in chunks], type=pa.string())
    counted = pc.value_counts(flat)
    return dict(
        zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)
    )


def numericalize(splits: datasets.DatasetDict, vocab: Vocabulary) -> datasets.DatasetDict:
    """Replace the ``tokens`` column by ``input_ids`` (int32, unknown tokens as ``<unk>``)."""
    value_set = pa.array(vocab.tokens, type=pa.string())

    def to_ids(table: pa.Table) -> pa.Table:
        columns = []
        for chunk in table.column("tokens").chunks:
            ids = pc.fill_null(pc.index_in(chunk.flatten(), value_set=value_set), UNK_ID)
            # a slice of a list array (rows a filter kept) has offsets that do not start at 0
            offsets = pc.subtract(chunk.offsets, chunk.offsets[0])
            columns.append(pa.ListArray.from_arrays(offsets, ids.cast(pa.int32())))
        ids_column = pa.chunked_array(columns, type=pa.list_(pa.int32()))
        return table.drop_columns(["tokens"]).append_column("input_ids", ids_column)

    return (
        splits.with_format("arrow")
        .map(
            to_ids, batched=True, batch_size=10_000, desc="numericalize", load_from_cache_file=False
        )
        .with_format(None)
    )
