"""Continue an interrupted run from its last checkpoint, in the same MLflow run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from wordlab.tracking.mlflow_run import RunRecorder

log = logging.getLogger(__name__)

RUN_ID_FILE = "mlflow_run_id"
RUN_DIR_TAG = "wordlab.run_dir"
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


class ReopenRun(pl.Callback):
    """Marks a resumed run RUNNING when training starts again, after its checkpoint loaded.

    Until then, a failure (a bad checkpoint, data gone) is not the run's: ``fit`` puts back
    the status it had (Lightning's logger marks it FAILED on any error).
    """

    def __init__(self, recorder: RunRecorder) -> None:
        self.recorder = recorder

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.recorder.reopen()


@dataclass
class Resume:
    """A run to continue: its config, last checkpoint, MLflow run id, and how the run ended
    (restored if the resume fails before training starts again; None: not known)."""

    cfg: DictConfig
    checkpoint: Path
    run_id: str | None
    status: str | None = None
    end_time: int | None = None


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
    if run.info.status == "FINISHED":
        overrides = run.data.tags.get("overrides", "")
        raise ValueError(
            f"resume={run_id}: the run FINISHED, there is nothing to resume. To train a new run "
            f"from its config, give its overrides, then your changes: wordlab-train {overrides}"
        )
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
    ended = run.info.status != "RUNNING"  # (a run whose process died without a word)
    status, end_time = (run.info.status, run.info.end_time) if ended else (None, None)
    return Resume(saved, checkpoint, run_id, status, end_time)
