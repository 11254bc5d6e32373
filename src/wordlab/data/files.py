"""Checks of input files that say what is wrong and where: the file and the line.

They run where a file enters (``corpus``), only when the prepared-data cache misses, or,
for JSON, only after ``datasets`` failed to read a file, to find the line it choked on.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import itertools
import json
import lzma
import reprlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wordlab.data.errors import DataError

OPENERS: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
COMPRESSION_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
# What reading a truncated or corrupt compressed file raises.
BAD_COMPRESSION = (EOFError, OSError, zlib.error, lzma.LZMAError)


def format_suffix(path: Path) -> str:
    """``.jsonl`` for ``train.jsonl.gz``: the file's format, past any compression suffix."""
    suffixes = path.suffixes
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _opener(path: Path) -> Callable[..., Any]:
    return OPENERS.get(path.suffix, open)


def open_text(path: Path) -> Any:
    """``path`` opened to read UTF-8 text, through its decompressor if it has one."""
    return _opener(path)(path, "rt", encoding="utf-8-sig")


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
    header = format_suffix(path) in (".csv", ".tsv")
    if filled <= header:
        if filled:
            what = "a header and no rows"
        elif number:
            what = "nothing but white space"
        else:
            what = "empty"
        raise DataError(f"{path}: no rows (the file is {what})")


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
        with open_text(path) as handle:
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
