"""Hydra multirun sweeps in MLflow: one parent run per sweep, every job a child run under it.

``MLflowSweepCallback`` (registered in ``conf/hydra/default.yaml``) runs in the process that
launches the sweep, whatever the launcher: it creates the store, the experiment and the parent
run before any job starts (so parallel jobs never race on SQLite migrations or on creating the
experiment), and writes the parent's id into the sweep folder, where every job finds it, on this
machine or on a cluster node. When the sweep ends it logs a summary to the parent.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

log = logging.getLogger(__name__)

PARENT_FILE = "mlflow_parent.json"
MLFLOW_LOGGER = "pytorch_lightning.loggers.MLFlowLogger"
# Keys that name where a run writes, not what it computes.
NOT_HASHED = ("paths", "hydra", "logger", "resume", "sweep_name", "sweep_experiment", "tags")


@dataclass
class SweepJob:
    """What a job of a multirun knows about its sweep."""

    parent_run_id: str
    experiment_name: str
    number: int
    overrides: list[str]
    swept_keys: list[str]

    @property
    def label(self) -> str:
        """The job's values of the swept keys, e.g. ``model=cnn seed=2``."""
        swept = [o for o in self.overrides if o.split("=", 1)[0].lstrip("+~") in self.swept_keys]
        return " ".join(swept or self.overrides)

    @property
    def tags(self) -> dict[str, str]:
        """MLflow tags that make a job's run a child of the sweep's parent run."""
        return {
            "mlflow.parentRunId": self.parent_run_id,
            "wordlab.job_num": str(self.number),
            "wordlab.job_overrides": " ".join(self.overrides),
            "wordlab.job_label": self.label,
        }


# Overrides a run's name leaves out: the groups its name holds already, where it reads and
# writes, and how it shows progress.
UNNAMED_KEYS = ("data", "model", "embedding", "data.path", "run_name", "sweep_name", "task_name")
UNNAMED_PREFIXES = (
    "paths.", "logger.", "hydra.", "tags.", "callbacks.progress_bar", "trainer.enable_model_summary"
)  # fmt: skip


def override_label(overrides: list[str]) -> str:
    """What a command line changed, short, for a run's name: ``system.optimizer.lr=0.01
    seed=3`` gives ``lr=0.01 seed=3`` (a key given twice once, its last value; values cut at 40
    characters)."""
    parts: dict[str, str] = {}
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key in UNNAMED_KEYS or key.startswith(UNNAMED_PREFIXES):
            continue
        parts.pop(key, None)
        parts[key] = f"{key.rsplit('.', 1)[-1]}={value[:40]}"
    return " ".join(parts.values())


def config_hash(cfg: DictConfig) -> str:
    """Hash of the unresolved config, leaving out output paths and logging settings.

    Unresolved, so that a timestamped run folder does not make two identical jobs differ.
    """
    container = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(container, dict)
    kept = {k: v for k, v in container.items() if k not in NOT_HASHED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:20]


