"""Load a labelled text corpus into a ``DatasetDict`` with ``text`` and ``label`` columns.

Every corpus goes through Hugging Face ``datasets``: a hub name or a local copy of a hub
dataset repository (``load_dataset(path, name)``), a local folder of split files
(``train``/``validation``/``test`` as JSON Lines, JSON, CSV, TSV or Parquet, optionally gzipped),
explicit ``data_files``, or a folder with one sub-folder of ``.txt`` documents per label (the
embedded BBC News corpus has that layout).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import datasets

from wordlab.data.conll import read_conll
from wordlab.data.errors import DataError
from wordlab.data.files import (
    check_text_file,
    find_json_problem,
    format_suffix,
    reject_symlink_loop,
)

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}
# File types by suffix, and what reads them: a ``datasets`` builder, or ``conll`` (column files of
# a token and its tags per line, read by ``wordlab.data.conll``). A ``.txt`` file is one row per
# line in a ``text`` column (language modelling corpora).
BUILDERS = {
    ".jsonl": "json",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".conll": "conll",
    ".txt": "text",
}
FORMATS = ", ".join(BUILDERS)
# Read CSV text as it is: pandas' default turns "NA", "null", "None", "nan", ... into missing.
CSV_OPTIONS = {"keep_default_na": False, "na_values": [""]}


def package_path(package: str, relative: str = "") -> str:
    """Folder of an installed package (without importing it) joined with ``relative``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"package {package!r} is not installed; it ships the data asked for")
    return str(Path(next(iter(spec.submodule_search_locations))) / relative)


def _split_files(folder: Path) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for path in sorted(folder.iterdir()):
        stem = path.name.split(".")[0].lower()
        if stem in SPLIT_ALIASES and format_suffix(path) in BUILDERS:
            reject_symlink_loop(path, "file", "in the folder of option data.path")
            if path.is_file():
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


def read_label_folders(folder: Path, encoding_errors: str = "strict") -> datasets.DatasetDict:
    """One ``train`` split from ``folder/<label>/*.txt``, ordered by label and file name."""
    texts, labels, files = [], [], []
    for label_dir in sorted(folder.iterdir()):
        reject_symlink_loop(label_dir, "file", "in the folder of option data.path")
        if not label_dir.is_dir():
            continue
        for file in sorted(label_dir.glob("*.txt")):
            reject_symlink_loop(file, "file", "in the folder of option data.path")
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
            f"{folder}: no train/validation/test files ({FORMATS}, "
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
    if builder == "csv":
        kwargs = {**CSV_OPTIONS, **kwargs}
        if all(format_suffix(Path(f)) == ".tsv" for fs in data_files.values() for f in fs):
            kwargs.setdefault("sep", "\t")
    loaded = {}
    for split, files in data_files.items():  # one split at a time: extra columns may differ
        if builder == "conll":
            loaded[split] = datasets.concatenate_datasets([read_conll(Path(f)) for f in files])
            continue
        try:
            loaded[split] = datasets.load_dataset(
                builder, data_files=files, split="train", **kwargs
            )
        except (datasets.exceptions.DatasetGenerationError, ValueError) as error:
            problem = find_json_problem(files) if builder == "json" else None
            cause = error.__cause__ or error  # ValueError: e.g. a JSON file holding []
            raise DataError(problem or f"could not read {files}: {cause}") from error
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


def split_data_files(data_files: dict[str, Any] | str) -> dict[str, list[str]]:
    """``data.data_files`` (one path, or paths by split) as lists of paths by split name.

    Raises:
        DataError: A file does not exist or is a symlink loop (naming it and the option).
    """
    given = {"train": data_files} if isinstance(data_files, str) else dict(data_files)
    files = {
        SPLIT_ALIASES.get(k, k): [v] if isinstance(v, str) else list(v) for k, v in given.items()
    }
    for listed in files.values():
        for file in listed:
            reject_symlink_loop(Path(file), "data file", "option data.data_files")
            if not Path(file).is_file():
                raise DataError(f"data file {file} does not exist (option data.data_files)")
    return files


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
    reject_symlink_loop(local, "data path", "option data.path")
    if data_files:
        files = split_data_files(data_files)
        builder = (
            path
            if path in set(BUILDERS.values())
            else BUILDERS.get(format_suffix(Path(next(iter(files.values()))[0])), "")
        )
        if not builder:
            raise DataError(f"cannot tell the format of {files}; use one of {FORMATS}")
        loaded = _load_files(builder, files)
    elif local.is_file():
        builder = BUILDERS.get(format_suffix(local), "")
        if not builder:
            raise DataError(f"{local}: unknown file type; expected one of {sorted(BUILDERS)}")
        loaded = _load_files(builder, {"train": [str(local)]})
    elif local.is_dir():
        found_files = _split_files(local)
        if found_files:
            builders = {BUILDERS[format_suffix(Path(f))] for fs in found_files.values() for f in fs}
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
                f"{local}: no train/validation/test files ({FORMATS}, "
                f"optionally .gz) and no <label>/ folders; found {found}"
            )
    elif path.startswith((".", "/", "~")) or local.suffix:
        raise DataError(f"data path {path} does not exist (option data.path)")
    else:
        loaded = load_hub(path, name, revision)
    return datasets.DatasetDict(
        {SPLIT_ALIASES[k]: v for k, v in loaded.items() if k in SPLIT_ALIASES}
    )
