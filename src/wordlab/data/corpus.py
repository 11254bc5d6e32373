"""Load a labelled text corpus into a ``DatasetDict`` with ``text`` and ``label`` columns.

Every corpus goes through Hugging Face ``datasets``: a hub name or a local copy of a hub
dataset repository (``load_dataset(path, name)``), a local folder of split files
(``train``/``validation``/``test`` as JSON Lines, JSON, CSV, TSV or Parquet, optionally gzipped),
explicit ``data_files``, or a folder with one sub-folder of ``.txt`` documents per label (the
embedded BBC News corpus has that layout).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import Any

import datasets

from wordlab.data.errors import DataError

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}
BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}


def package_path(package: str, relative: str = "") -> str:
    """Folder of an installed package (without importing it) joined with ``relative``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"package {package!r} is not installed; it ships the data asked for")
    return str(Path(next(iter(spec.submodule_search_locations))) / relative)


def _suffix(path: Path) -> str:
    suffixes = path.suffixes
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _split_files(folder: Path) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for path in sorted(folder.iterdir()):
        stem = path.name.split(".")[0].lower()
        if path.is_file() and stem in SPLIT_ALIASES and _suffix(path) in BUILDERS:
            files.setdefault(SPLIT_ALIASES[stem], []).append(str(path))
    return files


def is_hub_repository(folder: Path) -> bool:
    """A local clone of a hub dataset: a dataset card (README.md) or a ``data/`` folder."""
    return (folder / "README.md").is_file() or (folder / "data").is_dir()


def local_files(path: str | Path) -> list[Path]:
    """The files a local ``path`` stands for (for fingerprints); empty for hub names."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    split_files = _split_files(path)
    if split_files:
        return [Path(f) for fs in split_files.values() for f in fs]
    if is_hub_repository(path):
        return sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    return sorted(p for p in path.glob("*/*.txt") if p.is_file())


def check_text_file(path: Path) -> None:
    """Raise ``DataError`` naming the file if it is not valid UTF-8 (and where) or has no rows."""
    opener = gzip.open if path.suffix == ".gz" else open
    filled = number = 0  # lines with more than white space, lines
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                filled += bool(line.decode("utf-8").strip())
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{path}: line {number} is not valid UTF-8 ({error.reason} at byte "
                    f"{error.start}); re-encode the file as UTF-8"
                ) from None
    header = _suffix(path) in (".csv", ".tsv")
    if filled <= header:
        if filled:
            what = "a header and no rows"
        elif number:
            what = "nothing but white space"
        else:
            what = "empty"
        raise DataError(f"{path}: no rows (the file is {what})")


def read_label_folders(folder: Path, encoding_errors: str = "strict") -> datasets.DatasetDict:
    """One ``train`` split from ``folder/<label>/*.txt``, ordered by label and file name."""
    texts, labels, files = [], [], []
    for label_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for file in sorted(label_dir.glob("*.txt")):
            try:
                texts.append(file.read_bytes().decode("utf-8", errors=encoding_errors))
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{file}: not valid UTF-8 ({error.reason} at byte {error.start}); "
                    "re-encode it, or set data.encoding_errors=replace"
                ) from None
            labels.append(label_dir.name)
            files.append(str(file.relative_to(folder)))
    if not texts:
        found = sorted(p.name for p in folder.iterdir())[:20]
        raise DataError(
            f"{folder}: no train/validation/test files (.jsonl, .json, .csv, .tsv, .parquet, "
            f"optionally .gz) and no <label>/*.txt documents; found {found}"
        )
    return datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict({"text": texts, "label": labels, "file": files})}
    )


def _load_files(builder: str, data_files: dict[str, list[str]], **kwargs: Any) -> Any:
    if builder != "parquet":
        for files in data_files.values():
            for file in files:
                check_text_file(Path(file))
    if builder == "csv" and all(
        _suffix(Path(f)) == ".tsv" for fs in data_files.values() for f in fs
    ):
        kwargs.setdefault("sep", "\t")
    loaded = {}
    for split, files in data_files.items():  # one split at a time: extra columns may differ
        try:
            loaded[split] = datasets.load_dataset(
                builder, data_files=files, split="train", **kwargs
            )
        except (datasets.exceptions.DatasetGenerationError, ValueError) as error:
            cause = error.__cause__ or error  # ValueError: e.g. a JSON file holding []
            raise DataError(f"could not read {files}: {cause}") from error
    return loaded


def load_hub(path: str, name: str | None, revision: str | None) -> Any:
    """``load_dataset`` on a hub name or a local copy of a hub dataset repository."""
    try:
        return datasets.load_dataset(path, name, revision=revision)
    except (FileNotFoundError, ConnectionError, ValueError) as error:
        raise DataError(
            f"could not load dataset {path!r} (option data.path) from the Hugging Face hub or its "
            f"cache: {error}"
        ) from error


def load_raw(
    path: str,
    name: str | None = None,
    data_files: dict[str, Any] | str | None = None,
    revision: str | None = None,
    encoding_errors: str = "strict",
) -> datasets.DatasetDict:
    """Load the corpus at ``path`` (local folder or file, builder name, or hub name).

    Returns:
        The splits found, under the names ``train``, ``validation`` and ``test``.
    """
    local = Path(path).expanduser()
    if data_files:
        given = {"train": data_files} if isinstance(data_files, str) else dict(data_files)
        files: dict[str, list[str]] = {
            SPLIT_ALIASES.get(k, k): [v] if isinstance(v, str) else list(v)
            for k, v in given.items()
        }
        for listed in files.values():
            for file in listed:
                if not Path(file).is_file():
                    raise DataError(f"data file {file} does not exist (option data.data_files)")
        builder = (
            path
            if path in set(BUILDERS.values())
            else BUILDERS.get(_suffix(Path(next(iter(files.values()))[0])), "")
        )
        if not builder:
            raise DataError(
                f"cannot tell the format of {files}; use .jsonl, .json, .csv, .tsv or .parquet"
            )
        loaded = _load_files(builder, files)
    elif local.is_file():
        builder = BUILDERS.get(_suffix(local), "")
        if not builder:
            raise DataError(f"{local}: unknown file type; expected one of {sorted(BUILDERS)}")
        loaded = _load_files(builder, {"train": [str(local)]})
    elif local.is_dir():
        found_files = _split_files(local)
        if found_files:
            builders = {BUILDERS[_suffix(Path(f))] for fs in found_files.values() for f in fs}
            if len(builders) > 1:
                raise DataError(f"{local}: split files mix formats {sorted(builders)}")
            loaded = _load_files(builders.pop(), found_files)
        elif is_hub_repository(local):
            loaded = load_hub(str(local), name, revision)
        elif any(p.is_dir() for p in local.iterdir()):
            loaded = read_label_folders(local, encoding_errors)
        else:
            found = sorted(p.name for p in local.iterdir())[:20]
            raise DataError(
                f"{local}: no train/validation/test files (.jsonl, .json, .csv, .tsv, .parquet, "
                f"optionally .gz) and no <label>/ folders; found {found}"
            )
    elif path.startswith((".", "/", "~")) or local.suffix:
        raise DataError(f"data path {path} does not exist (option data.path)")
    else:
        loaded = load_hub(path, name, revision)
    return datasets.DatasetDict(
        {SPLIT_ALIASES[k]: v for k, v in loaded.items() if k in SPLIT_ALIASES}
    )
