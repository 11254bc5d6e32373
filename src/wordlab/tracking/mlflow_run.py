"""MLflow: the store, run tags, flattened parameters, artifacts and failure status."""

from __future__ import annotations

import errno
import logging
import subprocess
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from wordlab.signals import stopped_by
from wordlab.tracking.store import prepare_store

log = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 6000
BATCH = 100


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"hidden_dim": 8}}`` to ``{"model.hidden_dim": 8}``; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def git_tags(folder: Path) -> dict[str, str]:
    """Commit and dirty flag of the git checkout holding ``folder``, if any."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git.commit": commit, "git.dirty": str(dirty).lower()}


# Tags wordlab writes and reads back (``resume=`` follows ``wordlab.run_dir``): a user's
# ``+tags.<name>=...`` may not set them, nor any ``wordlab.`` or ``mlflow.`` tag but the
# run's description.
OWN_TAGS = frozenset(
    (
        "git.commit",
        "git.dirty",
        "overrides",
        "task",
        "command",
        "dataset",
        "model",
        "data.fingerprint",
        "error",
    )
)
USER_MLFLOW_TAGS = ("mlflow.note.content",)


def check_user_tags(tags: Mapping[str, Any] | None) -> None:
    """Refuse user tags (option ``tags``) that would overwrite a tag wordlab writes."""
    for name in tags or {}:
        reserved = name in OWN_TAGS or str(name).startswith(("wordlab.", "mlflow."))
        if reserved and name not in USER_MLFLOW_TAGS:
            raise ValueError(
                f"tags.{name}: this tag is wordlab's own (it records or finds the run); "
                "choose another name for your tag"
            )


def open_run(
    tracking_uri: str,
    experiment_name: str,
    run_name: str,
    tags: Mapping[str, Any],
    artifact_location: str | None = None,
) -> RunRecorder:
    """Start a run (RUNNING) in ``experiment_name``, creating the store and experiment if needed.

    Every wordlab run starts here: training runs (Lightning's logger then writes into it),
    baselines, sweep parents and the records of reused sweep jobs.
    """
    experiment_id = prepare_store(tracking_uri, experiment_name, artifact_location)
    assert experiment_id is not None
    client = MlflowClient(tracking_uri)
    values = {k: str(v)[:MAX_PARAM_LENGTH] for k, v in tags.items() if v is not None}
    run = client.create_run(experiment_id, run_name=run_name[:250], tags=values)
    return RunRecorder(client, run.info.run_id)


class RunRecorder:
    """Writes to one MLflow run through a client (the one Lightning's ``MLFlowLogger`` uses).

    Args:
        client: Client bound to the tracking store.
        run_id: The run to write to.
    """

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.reopened = False

    def log_params(self, params: Mapping[str, Any]) -> None:
        items = [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in params.items()]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + BATCH])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        items = [RunTag(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in tags.items() if v is not None]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, tags=items[start : start + BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        import time

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in metrics.items()]
        for start in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, metrics=items[start : start + BATCH])

    def log_artifacts(self, paths: Iterable[Path], folder: str | None = None) -> None:
        for path in paths:
            try:
                if path.is_dir():
                    self.client.log_artifacts(self.run_id, str(path), folder)
                else:
                    self.client.log_artifact(self.run_id, str(path), folder)
            except OSError as error:  # a full disk does not say which one
                if error.errno != errno.ENOSPC:
                    raise
                where = self.client.get_run(self.run_id).info.artifact_uri
                raise OSError(
                    errno.ENOSPC, f"No space left on device: logging {path.name} to {where}"
                ) from error

    def finish(self) -> None:
        self.client.set_terminated(self.run_id, "FINISHED")

    def reopen(self) -> None:
        """Mark a resumed run RUNNING again, now that it trains again."""
        self.client.update_run(self.run_id, status="RUNNING")
        self.reopened = True

    def restore(self, status: str, end_time: int | None) -> None:
        """Put back the status and end time a run had (a resume that failed before training)."""
        self.client.set_terminated(self.run_id, status, end_time)

    def fail(self, error: BaseException, output_dir: Path | None = None) -> None:
        """Mark the run FAILED, with the error as a tag and the traceback as an artifact.

        A run stopped by a signal (Ctrl-C, SIGTERM) is KILLED, and its error says which. The
        status is written even where the traceback cannot be (a full disk); where the store
        itself cannot be written, the log says so and how to close the run later.
        """
        signal = stopped_by(error)
        message = f"stopped by {signal}" if signal else describe(error)
        try:
            self.set_tags({"error": message[:MAX_PARAM_LENGTH]})
            if output_dir is not None:
                self._log_traceback(error, output_dir)
            self.client.set_terminated(self.run_id, "KILLED" if signal else "FAILED")
        except Exception as store_error:
            log.error(
                "could not mark MLflow run %s %s (%s); it stays RUNNING until "
                "`wordlab-mark-killed %s` closes it",
                self.run_id,
                "KILLED" if signal else "FAILED",
                describe(store_error),
                self.run_id,
            )

    def _log_traceback(self, error: BaseException, output_dir: Path) -> None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            trace = output_dir / "error.txt"
            trace.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
            self.log_artifacts([trace])
        except OSError as trace_error:
            log.warning("the traceback was not logged: %s", describe(trace_error))


def describe(error: BaseException) -> str:
    """An error as one line; one caused by a full disk (anywhere in its chain) says so first."""
    message = f"{type(error).__name__}: {error}"
    cause: BaseException | None = error
    while cause is not None:
        if getattr(cause, "errno", None) == errno.ENOSPC or "disk is full" in str(cause):
            return f"the disk is full: {message}"
        cause = cause.__cause__ or cause.__context__
    return message
