"""``wordlab-predict``: label new texts with a finished run's model."""

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
    """Rows of a JSON Lines file (each with ``text_field``) or of a text file (one per line)."""
    if not path.is_file():
        raise DataError(f"input file {path} does not exist (option input)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not valid UTF-8 ({error.reason} at byte {error.start})") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if path.suffix == ".txt":
            rows.append({text_field: line})
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}: line {number} is not valid JSON ({error.msg})") from None
        if not isinstance(row, dict) or text_field not in row:
            keys = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise DataError(
                f"{path}: line {number} has no field {text_field!r} (option text_field); "
                f"it has {keys}"
            )
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no texts to predict")
    return rows


def predict(cfg: DictConfig) -> Path:
    """Write each input row with ``prediction`` and ``probabilities`` added."""
    from wordlab.predictor import find_checkpoint, load_checkpoint

    predictor = load_checkpoint(find_checkpoint(cfg.run_id, cfg.tracking_uri), cfg.run_id)
    text_field = cfg.text_field or predictor.config["data"].get("text_field") or "text"
    rows = read_inputs(Path(cfg.input), text_field)
    results = predictor.predict([str(r[text_field]) for r in rows], cfg.batch_size)
    output = Path(cfg.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        for row, result in zip(rows, results, strict=True):
            row = {**row, "prediction": result["label"], "probabilities": result["probabilities"]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info("wrote %d predictions to %s", len(rows), output)
    return output


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="predict")
def _main(cfg: DictConfig) -> None:
    predict(cfg)


def main() -> None:
    """Console entry point of ``wordlab-predict``."""
    register_resolvers()
    _main()


if __name__ == "__main__":
    main()