def current_job() -> SweepJob | None:
    """The sweep this process runs a job of, if it is a multirun job with an MLflow parent."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    parent = Path(hydra_cfg.sweep.dir) / PARENT_FILE
    if not parent.is_file():
        return None
    record = json.loads(parent.read_text())
    return SweepJob(
        parent_run_id=record["run_id"],
        experiment_name=record["experiment_name"],
        number=int(hydra_cfg.job.num),
        overrides=list(hydra_cfg.overrides.task),
        swept_keys=record.get("swept_keys", []),
    )


def _mlflow_logger(config: DictConfig) -> DictConfig | None:
    logger = config.get("logger")
    return logger if logger and logger.get("_target_") == MLFLOW_LOGGER else None


def _mlflow_settings(config: DictConfig) -> dict[str, Any] | None:
    logger = _mlflow_logger(config)
    if logger is None:
        return None
    return {
        "tracking_uri": logger.tracking_uri,
        "experiment_name": config.get("sweep_experiment") or logger.experiment_name,
        "artifact_location": logger.get("artifact_location"),
    }


class MLflowSweepCallback(Callback):
    """Create the sweep's parent run before the jobs, and summarise them into it afterwards."""

    def __init__(self) -> None:
        self.parent_run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:

        from wordlab.tracking.mark_killed import process_tags
        from wordlab.tracking.mlflow_run import git_tags, open_run
        from wordlab.tracking.store import prepare_store

        logger = _mlflow_logger(config)
        if logger is None:
            return
        prepare_store(logger.tracking_uri)  # the store exists before the jobs share it
        try:
            settings = _mlflow_settings(config)
        except InterpolationResolutionError as err:
            # e.g. data.path=a,b: the default experiment, the dataset's name, differs per job.
            log.warning(
                "No MLflow parent run for this sweep: logger.experiment_name is not known before "
                "the jobs run (%s); each job logs to its own experiment. Set "
                "sweep_experiment=NAME to keep the sweep together under one parent run.",
                str(err).splitlines()[0],
            )
            return
        assert settings is not None
        overrides = list(config.hydra.overrides.task)
        swept = [o for o in overrides if _is_sweep(o)]
        name = config.get("sweep_name") or "sweep " + " ".join(swept or overrides)
        sweep_dir = Path(config.hydra.sweep.dir)
        tags = {"wordlab.sweep": "true", **process_tags()}
        recorder = open_run(
            settings["tracking_uri"],
            settings["experiment_name"],
            name,
            tags,
            settings["artifact_location"],
        )
        self.parent_run_id = recorder.run_id
        atexit.register(_close_if_open, settings["tracking_uri"], recorder.run_id)
        params = {f"sweep.{k.lstrip('+~')}": v for k, v in _split(overrides).items()}
        search_space = OmegaConf.select(config, "hydra.sweeper.params") or {}
        params |= {f"search.{k}": v for k, v in search_space.items()}
        params["sweep.sweeper"] = str(OmegaConf.select(config, "hydra.sweeper._target_"))
        params["sweep.launcher"] = str(OmegaConf.select(config, "hydra.launcher._target_"))
        recorder.log_params(params)
        recorder.set_tags({**git_tags(Path(__file__).parent), "sweep.dir": str(sweep_dir)})
        sweep_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "swept_keys": [o.split("=", 1)[0].lstrip("+~") for o in swept] + list(search_space),
            "run_id": recorder.run_id,
            "experiment_name": settings["experiment_name"],
            "tracking_uri": settings["tracking_uri"],
        }
        (sweep_dir / PARENT_FILE).write_text(json.dumps(record, indent=1))
        log.info("MLflow sweep run %s (%s)", recorder.run_id, name)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.parent_run_id is None:
            return
        settings = _mlflow_settings(config)
        assert settings is not None
        failed = summarise(
            settings["tracking_uri"],
            self.parent_run_id,
            Path(config.hydra.sweep.dir),
            config.get("optimized_metric"),
        )
        if failed:
            # Hydra turns a callback's exceptions into warnings; a failed job should still make
            # the sweep's exit status non-zero, after the summary is safely written.
            raise SystemExit(
                f"{failed} job(s) of the sweep failed; the summary in MLflow run "
                f"{self.parent_run_id} lists them with their errors"
            )


def _is_sweep(override: str) -> bool:
    value = override.split("=", 1)[-1]
    return "," in value or value.startswith(("choice(", "range(", "interval(", "glob("))


def _close_if_open(tracking_uri: str, run_id: str) -> None:
    """At exit: a parent run still RUNNING means the sweep stopped early (bad override, signal).

    Jobs whose process is gone with it (a parallel launcher's workers) are closed as KILLED.
    """
    from mlflow.tracking import MlflowClient

    from wordlab import signals
    from wordlab.tracking.mark_killed import mark_run_killed, process_state

    client = MlflowClient(tracking_uri)
    parent = client.get_run(run_id)
    if parent.info.status != "RUNNING":
        return
    if signals.received:
        why, status = f"the sweep was stopped by {signals.received}", "KILLED"
    else:
        why, status = "the sweep stopped before all jobs ran", "FAILED"
    jobs = client.search_runs(
        [parent.info.experiment_id],
        f"tags.mlflow.parentRunId = '{run_id}' and attributes.status = 'RUNNING'",
    )
    for job in jobs:
        if process_state(job.data.tags) == "gone":
            mark_run_killed(client, job, why)
    client.set_tag(run_id, "error", why)
    client.set_terminated(run_id, status)


def _split(overrides: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in overrides if "=" in item)


