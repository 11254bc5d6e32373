"""CoNLL column files: one token per line with its tags in columns, a blank line between sentences.

The format of the CoNLL-2000 and CoNLL-2003 shared tasks (``EU-rejects NNP B-NP B-ORG``) and of
most tagging corpora since. ``-DOCSTART-`` lines, which mark document boundaries, are skipped.
Each sentence becomes one row whose columns are lists: ``tokens`` and one list of tags per
further column, named as the Hugging Face copy of CoNLL-2003 names them when there are four.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets

from wordlab.data.errors import DataError
from wordlab.data.files import open_text

CONLL2003_COLUMNS = ("tokens", "pos_tags", "chunk_tags", "ner_tags")
DOCSTART = "-DOCSTART-"


def column_names(count: int) -> list[str]:
    """``tokens`` and tag column names for a file of ``count`` columns."""
    if count == len(CONLL2003_COLUMNS):
        return list(CONLL2003_COLUMNS)
    if count == 2:
        return ["tokens", "tags"]
    return ["tokens", *[f"tags_{i}" for i in range(1, count)]]


def read_conll(path: Path, columns: Sequence[str] | None = None) -> datasets.Dataset:
    """The sentences of a CoNLL column file (plain or compressed), one row each.

    Args:
        path: The file.
        columns: Names of the columns, the first being the tokens' (default: ``column_names``).

    Raises:
        DataError: A line has another number of columns than the file's first (file and line
            named), or the file holds no sentence.
    """
    sentences: list[list[list[str]]] = []
    sentence: list[list[str]] = []
    width = 0
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0] == DOCSTART:
                if sentence:
                    sentences.append(sentence)
                sentence = []
                continue
            width = width or len(fields)
            if len(fields) != width or width < 2:
                raise DataError(
                    f"{path}: line {number} has {len(fields)} columns, expected {max(width, 2)} "
                    "(a token and its tags, separated by white space) as on the file's first line"
                )
            sentence.append(fields)
    if sentence:
        sentences.append(sentence)
    if not sentences:
        raise DataError(f"{path}: no sentences (expected one token and its tags per line)")
    names = list(columns) if columns is not None else column_names(width)
    if len(names) != width:
        raise DataError(f"{path}: {width} columns, but {len(names)} names given: {names}")
    return datasets.Dataset.from_dict(
        {name: [[token[i] for token in s] for s in sentences] for i, name in enumerate(names)}
    )
