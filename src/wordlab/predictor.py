"""Load a trained model back, from an MLflow run or a checkpoint file, and predict."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from wordlab.data.batching import TokenizedSplit
from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.rebuild import rebuild
from wordlab.systems import TextClassifier
from wordlab.tracking.store import CHECKPOINTS, default_tracking_uri


class Predictor:
    """A trained classifier with the tokenizer and vocabulary it was trained with.

    Attributes:
        system: The ``TextClassifier`` (in eval mode).
        vocab: The training vocabulary.
        tokenizer: The training tokenizer.
        label_names: Class names in index order.
        config: The run's resolved configuration.
        run_id: The MLflow run it came from, if any.
    """

    def __init__(
        self,
        system: TextClassifier,
        vocab: Vocabulary,
        label_names: Sequence[str],
        config: dict[str, Any],
        run_id: str | None = None,
    ) -> None:
        data = config.get("data", {})
        self.system = system.eval()
        self.vocab = vocab
        self.label_names = list(label_names)
        self.config = config
        self.run_id = run_id
        self.tokenizer = make_tokenizer(data.get("tokenizer", "regex"), data.get("lowercase", True))
        self.max_length = data.get("max_length")

    @property
    def model(self) -> TextClassifier:
        return self.system

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (at least one id: an empty text becomes ``<unk>``)."""
        return [self.vocab.encode(self.tokenizer(t)[: self.max_length]) or [1] for t in texts]

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """Class probabilities, shape (len(texts), num_classes)."""
        split = TokenizedSplit.from_lists(self.encode(texts), self.system.input_layout)
        device = self.system.device
        outputs = []
        for start in range(0, len(split), batch_size):
            batch = split.__getitems__(list(range(start, min(start + batch_size, len(split)))))
            batch = {k: v.to(device) for k, v in batch.items()}
            outputs.append(self.system(batch).softmax(-1).float().cpu())
        if not outputs:
            return torch.zeros(0, len(self.label_names))
        return torch.cat(outputs)

    def predict(self, texts: Sequence[str], batch_size: int = 256) -> list[dict[str, Any]]:
        """For each text, ``{"label": name, "probabilities": {name: p}}``."""
        probabilities = self.predict_proba(texts, batch_size)
        return [
            {
                "label": self.label_names[int(row.argmax())],
                "probabilities": dict(zip(self.label_names, row.tolist(), strict=True)),
            }
            for row in probabilities
        ]


def load_checkpoint(path: str | Path, run_id: str | None = None) -> Predictor:
    """Rebuild a predictor from a wordlab checkpoint (it holds config, vocabulary and labels).

    Safe on a checkpoint from anyone: the file loads with ``weights_only=True`` and the model is
    rebuilt from its stored config only through wordlab's own classes (``wordlab.rebuild``).
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or "wordlab" not in checkpoint:
        raise ValueError(f"{path} is not a wordlab checkpoint (no 'wordlab' entry)")
    meta = checkpoint["wordlab"]
    config, vocab = meta["config"], Vocabulary(meta["vocab"])
    state = checkpoint["state_dict"]
    embeddings = InitialEmbeddings(
        weight=torch.zeros_like(state["embedding.weight"]),
        multichannel="static_embedding.weight" in state,
    )
    encoder = rebuild(config, "model", str(path), input_dim=embeddings.output_dim)
    system = rebuild(
        config,
        "system",
        str(path),
        encoder=encoder,
        embeddings=embeddings,
        label_names=meta["label_names"],
    )
    system.load_state_dict(state)
    system.run_metadata = meta
    return Predictor(system, vocab, meta["label_names"], config, run_id)


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