def summarise(
    tracking_uri: str, parent_run_id: str, sweep_dir: Path, optimized_metric: str | None = None
) -> int:
    """Log the job table, best job, seed statistics and plots to the parent; return #failed."""
    from mlflow.tracking import MlflowClient

    from wordlab.tracking import summary
    from wordlab.tracking.mlflow_run import RunRecorder
    from wordlab.tracking.store import SWEEP_SUMMARY

    client = MlflowClient(tracking_uri)
    parent = client.get_run(parent_run_id)
    table = summary.job_table(client, parent.info.experiment_id, parent_run_id)
    recorder = RunRecorder(client, parent_run_id)
    folder = sweep_dir / SWEEP_SUMMARY
    folder.mkdir(parents=True, exist_ok=True)
    failed = int((table["status"] != "FINISHED").sum()) if len(table) else 0
    counts = {"sweep/jobs": float(len(table)), "sweep/failed": float(failed)}
    artifacts = []
    if len(table):
        metric = optimized_metric or "test/loss"  # the task's metric, set by its config
        maximize = not any(word in metric for word in ("loss", "ppl", "perplexity"))
        keys = summary.swept_keys(table)
        table.to_csv(folder / "jobs.csv", index=False)
        artifacts.append(folder / "jobs.csv")
        metrics = summary.key_metrics(list(table.columns), metric)
        stats = summary.repeat_statistics(table, keys, metrics)
        if not stats.empty:
            stats.to_csv(folder / "by_configuration.csv", index=False)
            artifacts.append(folder / "by_configuration.csv")
            if len(stats) == 1:  # one configuration repeated over seeds or folds
                row = stats.iloc[0]
                for name in metrics:
                    for stat in ("mean", "std"):
                        value = summary.clean(row[f"{name} {stat}"])
                        if value is not None:
                            counts[f"{stat}/{name}"] = value
        best = summary.best_job(table, metric, maximize)
        if best is not None:
            counts[f"best/{metric}"] = float(best[metric])
            recorder.set_tags(
                {
                    "best.run_id": best["run_id"],
                    "best.job": int(best["job"]),
                    "best.overrides": best["overrides"],
                }
            )
        plot = summary.plot_metric(table, keys, metric, folder / "metric_vs_parameters.png")
        artifacts += [plot] if plot else []
        (folder / "summary.md").write_text(_markdown(table, stats, best, metric, keys))
        artifacts.append(folder / "summary.md")
    recorder.log_metrics(counts)
    recorder.log_artifacts(artifacts, SWEEP_SUMMARY)
    all_failed = len(table) > 0 and failed == len(table)
    client.set_terminated(parent_run_id, "FAILED" if all_failed else "FINISHED")
    return failed


def _markdown(table: Any, stats: Any, best: Any, metric: str, keys: list[str]) -> str:
    from wordlab.tracking import summary

    columns = ["job", "status", "overrides", *summary.key_metrics(list(table.columns), metric)]
    lines = [f"# Sweep summary\n\nswept: {', '.join(keys) or '(nothing)'}; metric: {metric}\n"]
    if best is not None:
        lines.append(
            f"best: job {best['job']} ({best['overrides']}) {metric} = {best[metric]:.4f}\n"
        )
    lines += ["## Jobs", _block(table[list(dict.fromkeys(columns))])]
    if not stats.empty:
        lines += ["## Mean and standard deviation over seeds / folds", _block(stats)]
    failed = table[table["status"] != "FINISHED"]
    if len(failed):
        lines += ["## Failed jobs", _block(failed[["job", "overrides", "error"]])]
    return "\n".join(lines) + "\n"


def _block(frame: Any) -> str:
    return "```\n" + frame.to_string(index=False) + "\n```\n"


def reuse_finished(
    cfg: DictConfig, job: SweepJob, fingerprint: str
) -> tuple[str, dict[str, float]] | None:
    """If a run with the same config and data already FINISHED, record it for this job.

    The job gets a child run under the new sweep, tagged ``wordlab.reused_run_id`` and holding
    the finished run's parameters and final metrics, so a relaunched sweep only trains the jobs
    that are missing or failed. A finished run of the same config on other data (files changed,
    so the ``fingerprint`` of the data differs) is not reused. The log says which it was.
    Returns the child's id and metrics, or None.
    """
    from mlflow.tracking import MlflowClient

    from wordlab.tracking.mlflow_run import open_run

    if not cfg.get("logger") or cfg.logger.get("_target_") != MLFLOW_LOGGER:
        return None
    client = MlflowClient(cfg.logger.tracking_uri)
    experiment = client.get_experiment_by_name(job.experiment_name)
    if experiment is None:
        return None
    digest = config_hash(cfg)
    found = client.search_runs(
        [experiment.experiment_id],
        f"tags.`wordlab.config_hash` = '{digest}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
    )
    same_data = [r for r in found if r.data.tags.get("data.fingerprint") == fingerprint]
    if not same_data:
        if found:
            log.info(
                "job %d: run %s finished with the same config on other data (fingerprint %s, "
                "now %s): training again",
                job.number,
                found[0].info.run_id,
                found[0].data.tags.get("data.fingerprint"),
                fingerprint,
            )
        return None
    original = same_data[0]
    original_id = original.data.tags.get("wordlab.reused_run_id", original.info.run_id)
    name = f"{cfg.logger.run_name} {job.label} (reused)"
    tags = job.tags | {
        "wordlab.config_hash": digest,
        "wordlab.reused_run_id": original_id,
        "data.fingerprint": fingerprint,
    }
    recorder = open_run(cfg.logger.tracking_uri, job.experiment_name, name, tags)
    recorder.log_params(original.data.params)
    recorder.log_metrics(original.data.metrics)
    recorder.finish()
    log.info(
        "job %d: run %s finished with the same config and data (fingerprint %s): reused",
        job.number,
        original_id,
        fingerprint,
    )
    return recorder.run_id, dict(original.data.metrics)
