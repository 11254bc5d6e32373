"""Load a trained model back, from an MLflow run or a checkpoint file, for any task."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import Vocabulary
from wordlab.models.embedder import legacy_state_keys
from wordlab.tasks import get_task, task_name
from wordlab.tracking.store import CHECKPOINTS, default_tracking_uri

if TYPE_CHECKING:
    from wordlab.systems.base import TaskSystem


class Predictor:
    """A trained model with the tokenizer and vocabulary it was trained with.

    Each task's predictor adds its ``predict`` (``wordlab.tasks.<task>.predictor``).

    Attributes:
        system: The trained system (in eval mode).
        vocab: The training vocabulary.
        tokenizer: The training tokenizer.
        config: The run's resolved configuration.
        run_id: The MLflow run it came from, if any.
    """

    def __init__(
        self, system: TaskSystem, vocab: Vocabulary, config: dict[str, Any], run_id: str | None
    ) -> None:
        data = config.get("data", {})
        self.system = system.eval()
        self.vocab = vocab
        self.config = config
        self.run_id = run_id
        self.tokenizer = make_tokenizer(data.get("tokenizer", "regex"), data.get("lowercase", True))
        self.max_length = data.get("max_length")

    @property
    def model(self) -> TaskSystem:
        return self.system

    @property
    def task(self) -> str:
        return task_name(self.config)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (at least one id: an empty text becomes ``<unk>``)."""
        return [self.vocab.encode(self.tokenizer(t)[: self.max_length]) or [1] for t in texts]


def load_checkpoint(path: str | Path, run_id: str | None = None) -> Predictor:
    """Rebuild a predictor from a wordlab checkpoint (it holds config, vocabulary and labels).

    Safe on a checkpoint from anyone: the file loads with ``weights_only=True`` and the model is
    rebuilt from its stored config only through wordlab's own classes (``wordlab.rebuild``).
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or "wordlab" not in checkpoint:
        raise ValueError(f"{path} is not a wordlab checkpoint (no 'wordlab' entry)")
    checkpoint["state_dict"] = legacy_state_keys(checkpoint["state_dict"])
    task = get_task(task_name(checkpoint["wordlab"]["config"]))
    return task.load_predictor(checkpoint, str(path), run_id)


def find_checkpoint(run_id: str, folder: str | Path, tracking_uri: str | None = None) -> Path:
    """Download the best checkpoint logged with an MLflow run into ``folder``; return its path."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    files = [a.path for a in client.list_artifacts(run_id, CHECKPOINTS)]
    checkpoints = [f for f in files if f.endswith(".ckpt")]
    if not checkpoints:
        raise FileNotFoundError(
            f"MLflow run {run_id} has no checkpoint under artifacts/{CHECKPOINTS}/ "
            "(did it finish training?)"
        )
    return Path(client.download_artifacts(run_id, checkpoints[0], str(folder)))


def load_run(run_id: str, tracking_uri: str | None = None) -> Predictor:
    """A ready predictor for a finished MLflow run.

    The checkpoint is downloaded to a temporary folder, loaded, and deleted.

    Args:
        run_id: The run's id (shown in the MLflow UI and logs).
        tracking_uri: The store; defaults to ``MLFLOW_TRACKING_URI``, else the project's
            store ``sqlite:///outputs/mlflow.db`` under the current directory.
    """
    with tempfile.TemporaryDirectory(prefix=f"wordlab-{run_id[:8]}-") as folder:
        path = find_checkpoint(run_id, folder, default_tracking_uri(tracking_uri))
        return load_checkpoint(path, run_id)
