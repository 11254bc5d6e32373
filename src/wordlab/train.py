"""``wordlab-train``: compose a run from config, train, test the best checkpoint, log to MLflow.

Heavy libraries are imported inside functions, so ``--help`` and config errors stay instant.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from wordlab.config import config_dir, register_resolvers
from wordlab.signals import run_until_stopped
from wordlab.tracking.store import CHECKPOINTS, EMBEDDINGS, TEST_REPORTS

if TYPE_CHECKING:
    import pytorch_lightning as pl

    from wordlab.data import TextDataModule
    from wordlab.embeddings import InitialEmbeddings
    from wordlab.systems import TaskSystem
    from wordlab.tracking.mlflow_run import RunRecorder
    from wordlab.tracking.sweeps import SweepJob

log = logging.getLogger(__name__)

# Checkpoint entries only a resumed fit needs; the logged model file leaves them out.
TRAINING_STATE = ("optimizer_states", "lr_schedulers", "loops", "callbacks")


@dataclass
class TrainResult:
    """What a run gives back: its MLflow run id (None without MLflow), metrics and objects.

    ``system`` and ``datamodule`` are None for a sweep job that reused an identical finished run
    and on the non-zero ranks of a multi-process run.
    """

    run_id: str | None
    metrics: dict[str, float]
    system: TaskSystem | None = None
    datamodule: TextDataModule | None = None
    run_dir: Path | None = None
    best_checkpoint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build(
    cfg: DictConfig, datamodule: TextDataModule
) -> tuple[TextDataModule, InitialEmbeddings, TaskSystem]:
    """Prepare the data, then build embeddings and the task's system from the config groups."""
    from hydra.utils import instantiate

    from wordlab.tasks import get_task, task_name

    datamodule.prepare()
    assert datamodule.vocab is not None
    embeddings = instantiate(cfg.embedding)(vocab=datamodule.vocab, source=datamodule)
    system = get_task(task_name(cfg)).build_system(cfg, datamodule, embeddings)
    if cfg.get("init_from"):  # start from another run's encoder and word vectors
        from wordlab.transfer import load_pretrained

        uri = cfg.logger.get("tracking_uri") if cfg.get("logger") else None
        embeddings.metrics |= load_pretrained(system, str(cfg.init_from), datamodule.vocab, uri)
    system.run_metadata = {
        "config": OmegaConf.to_container(cfg, resolve=True),
        "vocab": datamodule.vocab.tokens,
        "label_names": datamodule.label_names,
        **system.run_metadata,  # what the task adds (a tagger's characters and schemes)
    }
    return datamodule, embeddings, system


def _callbacks(cfg: DictConfig, has_logger: bool) -> list[pl.Callback]:
    from hydra.utils import instantiate
    from pytorch_lightning.callbacks import LearningRateMonitor

    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    if not has_logger:  # a learning-rate monitor refuses to run without a logger
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    return callbacks


def _has_progress_bar(callbacks: list[pl.Callback]) -> bool:
    from pytorch_lightning.callbacks import ProgressBar

    return any(isinstance(c, ProgressBar) for c in callbacks)


def _overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def type_name(node: DictConfig) -> str:
    """``wordlab.models.CNNEncoder`` -> ``CNNEncoder``."""
    return str(node.get("_target_", "")).rsplit(".", 1)[-1]


def _logger(cfg: DictConfig, job: SweepJob | None, run_id: str | None, rank_zero: bool) -> Any:
    """The configured logger. For MLflow it writes into the run opened here (a child of the
    sweep's parent run in a multirun; on the first process only) or the resumed run."""
    from hydra.utils import instantiate

    from wordlab.tracking.mlflow_run import open_run
    from wordlab.tracking.sweeps import MLFLOW_LOGGER, config_hash, override_label

    if not cfg.get("logger"):
        return None
    if cfg.logger.get("_target_") != MLFLOW_LOGGER:
        return instantiate(cfg.logger)
    if run_id is None and rank_zero:
        experiment = job.experiment_name if job else cfg.logger.experiment_name
        overrides = _overrides()
        # what the job's sweep or the command line changed: cnn-trec-random lr=0.01 seed=3
        label = job.label if job else override_label(overrides)
        if any(o.startswith("run_name=") for o in overrides):
            label = ""  # the name asked for, as it is
        name = f"{cfg.logger.run_name} {label}".strip()
        tags = {"wordlab.config_hash": config_hash(cfg), **(job.tags if job else {})}
        location = cfg.logger.get("artifact_location")
        run_id = open_run(cfg.logger.tracking_uri, experiment, name, tags, location).run_id
    return instantiate(cfg.logger, run_id=run_id)


