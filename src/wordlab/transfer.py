"""Start a model from another run's trained encoder and word vectors (``init_from=<run id>``).

A language model trained on unlabelled text (IMDB's reviews, say) gives a classifier or a tagger
its recurrent layers and its word vectors: each tensor of the encoder whose name and shape
match is copied (the forward direction of a bidirectional encoder, the first layers of a deeper
one), and each word the two vocabularies share gets the trained vector; the rest keep their
initialisation. The checkpoint is read like any shared run: tensors only, no code.
"""

from __future__ import annotations

import logging
import tempfile
from typing import TYPE_CHECKING, Any

import torch

from wordlab.data.vocab import Vocabulary
from wordlab.models.embedder import SPECIAL_IDS, legacy_state_keys

if TYPE_CHECKING:
    from wordlab.systems.base import TaskSystem

log = logging.getLogger(__name__)


def load_pretrained(
    system: TaskSystem, run_id: str, vocab: Vocabulary, tracking_uri: str | None = None
) -> dict[str, float]:
    """Copy the encoder and word vectors of MLflow run ``run_id`` into ``system``; return the
    figures to log (``init/encoder_tensors``, ``init/words_found``)."""
    from mlflow.exceptions import MlflowException

    from wordlab.predictor import find_checkpoint
    from wordlab.tracking.store import default_tracking_uri

    uri = default_tracking_uri(tracking_uri)
    with tempfile.TemporaryDirectory(prefix=f"wordlab-init-{run_id[:8]}-") as folder:
        try:
            path = find_checkpoint(run_id, folder, uri)
        except (MlflowException, FileNotFoundError) as error:
            raise ValueError(f"init_from={run_id}: {error} (store {uri})") from error
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return transfer(system, checkpoint, vocab, f"init_from={run_id}")


def transfer(
    system: TaskSystem, checkpoint: dict[str, Any], vocab: Vocabulary, source: str
) -> dict[str, float]:
    """Copy what fits of a wordlab checkpoint's encoder and word vectors into ``system``."""
    state = legacy_state_keys(checkpoint["state_dict"])
    own = system.state_dict()
    encoder = {
        key: value
        for key, value in state.items()
        if key.startswith("encoder.") and key in own and own[key].shape == value.shape
    }
    if not encoder:
        names = sorted(k for k in state if k.startswith("encoder."))[:4]
        raise ValueError(
            f"{source}: none of its encoder's weights fit this model's (its: {names}); use the "
            "same model (model=rnn, model.cell) with hidden_dim and embedding_dim as it had"
        )
    system.load_state_dict(encoder, strict=False)
    table = system.embedder.embedding.weight
    vectors = state.get("embedder.embedding.weight")
    found = 0
    if vectors is not None and vectors.size(1) == table.size(1):
        index = {token: i for i, token in enumerate(checkpoint["wordlab"]["vocab"])}
        pairs = [
            (i, index[t])
            for i, t in enumerate(vocab.tokens[SPECIAL_IDS:], SPECIAL_IDS)
            if t in index
        ]
        if pairs:
            ours, theirs = map(torch.tensor, zip(*pairs, strict=True))
            with torch.no_grad():
                table[ours] = vectors[theirs].to(table.dtype)
                if system.embedder.initial is not None:  # drift is measured from these
                    system.embedder.initial[ours] = table[ours]
        found = len(pairs)
    words = max(len(vocab) - SPECIAL_IDS, 1)
    log.info(
        "%s: %d encoder tensors and the vectors of %d of %d words copied",
        source,
        len(encoder),
        found,
        words,
    )
    return {"init/encoder_tensors": float(len(encoder)), "init/words_found": found / words}
