"""MLflow: the store, run tags, flattened parameters, artifacts and failure status."""

from __future__ import annotations

import logging
import subprocess
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from wordlab.signals import stopped_by

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


def get_or_create_experiment(
    client: MlflowClient, name: str, artifact_location: str | None = None
) -> str:
    """The id of experiment ``name``, created if missing (safe when another process races)."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location)
    except MlflowException:  # created by another job in the meantime (mlflow issue #4123)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


class RunRecorder:
    """Writes to one MLflow run through a client (the one Lightning's ``MLFlowLogger`` uses).

    Args:
        client: Client bound to the tracking store.
        run_id: The run to write to.
    """

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

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
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), folder)
            else:
                self.client.log_artifact(self.run_id, str(path), folder)

    def finish(self) -> None:
        self.client.set_terminated(self.run_id, "FINISHED")

    def fail(self, error: BaseException, output_dir: Path | None = None) -> None:
        """Mark the run FAILED, with the error as a tag and the traceback as an artifact.

        A run stopped by a signal (Ctrl-C, SIGTERM) is KILLED, and its error says which.
        """
        signal = stopped_by(error)
        message = f"stopped by {signal}" if signal else f"{type(error).__name__}: {error}"
        try:
            self.set_tags({"error": message[:MAX_PARAM_LENGTH]})
            if output_dir is not None:
                output_dir.mkdir(parents=True, exist_ok=True)
                trace = output_dir / "error.txt"
                trace.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
                self.log_artifacts([trace])
        finally:
            self.client.set_terminated(self.run_id, "KILLED" if signal else "FAILED")
