"""Bad input files and options give a ``DataError`` naming the file, line, field or option."""

import bz2
import gzip
import json
import lzma
import os
import re
from pathlib import Path

import datasets
import pytest

from conftest import make_rows, write_jsonl
from wordlab.data import TextDataModule
from wordlab.data.corpus import load_raw
from wordlab.data.errors import DataError
from wordlab.data.splits import drop_empty, encode_labels, select_fields

# pandas' default missing-value strings, which its CSV reader turns into NaN.
MISSING_WORDS = [
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip


def dd(**splits: list[dict]) -> datasets.DatasetDict:
    return datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in splits.items()})


def load_fields(path: Path | str, **kwargs) -> datasets.DatasetDict:
    return select_fields(load_raw(str(path), **kwargs), "text", "label", str(path))


# ----------------------------------------------------------------- 1. CSV missing-value words


@pytest.mark.parametrize("sep", [",", "\t"])
def test_csv_texts_that_look_missing_are_read_as_they_are(tmp_path: Path, sep: str) -> None:
    name = "train.tsv" if sep == "\t" else "train.csv"
    lines = [f"{word}{sep}{['neg', 'pos'][i % 2]}" for i, word in enumerate(MISSING_WORDS)]
    (tmp_path / name).write_text("\n".join(["text" + sep + "label", *lines, sep + "pos"]) + "\n")
    raw = load_fields(tmp_path)
    assert raw["train"]["text"] == [*MISSING_WORDS, None]
    assert drop_empty(raw, "corpus") == {"train": 1}  # only the truly empty text
    assert raw["train"]["text"] == MISSING_WORDS


