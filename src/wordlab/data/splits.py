"""Turn raw splits into ``train``/``validation``/``test`` with ``text`` and integer ``label``."""

from __future__ import annotations

import logging
import math
import reprlib
from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.utils.stratify import stratified_shuffle_split_generate_indices

from wordlab.data.errors import DataError

log = logging.getLogger(__name__)


def select_fields(
    raw: datasets.DatasetDict,
    text_field: str,
    label_field: str,
    source: str,
    require_train: bool = True,
) -> datasets.DatasetDict:
    """Rename the text and label fields to ``text`` and ``label``, checking they exist."""
    if require_train and "train" not in raw:
        raise DataError(f"{source}: no train split; found splits {sorted(raw)}")
    selected = {}
    for split, dataset in raw.items():
        for option, field in (("data.text_field", text_field), ("data.label_field", label_field)):
            if field not in dataset.column_names:
                raise DataError(
                    f"{source}: split {split} has no column {field!r} ({option}); "
                    f"available columns: {dataset.column_names}"
                )
        check_text_column(dataset, text_field, split, source)
        check_label_column(dataset, label_field, split, source)
        dataset = dataset.rename_columns(
            {f: t for f, t in ((text_field, "text"), (label_field, "label")) if f != t}
        )
        selected[split] = dataset
    return datasets.DatasetDict(selected)


def _examples(dataset: datasets.Dataset, field: str) -> str:
    """Two values of ``field`` for a message, of two types where the column mixes them."""
    values = [v for v in dataset[field] if v is not None]
    mixed = [v for v in values if type(v) is not type(values[0])]
    shown = values[:1] + (mixed or values[1:])[:1]
    return " and ".join(f"{reprlib.repr(v)} ({type(v).__name__})" for v in shown)


def _wrong_column(
    dataset: datasets.Dataset, field: str, option: str, split: str, source: str, expected: str
) -> DataError:
    feature = dataset.features[field]
    if isinstance(feature, datasets.Json):
        holds = "mixes types"
    elif isinstance(feature, datasets.Value):
        holds = f"holds {feature.dtype} values"
    elif isinstance(feature, datasets.Sequence | datasets.LargeList | list):
        holds = "holds lists"
    elif isinstance(feature, dict):
        holds = "holds objects"
    else:
        holds = f"holds {type(feature).__name__} values"
    return DataError(
        f"{source}: split {split}: column {field!r} ({option}) {holds}, e.g. "
        f"{_examples(dataset, field)}; {expected}"
    )


def check_text_column(dataset: datasets.Dataset, field: str, split: str, source: str) -> None:
    """Raise ``DataError`` unless column ``field`` holds strings (or nothing but nulls).

    Texts that are not strings are not dropped as empty: numbers (e.g. a CSV column of
    numbers), values of mixed types or lists are an error naming the column and two values.
    """
    feature = dataset.features[field]
    if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
        return
    if dataset.data.column(field).null_count == len(dataset.data):
        return  # no text at all: drop_empty says so
    expected = "each row needs one text, a string (a CSV column of numbers reads as numbers)"
    raise _wrong_column(dataset, field, "data.text_field", split, source, expected)


def check_label_column(dataset: datasets.Dataset, field: str, split: str, source: str) -> None:
    """Raise ``DataError`` unless column ``field`` holds one plain value per row.

    Values of mixed types (e.g. ``1`` and ``"pos"`` in JSON Lines), lists or objects are an
    error naming the column and showing two values.
    """
    feature = dataset.features[field]
    if isinstance(feature, datasets.ClassLabel | datasets.Value):
        return
    raise _wrong_column(
        dataset,
        field,
        "data.label_field",
        split,
        source,
        "each row needs one label: every label a string, or every label an integer",
    )


def drop_empty(raw: datasets.DatasetDict, source: str) -> dict[str, int]:
    """Remove rows with empty text in place; return how many each split lost."""
    skipped = {}
    for split in list(raw):
        before = raw[split].num_rows
        if before == 0:
            raise DataError(f"{source}: split {split} is empty")
        raw[split] = raw[split].filter(
            lambda texts: [isinstance(t, str) and bool(t.strip()) for t in texts],
            batched=True,
            input_columns="text",
        )
        skipped[split] = before - raw[split].num_rows
        if skipped[split]:
            log.warning(
                "%s: skipped %d rows of split %s with empty text", source, skipped[split], split
            )
        if raw[split].num_rows == 0:
            raise DataError(f"{source}: every text in split {split} is empty")
    return skipped


