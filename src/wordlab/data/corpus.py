"""Load a labelled text corpus into a ``DatasetDict`` with ``text`` and ``label`` columns.

Every corpus goes through Hugging Face ``datasets``: a hub name or a local copy of a hub
dataset repository (``load_dataset(path, name)``), a local folder of split files
(``train``/``validation``/``test`` as JSON Lines, JSON, CSV, TSV or Parquet, optionally gzipped),
explicit ``data_files``, or a folder with one sub-folder of ``.txt`` documents per label (the
embedded BBC News corpus has that layout).
"""

from __future__ import annotations

import bz2
import errno
import gzip
import importlib.util
import itertools
import json
import lzma
import reprlib
import zlib
from collections.abc import Callable
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
OPENERS: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSION_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
# What reading a truncated or corrupt compressed file raises.
BAD_COMPRESSION = (EOFError, OSError, zlib.error, lzma.LZMAError)
# Read CSV text as it is: pandas' default turns "NA", "null", "None", "nan", ... into missing.
CSV_OPTIONS = {"keep_default_na": False, "na_values": [""]}


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


def _opener(path: Path) -> Callable[..., Any]:
    return OPENERS.get(path.suffix, open)


def is_symlink_loop(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that leads back to itself (``a -> b``, ``b -> a``)."""
    try:
        path.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def reject_symlink_loop(path: Path, what: str, where: str) -> None:
    """Raise ``DataError`` if ``path`` is a symlink loop.

    Args:
        path: The path to check.
        what: What the path is, e.g. ``data file``.
        where: Where it comes from, e.g. ``option data.data_files``.
    """
    if is_symlink_loop(path):
        raise DataError(
            f"{what} {path} is a symlink loop: its links lead back to themselves ({where}); "
            "point it at a real file or remove it"
        )


def _split_files(folder: Path) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for path in sorted(folder.iterdir()):
        stem = path.name.split(".")[0].lower()
        if stem in SPLIT_ALIASES and _suffix(path) in BUILDERS:
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


def check_text_file(path: Path) -> None:
    """Raise ``DataError`` naming the file if it cannot be read as rows of UTF-8 text.

    The message names the line that is not valid UTF-8, or, for a truncated or corrupt
    ``.gz``, ``.bz2`` or ``.xz`` file, the line it breaks off after; a file without rows is
    an error too.
    """
    if path.suffix == ".zst":
        return  # no reader for Zstandard in the standard library; datasets reads it
    opener = _opener(path)
    filled = number = 0  # lines with more than white space, lines
    with opener(path, "rb") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                try:
                    filled += bool(line.decode("utf-8").strip())
                except UnicodeDecodeError as error:
                    raise DataError(
                        f"{path}: line {number} is not valid UTF-8 ({error.reason} at byte "
                        f"{error.start}); re-encode the file as UTF-8"
                    ) from None
        except BAD_COMPRESSION as error:
            if opener is open:
                raise
            kind = COMPRESSION_NAMES[path.suffix]
            where = f"after line {number}" if number else "in line 1"
            raise DataError(
                f"{path}: truncated or not valid {kind}: it breaks off {where} ({error}); "
                "copy or download the file again"
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
            f"{folder}: no train/validation/test files (.jsonl, .json, .csv, .tsv, .parquet, "
            f"optionally .gz) and no <label>/*.txt documents; found {found}"
        )
    return datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict({"text": texts, "label": labels, "file": files})}
    )


def _json_kind(value: Any) -> str | None:
    """The JSON type of a parsed value (integers and floats are both numbers); None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


def _type_change(row: Any, first_seen: dict[str, tuple[str, Any, str]], where: str) -> str | None:
    """How a field of ``row`` differs in type from its first value (kept in ``first_seen``)."""
    for field, value in row.items() if isinstance(row, dict) else ():
        kind = _json_kind(value)
        if kind is None:
            continue
        first_kind, first_value, first_where = first_seen.setdefault(field, (kind, value, where))
        if kind != first_kind:
            return (
                f"field {field!r} holds {reprlib.repr(value)} ({type(value).__name__}), but "
                f"{first_where} holds {reprlib.repr(first_value)} ({type(first_value).__name__}); "
                "every value of a field must have one type (for data.label_field: all strings "
                "or all integers)"
            )
    return None


def _not_json(file: str, number: int, error: json.JSONDecodeError) -> str:
    where = f"line {number} is not valid JSON ({error.msg} at column {error.colno})"
    return f"could not read {file}: {where}"


def find_json_problem(files: list[str]) -> str | None:
    """The first line of one split's JSON files that is not JSON, or whose field changes type.

    A second full parse, for after ``datasets`` failed to read the files, to say where.

    Returns:
        A message naming the file and line, or ``None`` if no such line was found.
    """
    first_seen: dict[str, tuple[str, Any, str]] = {}  # field -> its first type, value, where
    for file in files:
        path = Path(file)
        with _opener(path)(path, "rt", encoding="utf-8-sig") as handle:
            head = handle.readline()
            if head.lstrip().startswith("["):  # one JSON array, not JSON Lines: syntax only
                try:
                    json.loads(head + handle.read())
                except json.JSONDecodeError as error:
                    return _not_json(file, error.lineno, error)
                continue
            for number, line in enumerate(itertools.chain([head], handle), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as error:
                    return _not_json(file, number, error)
                change = _type_change(row, first_seen, f"line {number} of {file}")
                if change:
                    return f"could not read {file}: line {number}: {change}"
    return None


def _load_files(builder: str, data_files: dict[str, list[str]], **kwargs: Any) -> Any:
    if builder != "parquet":
        for files in data_files.values():
            for file in files:
                check_text_file(Path(file))
    if builder == "csv":
        kwargs = {**CSV_OPTIONS, **kwargs}
        if all(_suffix(Path(f)) == ".tsv" for fs in data_files.values() for f in fs):
            kwargs.setdefault("sep", "\t")
    loaded = {}
    for split, files in data_files.items():  # one split at a time: extra columns may differ
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