def test_csv_integer_labels_stay_integers_and_an_empty_label_is_missing(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,label\nNA,1\nnull,0\n")
    raw = load_fields(tmp_path)
    assert raw["train"].features["label"] == datasets.Value("int64")
    assert encode_labels(raw, "corpus", label_names=["neg", "pos"]) == ["neg", "pos"]
    assert raw["train"]["label"] == [1, 0]

    (tmp_path / "train.csv").write_text("text,label\nNA,1\nnull,\nNone,0\n")
    raw = load_fields(tmp_path)
    with pytest.raises(DataError, match="some rows of split train have no label"):
        encode_labels(raw, "corpus")


# ----------------------------------------------------------------- 2. label types


def test_mixed_label_types_name_the_column_and_show_two_values(tmp_path: Path) -> None:
    rows = [{"text": "a", "label": 1}, {"text": "b", "label": 0}, {"text": "c", "label": "pos"}]
    write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(
        DataError,
        match=r"split train: column 'label' \(data.label_field\) mixes types, "
        r"e\.g\. 1 \(int\) and 'pos' \(str\)",
    ):
        load_fields(tmp_path)


def test_mixed_label_types_across_files_name_the_file_line_and_field(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "a.jsonl", [{"text": "a", "label": 1}, {"text": "b", "label": 0}]
    )
    second = write_jsonl(
        tmp_path / "b.jsonl", [{"text": "c", "label": 1}, {"text": "d", "label": "pos"}]
    )
    with pytest.raises(
        DataError,
        match=r"b\.jsonl: line 2: field 'label' holds 'pos' \(str\), but line 1 of .*a\.jsonl "
        r"holds 1 \(int\).*data.label_field",
    ):
        load_raw("json", data_files={"train": [str(first), str(second)]})


def test_list_labels_name_the_column(tmp_path: Path) -> None:
    rows = [{"text": "a", "label": ["x", "y"]}, {"text": "b", "label": ["y"]}]
    write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(
        DataError,
        match=r"split train: column 'label' \(data.label_field\) holds lists, "
        r"e\.g\. \['x', 'y'\] \(list\) and \['y'\] \(list\); each row needs one label",
    ):
        load_fields(tmp_path)


def test_texts_that_are_not_strings_are_an_error_not_dropped(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "train.jsonl", [{"text": "fine", "label": "a"}, {"text": 5, "label": "b"}]
    )
    with pytest.raises(DataError, match=r"column 'text' \(data.text_field\) mixes types"):
        load_fields(tmp_path)
    (tmp_path / "train.jsonl").unlink()
    (tmp_path / "train.csv").write_text("text,label\n007,a\n1e3,b\n")
    with pytest.raises(DataError, match=r"column 'text' \(data.text_field\) holds float64 values"):
        load_fields(tmp_path)


# ----------------------------------------------------------------- 3. one class


def test_a_train_split_with_one_label_is_an_error() -> None:
    raw = dd(train=[{"label": "pos"}] * 3, test=[{"label": "pos"}])
    with pytest.raises(
        DataError, match=r"corpus: the train split has only one label \('pos'\); .* at least two"
    ):
        encode_labels(raw, "corpus")
    raw = dd(train=[{"label": 1}] * 3)
    with pytest.raises(DataError, match=r"only one label \('positive'\)"):
        encode_labels(raw, "corpus", label_names=["negative", "positive"])
    # A model's evaluation on one class is fine.
    raw = dd(train=[{"label": "pos"}] * 3)
    assert encode_labels(raw, "corpus", classes=["neg", "pos"]) == ["neg", "pos"]


# ----------------------------------------------------------------- 4. data.label_names


def test_label_names_with_string_labels_is_an_error() -> None:
    raw = dd(train=[{"label": "pos"}, {"label": "neg"}])
    with pytest.raises(
        DataError,
        match=r"data.label_names \['negative', 'positive'\] names integer labels 0..K-1, "
        r"but split train has string labels \['neg', 'pos'\]",
    ):
        encode_labels(raw, "corpus", label_names=["negative", "positive"])


def test_label_names_must_cover_the_integer_labels() -> None:
    raw = dd(train=[{"label": i} for i in range(5)])
    with pytest.raises(
        DataError,
        match=r"split train has labels \[0, 1, 2, 3, 4\] but data.label_names gives 2 names "
        r"\(for labels 0..1\)",
    ):
        encode_labels(raw, "corpus", label_names=["negative", "positive"])


def test_label_names_for_integer_and_class_labels_keep_working() -> None:
    names = ["negative", "neutral", "positive"]
    raw = dd(train=[{"label": 2}, {"label": 0}], test=[{"label": 1}])
    assert encode_labels(raw, "corpus", label_names=names) == names
    assert raw["train"]["label"] == [2, 0] and raw["test"]["label"] == [1]
    # Hub data whose label feature is a ClassLabel names itself (conf/data/sst2.yaml).
    sst2 = datasets.ClassLabel(names=["negative", "positive"])
    hub = datasets.Dataset.from_dict({"label": [1, 0]}, features=datasets.Features({"label": sst2}))
    raw = datasets.DatasetDict({"train": hub})
    assert encode_labels(raw, "corpus", label_names=sst2.names) == sst2.names
    assert raw["train"]["label"] == [1, 0]
    # Evaluating a model trained with label_names on the same integer-labelled corpus.
    raw = dd(test=[{"label": 1}, {"label": 0}])
    classes = ["negative", "positive"]
    assert encode_labels(raw, "corpus", label_names=classes, classes=classes) == classes
    assert raw["test"]["label"] == [1, 0]


# ----------------------------------------------------------------- 5. compressed files


def test_a_truncated_gzip_names_the_file_and_line(tmp_path: Path) -> None:
    content = "".join(json.dumps(r) + "\n" for r in make_rows(400, 0)).encode()
    packed = gzip.compress(content)
    (tmp_path / "train.jsonl.gz").write_bytes(packed[: len(packed) * 6 // 10])
    with pytest.raises(
        DataError,
        match=r"train.jsonl.gz: truncated or not valid gzip: it breaks off after line \d+",
    ):
        load_raw(str(tmp_path))
    (tmp_path / "train.jsonl.gz").write_bytes(content)  # not gzip at all
    with pytest.raises(DataError, match=r"train.jsonl.gz: truncated or not valid gzip.*line 1"):
        load_raw(str(tmp_path))


@pytest.mark.parametrize(("suffix", "compress"), [(".bz2", bz2.compress), (".xz", lzma.compress)])
def test_bz2_and_xz_split_files_are_read(tmp_path: Path, suffix: str, compress) -> None:
    rows = make_rows(10, 0)
    content = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (tmp_path / f"train.jsonl{suffix}").write_bytes(compress(content))
    assert load_raw(str(tmp_path))["train"]["text"] == [r["text"] for r in rows]


# ----------------------------------------------------------------- 6. malformed JSON


def test_a_malformed_line_in_the_middle_names_the_file_and_line(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in make_rows(100, 0)]
    lines[56] = '{"text": "x", "label": '
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError, match=r"train.jsonl: line 57 is not valid JSON \(Expecting value at column 24\)"
    ):
        load_raw(str(tmp_path))


def test_a_malformed_json_array_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "train.json").write_text(
        '[\n{"text": "a", "label": "x"},\n{"text": "b" "label"}\n]'
    )
    with pytest.raises(DataError, match=r"train.json: line 3 is not valid JSON \(Expecting"):
        load_raw(str(tmp_path))


# ----------------------------------------------------------------- 7. symlink loops


def symlink_loop(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(folder / f"{name}.other", folder / name)
    os.symlink(folder / name, folder / f"{name}.other")
    return folder / name


def test_a_symlink_loop_as_data_path(tmp_path: Path) -> None:
    loop = symlink_loop(tmp_path, "corpus.jsonl")
    with pytest.raises(
        DataError, match=rf"data path {re.escape(str(loop))} is a symlink loop: .*option data.path"
    ):
        load_raw(str(loop))


def test_a_symlink_loop_among_data_files(tiny_corpus: Path, tmp_path: Path) -> None:
    loop = symlink_loop(tmp_path, "test.jsonl")
    files = {"train": str(tiny_corpus / "train.jsonl"), "test": str(loop)}
    message = rf"data file {re.escape(str(loop))} is a symlink loop: .*option data.data_files"
    with pytest.raises(DataError, match=message):
        load_raw("json", data_files=files)
    with pytest.raises(DataError, match=message):  # before the data module's fingerprint
        TextDataModule(path="json", data_files=files, cache_dir=str(tmp_path / "c")).prepare()


def test_a_symlink_loop_in_a_data_folder(tiny_corpus: Path, tmp_path: Path) -> None:
    (tiny_corpus / "train.jsonl").unlink()
    loop = symlink_loop(tiny_corpus, "train.jsonl")
    message = rf"{re.escape(str(loop))} is a symlink loop: .*folder of option data.path"
    with pytest.raises(DataError, match=message):
        load_raw(str(tiny_corpus))
    # The data module's fingerprint lists the folder's files first: the same message.
    with pytest.raises(DataError, match=message):
        TextDataModule(path=str(tiny_corpus), cache_dir=str(tmp_path / "cache")).prepare()


def test_a_symlink_loop_in_label_folders(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sport").mkdir(parents=True)
    (folder / "sport" / "1.txt").write_text("goal")
    loop = symlink_loop(folder / "tech", "2.txt")
    with pytest.raises(
        DataError, match=rf"{re.escape(str(loop))} is a symlink loop: .*folder of option data.path"
    ):
        load_raw(str(folder))
