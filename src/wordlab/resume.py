"""Continue an interrupted run from its last checkpoint, in the same MLflow run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

RUN_ID_FILE = "mlflow_run_id"
RUN_DIR_TAG = "wordlab.run_dir"
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


@dataclass
class Resume:
    """A run to continue: its config, last checkpoint and MLflow run id."""

    cfg: DictConfig
    checkpoint: Path
    run_id: str | None


def resume_target(cfg: DictConfig) -> Resume | None:
    """What ``cfg`` asks to continue, if anything.

    ``resume=<run id>`` continues that MLflow run from the last checkpoint in its run folder,
    with the config it was started with. A job restarted in a run folder that already holds a
    run id and a last checkpoint (a SLURM job requeued after preemption) continues by itself.
    """
    if cfg.get("resume"):
        return _from_run_id(cfg, str(cfg.resume))
    run_dir = Path(cfg.paths.run_dir)
    checkpoint = run_dir / LAST_CHECKPOINT
    if (run_dir / RUN_ID_FILE).is_file() and checkpoint.is_file():
        log.info("found %s from an earlier start of this job: resuming", checkpoint)
        return Resume(cfg, checkpoint, (run_dir / RUN_ID_FILE).read_text().strip() or None)
    return None


def _from_run_id(cfg: DictConfig, run_id: str) -> Resume:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    tracking_uri = cfg.logger.tracking_uri if cfg.get("logger") else None
    try:
        run = MlflowClient(tracking_uri).get_run(run_id)
    except MlflowException as error:
        raise ValueError(f"resume={run_id}: no such run in {tracking_uri} ({error})") from None
    run_dir = run.data.tags.get(RUN_DIR_TAG)
    if not run_dir or not (Path(run_dir) / "config.yaml").is_file():
        raise ValueError(f"resume={run_id}: its run folder {run_dir} is gone or has no config.yaml")
    checkpoint = Path(run_dir) / LAST_CHECKPOINT
    if not checkpoint.is_file():
        raise ValueError(f"resume={run_id}: no last checkpoint at {checkpoint} (nothing to resume)")
    saved = OmegaConf.load(Path(run_dir) / "config.yaml")
    assert isinstance(saved, DictConfig)
    saved.resume = None
    log.info("resuming run %s from %s", run_id, checkpoint)
    return Resume(saved, checkpoint, run_id)