def _start_record(cfg: DictConfig, logger: Any, run_dir: Path, resumed: bool) -> RunRecorder:
    """Log the config, tags and config file to a new run, or reopen a resumed one."""
    from wordlab.resume import RUN_DIR_TAG, RUN_ID_FILE
    from wordlab.tasks import task_name
    from wordlab.tracking.mark_killed import process_tags
    from wordlab.tracking.mlflow_run import RunRecorder, flatten, git_tags

    recorder = RunRecorder(logger.experiment, str(logger.run_id))
    (run_dir / RUN_ID_FILE).write_text(recorder.run_id)
    recorder.set_tags(process_tags())  # lets wordlab-mark-killed tell if this process died
    if resumed:
        return recorder
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    recorder.log_params(flatten(resolved))
    recorder.set_tags(
        {
            **flatten(cfg.get("tags") or {}),  # first: wordlab's own tags below win
            **git_tags(Path(__file__).parent),
            "overrides": " ".join(_overrides()),
            "task": task_name(cfg),
            "command": cfg.get("task_name", "train"),
            "dataset": cfg.data.get("name"),
            "model": type_name(cfg.model),
            RUN_DIR_TAG: str(run_dir.resolve()),
        }
    )
    recorder.log_artifacts([run_dir / "config.yaml"])
    log.info("MLflow run %s in %s", recorder.run_id, cfg.logger.tracking_uri)
    return recorder