def encode_labels(
    raw: datasets.DatasetDict,
    source: str,
    label_names: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
) -> list[str]:
    """Replace labels by class indices in place; return the class names.

    Class names come from ``classes`` (a trained model's label set), else from a
    ``ClassLabel`` feature, else from ``label_names`` for integer labels 0..K-1, else from the
    sorted label values of the training split. A label that is not among the class names
    (for example a test label training never saw) is an error, and so are ``label_names``
    that do not fit the labels (string labels, or integers outside 0..K-1) and a training
    split with a single label.
    """
    reference = "train" if "train" in raw and classes is None else next(iter(raw))
    feature = raw[reference].features["label"]
    present = raw[reference].unique("label")
    if isinstance(feature, datasets.ClassLabel):
        value_names: dict[Any, str] = dict(enumerate(feature.names))
        names = list(feature.names)
    else:
        if None in present:
            raise DataError(f"{source}: some rows of split {reference} have no label")
        if label_names:
            check_label_names(present, label_names, reference, source)
            names = [str(n) for n in label_names]
            value_names = dict(enumerate(names))
        else:
            values = sorted(present)
            value_names = {v: str(v) for v in values}
            names = [str(v) for v in values]
    if classes is not None:
        names = [str(c) for c in classes]
    elif reference == "train" and len(present) < 2:
        only = value_names.get(present[0], str(present[0]))
        raise DataError(
            f"{source}: the train split has only one label ({only!r}); classification needs at "
            "least two"
        )
    position = {n: i for i, n in enumerate(names)}
    for split, dataset in raw.items():
        unknown = [v for v in dataset.unique("label") if value_names.get(v, str(v)) not in position]
        if unknown:
            shown = sorted(unknown, key=str)[:10]
            expected = "the model's classes" if classes is not None else "the train split's labels"
            raise DataError(
                f"{source}: split {split} has labels {shown} that are not among {expected}: {names}"
            )

        def relabel(table: pa.Table) -> pa.Table:
            values = table.column("label").to_pylist()
            labels = pa.array([position[value_names.get(v, str(v))] for v in values], pa.int64())
            return table.set_column(table.schema.get_field_index("label"), "label", labels)

        # In Arrow format the texts are copied as they are, not read into Python and back.
        raw[split] = (
            dataset.with_format("arrow")
            .map(
                relabel,
                batched=True,
                features=datasets.Features(
                    {**dataset.features, "label": datasets.ClassLabel(names=names)}
                ),
            )
            .with_format(None)
        )
    return names


def check_label_names(
    values: Sequence[Any], label_names: Sequence[str], split: str, source: str
) -> None:
    """Raise ``DataError`` unless every label of ``split`` is an integer 0..K-1 for K names.

    Args:
        values: The distinct labels of ``split``.
        label_names: ``data.label_names``, the names of the integer labels 0..K-1.
        split: The split the labels come from.
        source: The corpus, for the message.
    """
    given = [str(n) for n in label_names]
    shown = sorted(values)[:10]
    if any(isinstance(v, str) for v in values):
        raise DataError(
            f"{source}: data.label_names {given} names integer labels 0..K-1, but split {split} "
            f"has string labels {shown}; string labels name themselves: remove data.label_names"
        )
    if not all(v == int(v) and 0 <= v < len(given) for v in values):
        raise DataError(
            f"{source}: split {split} has labels {shown} but data.label_names gives "
            f"{len(given)} names (for labels 0..{len(given) - 1}); give one name for each "
            "label 0..K-1, or remove data.label_names"
        )


