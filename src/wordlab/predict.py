"""``wordlab-predict``: label new texts (or token rows) with a finished run's model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from wordlab.config import config_dir, register_resolvers
from wordlab.data.errors import DataError

log = logging.getLogger(__name__)


def read_inputs(path: Path, text_field: str) -> list[dict]:
    """Rows of a JSON Lines file (each with ``text_field``) or of a text file (one per line).

    Blank lines, and rows whose text is null or empty, are skipped and counted in the log; a
    text that is not a string (a number, a list) is an error that names the line.
    """
    if not path.is_file():
        raise DataError(f"input file {path} does not exist (option input)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 ({error.reason} at byte {error.start})") from None
    rows, empty = [], []
    for number, line in enumerate(lines, start=1):
        row = _read_row(path, number, line, text_field)
        if row is None or not _has_text(row[text_field]):
            empty.append(number)
        else:
            rows.append(row)
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (", ..." if len(empty) > 10 else "")
        log.warning("%s: skipped %d empty lines or texts (lines %s)", path, len(empty), shown)
    if not rows:
        raise DataError(f"{path}: no texts to predict")
    return rows


def _has_text(value: str | list[str]) -> bool:
    return bool(value) if isinstance(value, list) else bool(value.strip())


def _read_row(path: Path, number: int, line: str, text_field: str) -> dict | None:
    """One input row, or None for a blank line or a null text."""
    if path.suffix == ".txt" or not line.strip():
        return {text_field: line} if line.strip() else None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: line {number} is not valid JSON ({error.msg})") from None
    if not isinstance(row, dict) or text_field not in row:
        keys = sorted(row) if isinstance(row, dict) else type(row).__name__
        raise DataError(
            f"{path}: line {number} has no field {text_field!r} (option text_field); it has {keys}"
        )
    text = row[text_field]
    if text is None:
        return None
    if isinstance(text, list) and all(isinstance(t, str) for t in text):
        return row if text else None  # a pre-tokenized row (for a tagger)
    if not isinstance(text, str):
        raise DataError(
            f"{path}: line {number}: field {text_field!r} is {type(text).__name__} {text!r}, "
            "expected a string of text"
        )
    return row


def predict(cfg: DictConfig) -> Path:
    """Write each input row with the run's predictions added (what depends on the task)."""
    from wordlab.predictor import load_run
    from wordlab.tasks import get_task

    predictor = load_run(cfg.run_id, cfg.tracking_uri)
    task = get_task(predictor.task)
    text_field = cfg.text_field or predictor.config["data"].get("text_field") or "text"
    rows = read_inputs(Path(cfg.input), text_field)
    results = task.predict_rows(predictor, rows, text_field, cfg.batch_size, cfg.generate)
    output = Path(cfg.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        for row in results:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info("wrote %d predictions to %s", len(rows), output)
    return output


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="predict")
def _main(cfg: DictConfig) -> None:
    from wordlab.console import quiet_terminal

    quiet_terminal(bool(cfg.get("verbose")))
    predict(cfg)


def main() -> None:
    """Console entry point of ``wordlab-predict``."""
    register_resolvers()
    _main()


if __name__ == "__main__":
    main()