def fit(cfg: DictConfig) -> TrainResult:
    """Train and test one run described by a composed config (CLI and notebooks alike)."""
    import pytorch_lightning as pl
    from hydra.utils import instantiate
    from pytorch_lightning.loggers import MLFlowLogger
    from pytorch_lightning.utilities import rank_zero_only

    from wordlab.config import check_types
    from wordlab.devices import claim_devices
    from wordlab.resume import resume_target
    from wordlab.tracking.mlflow_run import check_user_tags, flatten
    from wordlab.tracking.sweeps import current_job, reuse_finished

    resume = resume_target(cfg)
    if resume is not None:
        cfg = resume.cfg
    check_types(cfg, ("data", "model", "embedding", "system", "trainer"))
    check_user_tags(flatten(cfg.get("tags") or {}))
    datamodule = instantiate(cfg.data)  # checks its options; reads no data yet
    job = current_job()
    if job is not None and resume is None and cfg.get("skip_finished", True):
        reused = reuse_finished(cfg, job, datamodule.compute_fingerprint())
        if reused is not None:
            return TrainResult(run_id=reused[0], metrics=reused[1], extra={"reused": True})

    run_dir = Path(cfg.paths.run_dir)
    rank_zero = getattr(rank_zero_only, "rank", 0) == 0
    if rank_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume is None:
            (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    pl.seed_everything(cfg.seed, workers=True)
    logger = _logger(cfg, job, resume.run_id if resume else None, rank_zero)
    recorder = None
    if rank_zero and isinstance(logger, MLFlowLogger):
        recorder = _start_record(cfg, logger, run_dir, resumed=resume is not None)
    if job is not None and "ddp" in str(cfg.trainer.get("strategy", "")):
        _relaunch_as_single_run(job)
    try:
        with claim_devices(cfg.trainer) as trainer_overrides:
            checkpoint = resume.checkpoint if resume else None
            return _fit(cfg, datamodule, logger, recorder, run_dir, trainer_overrides, checkpoint)
    except BaseException as error:
        if recorder is not None and resume and resume.status and not recorder.reopened:
            recorder.restore(resume.status, resume.end_time)  # failed before training again
        elif recorder is not None:
            recorder.fail(error, run_dir)
        raise


def _relaunch_as_single_run(job: SweepJob) -> None:
    """Make Lightning start the other DDP ranks of a sweep job as single runs of that job.

    Lightning restarts the command line for each extra rank; in a multirun that command line
    is the whole sweep, so it is replaced by the job's own overrides and output folder.
    """
    import sys

    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict, read_write

    hydra_cfg: Any = HydraConfig.get()
    with read_write(hydra_cfg), open_dict(hydra_cfg):
        hydra_cfg.run.dir = hydra_cfg.runtime.output_dir
    sys.argv = [sys.argv[0], *job.overrides]


def _fit(
    cfg: DictConfig,
    datamodule: TextDataModule,
    logger: Any,
    recorder: RunRecorder | None,
    run_dir: Path,
    trainer_overrides: dict[str, Any],
    checkpoint: Path | None,
) -> TrainResult:
    from hydra.utils import instantiate

    datamodule, embeddings, system = build(cfg, datamodule)
    log.info("data %s: %s", datamodule.name, datamodule.stats)
    if checkpoint is not None:
        check_same_vocabulary(checkpoint, datamodule)
    if recorder is not None and checkpoint is None:
        recorder.set_tags({"data.fingerprint": datamodule.fingerprint})
        recorder.log_metrics({f"data/{k}": v for k, v in datamodule.stats.items()})
        recorder.log_metrics(embeddings.metrics)
        recorder.log_artifacts(embeddings.artifacts, EMBEDDINGS)
        assert datamodule.vocab is not None
        datamodule.vocab.save(run_dir / "vocab.json")
        (run_dir / "labels.json").write_text(json.dumps(datamodule.label_names))
        recorder.log_artifacts([run_dir / "vocab.json", run_dir / "labels.json"])

    callbacks = _callbacks(cfg, has_logger=logger is not None)
    if checkpoint is not None and recorder is not None:
        from wordlab.resume import ReopenRun

        callbacks.append(ReopenRun(recorder))
    from wordlab.console import interactive
    from wordlab.epochs import EpochLines

    if not interactive():  # a log file or a job's output: the epoch lines instead of a bar
        callbacks = [c for c in callbacks if not _has_progress_bar([c])]
    callbacks.append(EpochLines())
    if not _has_progress_bar(callbacks):  # callbacks.progress_bar=null: no bar at all
        trainer_overrides = {"enable_progress_bar": False, **trainer_overrides}
    from wordlab.checkpoint_io import StreamingCheckpointIO

    trainer = instantiate(
        cfg.trainer,
        callbacks=callbacks,
        logger=logger or False,
        plugins=[StreamingCheckpointIO()],
        **trainer_overrides,
    )
    trainer.fit(system, datamodule=datamodule, ckpt_path=checkpoint)
    trained_steps = trainer.global_step
    fit_metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    best = getattr(trainer.checkpoint_callback, "best_model_path", "") or None
    for optimizer in trainer.optimizers:
        optimizer.state.clear()  # training is over: free e.g. Adagrad's table-sized state
    if trainer.world_size > 1:
        # Test once, on one device, so every test example is scored exactly once.
        import torch.distributed as dist

        trainer.strategy.barrier()
        dist.destroy_process_group()
        if trainer.global_rank != 0:
            return TrainResult(run_id=None, metrics={}, run_dir=run_dir)
        trainer = instantiate(
            cfg.trainer,
            devices=1,
            num_nodes=1,
            strategy="auto",
            callbacks=[],
            logger=logger or False,
        )
    with tempfile.TemporaryDirectory(dir=run_dir) as scratch:  # beside the run's checkpoints
        model_file = _load_best(system, best, trained_steps, Path(scratch) if recorder else None)
        trainer.test(system, datamodule=datamodule)
        metrics = fit_metrics | {k: float(v) for k, v in trainer.callback_metrics.items()}
        if recorder is not None:
            metrics |= _log_test_report(system, datamodule, recorder, run_dir)
            if model_file:
                recorder.log_artifacts([model_file], CHECKPOINTS)
            recorder.log_artifacts(sorted(run_dir.glob("*.log")))  # with the epoch lines
            recorder.finish()
    return TrainResult(
        run_id=recorder.run_id if recorder else None,
        metrics=metrics,
        system=system,
        datamodule=datamodule,
        run_dir=run_dir,
        best_checkpoint=best,
    )


def check_same_vocabulary(checkpoint: Path, datamodule: TextDataModule) -> None:
    """Refuse to resume when the data now gives another vocabulary than the checkpoint's (the
    corpus changed since the run started): its rows would mean other words."""
    import torch

    from wordlab.data.errors import DataError

    stored = torch.load(checkpoint, map_location="cpu", mmap=True, weights_only=True)
    tokens = stored.get("wordlab", {}).get("vocab")
    assert datamodule.vocab is not None
    now = datamodule.vocab.tokens
    if tokens is not None and tokens != now:
        differ = next(
            (i for i, (a, b) in enumerate(zip(tokens, now, strict=False)) if a != b),
            min(len(tokens), len(now)),
        )
        raise DataError(
            f"cannot resume from {checkpoint}: its vocabulary has {len(tokens)} tokens, the data "
            f"at {datamodule.path} now gives {len(now)} (the first difference at id {differ}); "
            "the corpus changed since the run started: start a new run"
        )


def _load_best(
    system: TaskSystem, best: str | None, global_step: int, folder: Path | None
) -> Path | None:
    """Load the best checkpoint's weights into ``system`` (none saved: keep the trained ones) and,
    given a ``folder``, save them there without the training state: the checkpoint to log.

    A checkpoint saved after the last optimizer step (``global_step``) holds the weights that
    are in memory already, so they are neither read back nor copied. Otherwise the checkpoint
    is memory-mapped, so its optimizer state, as large as the model for Adam or Adagrad, is never
    read; the run folder keeps the full file for ``resume``.
    """
    import torch

    if best is None:
        return None
    checkpoint = torch.load(best, map_location="cpu", mmap=True, weights_only=True)
    if checkpoint["global_step"] == global_step:
        checkpoint["state_dict"] = system.state_dict()
    else:
        system.load_state_dict(checkpoint["state_dict"])
    if folder is None:
        return None
    model_file = folder / Path(best).name
    torch.save({k: v for k, v in checkpoint.items() if k not in TRAINING_STATE}, model_file)
    return model_file


def _log_test_report(
    system: TaskSystem, datamodule: TextDataModule, recorder: RunRecorder, run_dir: Path
) -> dict[str, float]:
    """The task's test reports, written to the run folder's ``test/`` and logged; return the
    metrics they add (per class or type, seen and unseen entities...)."""
    from wordlab.tasks import get_task, task_name

    folder = run_dir / "test"
    folder.mkdir(exist_ok=True)
    task = get_task(task_name(system.run_metadata.get("config", {})))
    metrics = task.write_test_report(system, datamodule, folder)
    recorder.log_metrics(metrics)
    recorder.log_artifacts([folder], TEST_REPORTS)
    return metrics


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def _main(cfg: DictConfig) -> float | None:
    from wordlab.console import quiet_terminal
    from wordlab.tracking.sweeps import current_job

    quiet_terminal(bool(cfg.get("verbose")))
    metric = cfg.get("optimized_metric")
    try:
        result = fit(cfg)
    except Exception:
        if current_job() is None:
            raise
        # In a sweep the other jobs go on; the run is FAILED in MLflow and the sweep's
        # summary lists it. Optuna records the trial as failed.
        log.exception("job failed")
        return math.nan if metric else None
    log.info("%s", finished_block(cfg, result))
    return result.metrics.get(metric) if metric else None


def finished_block(cfg: DictConfig, result: TrainResult) -> str:
    """What a finished run says last: its id, experiment, test metrics, folder, and how to
    open it in the MLflow UI."""
    lines = ["run finished"]
    if result.extra.get("reused"):
        lines[0] = "run reused (an identical finished run)"
    if result.run_id:
        logger = cfg.get("logger") or {}
        uri = str(logger.get("tracking_uri", ""))
        lines.append(f"  run id:      {result.run_id}")
        lines.append(f"  experiment:  {logger.get('experiment_name', '')}")
        lines.append(f"  open it:     mlflow ui --backend-store-uri {uri}")
        if uri:
            from mlflow.tracking import MlflowClient

            experiment = MlflowClient(uri).get_run(result.run_id).info.experiment_id
            page = f"#/experiments/{experiment}/runs/{result.run_id}"
            lines.append(f"               then http://127.0.0.1:5000/{page}")
    # the split's own scores, not those per class, type or bucket
    tests = {k: v for k, v in sorted(result.metrics.items()) if k.count("/") == 1}
    shown = [f"{k} {v:.4g}" for k, v in tests.items() if k.startswith("test/")]
    if shown:
        lines.append(f"  test:        {' '.join(shown)}")
    if result.run_dir is not None:
        lines.append(f"  run folder:  {result.run_dir}")
    return "\n".join(lines)


def main() -> None:
    """Console entry point of ``wordlab-train``."""
    register_resolvers()
    run_until_stopped(_main)


if __name__ == "__main__":
    main()
