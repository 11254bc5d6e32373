import gzip
import json
from pathlib import Path

import datasets
import pytest

from conftest import make_rows, write_jsonl
from wordlab.data.corpus import load_raw, read_label_folders
from wordlab.data.errors import DataError


def test_folder_of_split_files(tiny_corpus: Path) -> None:
    raw = load_raw(str(tiny_corpus))
    assert {k: v.num_rows for k, v in raw.items()} == {"train": 200, "validation": 40, "test": 40}


def test_split_aliases_gzip_csv_and_parquet(tmp_path: Path) -> None:
    rows = make_rows(10, 0)
    with gzip.open(tmp_path / "train.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)
    write_jsonl(tmp_path / "dev.jsonl", rows[:4])
    raw = load_raw(str(tmp_path))
    assert sorted(raw) == ["train", "validation"] and raw["train"].num_rows == 10

    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    datasets.Dataset.from_list(rows).to_csv(csv_dir / "train.csv")
    assert load_raw(str(csv_dir))["train"]["text"] == [r["text"] for r in rows]

    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    datasets.Dataset.from_list(rows).to_parquet(parquet_dir / "test.parquet")
    datasets.Dataset.from_list(rows).to_parquet(parquet_dir / "train.parquet")
    assert load_raw(str(parquet_dir))["test"].num_rows == 10


def test_single_file_and_data_files(tiny_corpus: Path) -> None:
    assert load_raw(str(tiny_corpus / "test.jsonl"))["train"].num_rows == 40
    files = {"train": str(tiny_corpus / "train.jsonl"), "test": str(tiny_corpus / "test.jsonl")}
    assert sorted(load_raw("json", data_files=files)) == ["test", "train"]


def test_hub_repository_layout_goes_through_load_dataset(tmp_path: Path) -> None:
    """A local copy of a hub dataset repository loads by the same call as a hub name."""
    repo = tmp_path / "someone" / "reviews"
    (repo / "data").mkdir(parents=True)
    datasets.Dataset.from_list(make_rows(20, 0)).to_parquet(
        repo / "data" / "train-00000-of-00001.parquet"
    )
    datasets.Dataset.from_list(make_rows(6, 1)).to_parquet(
        repo / "data" / "test-00000-of-00001.parquet"
    )
    raw = load_raw(str(repo))
    assert {k: v.num_rows for k, v in raw.items()} == {"train": 20, "test": 6}


def test_label_folders(tmp_path: Path) -> None:
    tmp_path = tmp_path / "corpus"
    for label, texts in {"sport": ["goal", "match"], "tech": ["chip"]}.items():
        (tmp_path / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (tmp_path / label / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    train = load_raw(str(tmp_path))["train"]
    assert train["label"] == ["sport", "sport", "tech"] and train["text"] == [
        "goal",
        "match",
        "chip",
    ]


def test_label_folders_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.txt").write_bytes(b"caf\xe9")
    with pytest.raises(DataError, match=r"1\.txt.*UTF-8.*encoding_errors"):
        read_label_folders(tmp_path)
    assert read_label_folders(tmp_path, "replace")["train"]["text"] == ["caf\ufffd"]


def test_missing_path_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*data.path"):
        load_raw(str(tmp_path / "nowhere"))


@pytest.mark.parametrize("with_subfolder", [False, True])
def test_folder_without_data_lists_what_it_found(tmp_path: Path, with_subfolder: bool) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "notes.md").write_text("hi")
    if with_subfolder:
        (folder / "images").mkdir()
    with pytest.raises(DataError, match=r"no train/validation/test files.*notes.md"):
        load_raw(str(folder))


def test_non_utf8_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_bytes(
        b'{"text": "ok", "label": "a"}\n{"text": "caf\xe9", "label": "b"}\n'
    )
    with pytest.raises(DataError, match=r"train.jsonl: line 2 is not valid UTF-8"):
        load_raw(str(tmp_path))


def test_malformed_json_names_file(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text('{"text": "ok", "label": "a"}\n{"text": \n')
    with pytest.raises(DataError, match=r"could not read.*train.jsonl"):
        load_raw(str(tmp_path))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("test.jsonl", b"", "test.jsonl: no rows \\(the file is empty\\)"),
        ("test.jsonl", b"\n \n", "test.jsonl: no rows \\(the file is nothing but white space"),
        ("test.jsonl.gz", gzip.compress(b""), "test.jsonl.gz: no rows \\(the file is empty"),
        ("test.json", b"[]", "could not read.*test.json"),
    ],
)
def test_a_split_file_without_rows_names_the_file(
    tiny_corpus: Path, name: str, content: bytes, message: str
) -> None:
    (tiny_corpus / "test.jsonl").unlink()
    (tiny_corpus / name).write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_raw(str(tiny_corpus))


def test_a_csv_with_only_its_header_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    (tmp_path / "test.csv").write_text("text,label\n")
    with pytest.raises(DataError, match=r"test.csv: no rows \(the file is a header and no rows"):
        load_raw(str(tmp_path))


def test_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing.jsonl does not exist.*data.data_files"):
        load_raw("json", data_files={"train": str(tmp_path / "missing.jsonl")})
