"""Where the MLflow store is, and making it ready: the one place that knows both.

The project's store is the SQLite database ``<output folder>/mlflow.db`` (artifacts beside it in
``mlartifacts/``), unless ``MLFLOW_TRACKING_URI`` names another (a tracking server for a team).
Configs reach it through the ``wordlab.tracking_uri`` resolver, code through
``default_tracking_uri``. Nothing here imports MLflow until a store is opened.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

STORE_FILE = "mlflow.db"

# A run's artifact folders, named here once: the best model, the test reports, the word
# vectors' reports, the reports of each ``wordlab-eval`` (``eval/<name>``), a sweep's summary.
CHECKPOINTS = "checkpoints"
TEST_REPORTS = "test"
EMBEDDINGS = "embeddings"
EVAL_REPORTS = "eval"
SWEEP_SUMMARY = "summary"


def project_store(output_dir: str | Path) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the SQLite store in ``output_dir``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(output_dir) / STORE_FILE}"


def default_tracking_uri(uri: str | None = None) -> str:
    """``uri`` if given, else the project's store: ``MLFLOW_TRACKING_URI``, else
    ``outputs/mlflow.db`` under ``WORDLAB_ROOT`` or the current folder."""
    if uri:
        return uri
    return project_store(Path(os.environ.get("WORDLAB_ROOT", os.getcwd())) / "outputs")


def sqlite_file(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else None."""
    return (
        Path(tracking_uri.removeprefix("sqlite:///"))
        if tracking_uri.startswith("sqlite:///")
        else None
    )


def prepare_store(
    tracking_uri: str, experiment_name: str | None = None, artifact_location: str | None = None
) -> str | None:
    """Create the store and the experiment if missing; return the experiment's id.

    MLflow builds a new SQLite store's tables on first use; processes doing that at once
    collide ("table ... already exists") and can leave the store half-built for good. A lock
    file beside the database makes parallel first runs take turns (a server needs none).
    """
    from filelock import FileLock

    database = sqlite_file(tracking_uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{database}.lock") if database else contextlib.nullcontext():
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri)
        client.search_experiments(max_results=1)  # builds the tables of a new store
        if experiment_name is None:
            return None
        return get_or_create_experiment(client, experiment_name, artifact_location)


def get_or_create_experiment(client: Any, name: str, artifact_location: str | None = None) -> str:
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
