"""Tasks: what only one task knows (its data flavour, system, metrics, reports, predictor).

Each task is a package ``wordlab.tasks.<name>`` whose ``task`` module follows ``Task`` below.
The entry points (``wordlab-train``, ``-eval``, ``-predict``), ``load_run`` and the tracking code
go through this interface and name no task's class or metric. A task package may import the
shared packages (data, embeddings, models, systems), never another task.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from wordlab.data import TextDataModule
    from wordlab.embeddings import InitialEmbeddings
    from wordlab.predictor import Predictor
    from wordlab.systems.base import TaskSystem

TASKS = ("classification", "tagging", "language_model", "translation")
# Runs trained before tasks were an axis stored no task: they are classifiers.
DEFAULT_TASK = "classification"


class Task(Protocol):
    """What a task module provides (``wordlab/tasks/<name>/task.py``)."""

    def build_system(
        self, cfg: DictConfig, datamodule: TextDataModule, embeddings: InitialEmbeddings
    ) -> TaskSystem:
        """The system for a run, from its config and prepared data."""

    def load_predictor(
        self, checkpoint: dict[str, Any], source: str, run_id: str | None
    ) -> Predictor:
        """A predictor from a checkpoint's plain data (through ``wordlab.rebuild`` only)."""

    def predictor(self, system: Any, datamodule: TextDataModule, run_id: str | None) -> Predictor:
        """A predictor around a system trained in this process."""

    def eval_data_options(self, predictor: Any) -> dict[str, Any]:
        """Data-module arguments that score another split with a trained model's vocabulary."""

    def write_test_report(
        self, system: Any, datamodule: TextDataModule, folder: Path
    ) -> dict[str, float]:
        """Write the test reports of a trained system into ``folder``; return metrics to log."""

    def evaluate(
        self,
        predictor: Any,
        datamodule: TextDataModule,
        split: str,
        folder: Path,
        batch_size: int,
        explain: int = 0,
    ) -> tuple[dict[str, float], str]:
        """Score a split, write reports (and ``explain`` explained examples) into ``folder``;
        return metrics and a table to print."""

    def predict_rows(
        self,
        predictor: Any,
        rows: Sequence[dict[str, Any]],
        field: str,
        batch_size: int,
        options: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Each input row with the predictions added (``options``: ``wordlab-predict``'s
        ``generate`` settings, for the tasks that write text)."""


def task_name(config: Mapping[str, Any]) -> str:
    """The task of a run's config (plain or OmegaConf); runs without one are classifiers."""
    task = config.get("task")
    name = task.get("name") if isinstance(task, Mapping) else None
    return str(name or DEFAULT_TASK)


def get_task(name: str) -> Task:
    """The task module of ``name``; an unknown name is an error that lists the tasks."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r} (option task.name); expected one of {TASKS}")
    return importlib.import_module(f"wordlab.tasks.{name}.task")  # type: ignore[return-value]
