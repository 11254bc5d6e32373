"""``wordlab-eval``: score a finished run on a split of its data or on other data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from wordlab.config import child_path, config_dir, dataset_name, register_resolvers

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Score the run ``cfg.run_id`` on ``cfg.split``; write and optionally log reports."""
    from mlflow.tracking import MlflowClient

    from wordlab.data.datamodule import SPLITS
    from wordlab.predictor import load_run
    from wordlab.rebuild import rebuild
    from wordlab.tasks import get_task
    from wordlab.tracking.mlflow_run import RunRecorder
    from wordlab.tracking.store import EVAL_REPORTS

    if cfg.split not in SPLITS:
        raise ValueError(f"split={cfg.split!r}: expected one of {', '.join(SPLITS)}")
    explain_count = _explain_count(cfg)
    predictor = load_run(cfg.run_id, cfg.tracking_uri)
    task = get_task(predictor.task)
    data_overrides: dict[str, Any] = OmegaConf.to_container(cfg.data, resolve=True)  # type: ignore[assignment]
    overrides = {k: v for k, v in data_overrides.items() if v is not None}
    if "path" in overrides:
        overrides.setdefault("name", dataset_name(overrides["path"]))
    # The cache is this machine's, not the folder the run was trained with.
    data_cfg = {**predictor.config["data"], **overrides, "cache_dir": cfg.paths.cache_dir}
    datamodule = rebuild(
        {"data": data_cfg},
        "data",
        f"the config of run {cfg.run_id}",
        **task.eval_data_options(predictor),
    )
    datamodule.prepare()
    name = cfg.split if "path" not in overrides else f"{datamodule.name}-{cfg.split}"
    folder = child_path(Path(cfg.paths.run_dir) / EVAL_REPORTS, name, "data.name")
    folder.mkdir(parents=True, exist_ok=True)
    batch_size = cfg.batch_size or predictor.config["data"].get("eval_batch_size") or 256
    metrics, table = task.evaluate(
        predictor, datamodule, cfg.split, folder, batch_size, explain=explain_count
    )
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    if explain_count:
        log.info("explanations of %d examples in %s", explain_count, folder)
    if cfg.log_to_run:
        recorder = RunRecorder(MlflowClient(cfg.tracking_uri), cfg.run_id)
        recorder.log_metrics({f"eval/{name}/{k}": v for k, v in metrics.items()})
        recorder.log_artifacts([folder], f"{EVAL_REPORTS}/{name}")
    print(f"run {cfg.run_id} on {datamodule.name} split {cfg.split}:")
    print(table)
    print(json.dumps(metrics))
    return metrics


def _explain_count(cfg: DictConfig) -> int:
    """The ``explain`` option, checked before any work (and Captum with it)."""
    count = cfg.get("explain") or 0
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"explain must be a number of examples (explain=N), got {count!r}")
    if count:
        from wordlab.attribution import require_captum

        require_captum("explain=N")
    return count


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="eval")
def _main(cfg: DictConfig) -> None:
    from wordlab.console import quiet_terminal

    quiet_terminal(bool(cfg.get("verbose")))
    evaluate(cfg)


def main() -> None:
    """Console entry point of ``wordlab-eval``."""
    register_resolvers()
    _main()


if __name__ == "__main__":
    main()