def carve_splits(
    raw: datasets.DatasetDict,
    source: str,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    fold: int | None = None,
    fold_field: str = "fold",
    stratify: bool = True,
) -> datasets.DatasetDict:
    """Make sure ``test`` and ``validation`` exist, cutting them from ``train`` if needed.

    With ``fold`` set, the rows of ``train`` whose ``fold_field`` equals it become the test
    split (k-fold cross-validation). Cuts are seeded, and stratified by label unless
    ``stratify`` is false (labels per token, say). Without a
    ``train`` split (files to evaluate on) the splits are returned as they are.
    """
    if "train" not in raw:
        return raw
    train = raw["train"]
    splits = dict(raw)
    if fold is not None:
        if fold_field not in train.column_names:
            raise DataError(
                f"{source}: data.fold={fold} needs a {fold_field!r} column (data.fold_field); "
                f"available columns: {train.column_names}"
            )
        folds = train.unique(fold_field)
        if fold not in folds:
            raise DataError(f"{source}: data.fold={fold} is not among the folds {sorted(folds)}")
        in_fold = [f == fold for f in train[fold_field]]
        splits["test"] = train.select([i for i, x in enumerate(in_fold) if x])
        train = train.select([i for i, x in enumerate(in_fold) if not x])
    elif "test" not in splits:
        train, splits["test"] = _cut(train, test_fraction, seed, source, stratify)
    if "validation" not in splits:
        train, splits["validation"] = _cut(train, validation_fraction, seed, source, stratify)
    splits["train"] = train
    return datasets.DatasetDict({k: splits[k] for k in ("train", "validation", "test")})


def training_subset(
    raw: datasets.DatasetDict,
    source: str,
    fraction: float | None,
    size: int | None,
    seed: int,
    stratify: bool = True,
) -> datasets.DatasetDict:
    """Keep a seeded share (``fraction``) or number (``size``) of the training rows, stratified
    by label unless ``stratify`` is false; validation and test stay whole. The same seed gives
    the same subset whatever the model (learning curves, few-label studies)."""
    if fraction is None and size is None or "train" not in raw:
        return raw
    if fraction is not None and size is not None:
        raise ValueError("set data.train_fraction or data.train_size, not both")
    rows = raw["train"].num_rows
    count = size if size is not None else math.ceil(fraction * rows)  # type: ignore[operator]
    if count > rows:
        raise DataError(f"{source}: data.train_size={size}, but split train has {rows} rows")
    if count == rows:
        return raw
    subset = dict(raw)
    _, subset["train"] = _cut(raw["train"], count / rows, seed, source, stratify, count)
    log.info("%s: training on %d of the %d training rows (seed %d)", source, count, rows, seed)
    return datasets.DatasetDict(subset)


def _cut(
    dataset: datasets.Dataset,
    fraction: float,
    seed: int,
    source: str,
    stratify: bool,
    count: int | None = None,
) -> tuple[datasets.Dataset, datasets.Dataset]:
    """Split ``dataset`` into the rest and a seeded cut of ``count`` rows (default: the
    fraction's, rounded up)."""
    n_test = count if count is not None else math.ceil(fraction * len(dataset))
    if not stratify:
        order = np.random.default_rng(seed).permutation(len(dataset))
        return dataset.select(np.sort(order[n_test:])), dataset.select(np.sort(order[:n_test]))
    return _stratified_cut(dataset, n_test, seed, source)


def _stratified_cut(
    dataset: datasets.Dataset, n_test: int, seed: int, source: str
) -> tuple[datasets.Dataset, datasets.Dataset]:
    """The rows ``dataset.train_test_split(test_size=n_test, stratify_by_column="label",
    seed=seed)`` cuts, computed by the same function, but from the label column read at once:
    ``train_test_split`` reads it value by value (5 s for IMDB's 25,000 rows)."""
    labels = np.asarray(dataset.select_columns(["label"]).with_format("arrow")[:]["label"])
    rng = np.random.default_rng(seed)
    try:
        kept, cut = next(
            stratified_shuffle_split_generate_indices(labels, len(labels) - n_test, n_test, rng)
        )
    except ValueError as error:
        raise DataError(
            f"{source}: cannot cut {n_test} of {len(labels)} rows stratified by label ({error}); "
            "every label needs at least 2 rows"
        ) from error
    return dataset.select(kept), dataset.select(cut)
