"""A run's word vectors as gensim ``KeyedVectors``: to inspect, compare or reuse them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from wordlab.tracking.store import EMBEDDINGS, default_tracking_uri

TABLES = ("trained", "initial")


def vectors(
    run_id: str, table: str = "trained", tracking_uri: str | None = None, side: str = "source"
) -> Any:
    """The word vectors of a finished run as gensim ``KeyedVectors``.

    Args:
        run_id: The MLflow run.
        table: ``trained``: the table the model ended with, a vector for every word of its
            vocabulary (the fine-tuned channel of a multichannel model); ``initial``: the
            word2vec vectors the run trained before the model (``embedding=word2vec``; every
            word of its word2vec vocabulary), as logged with the run.
        tracking_uri: The store (as ``wordlab.load_run``).
        side: ``source`` or, for a translation run's trained table, ``target``.
    """
    from gensim.models import KeyedVectors

    if table not in TABLES:
        raise ValueError(f"table={table!r}: expected one of {TABLES}")
    uri = default_tracking_uri(tracking_uri)
    if table == "initial":
        return _initial(run_id, uri)
    from wordlab.predictor import load_run

    predictor = load_run(run_id, uri)
    system: Any = predictor.system
    if side == "target":
        if not hasattr(system, "target_embedder"):
            raise ValueError(f"side='target': run {run_id} is not a translation run")
        weight, words = system.target_embedder.embedding.weight, system.target_vocab
    elif side == "source":
        weight, words = system.embedder.embedding.weight, predictor.vocab.tokens
    else:
        raise ValueError(f"side={side!r}: expected 'source' or 'target'")
    keyed = KeyedVectors(weight.size(1))
    keyed.add_vectors(list(words), weight.detach().float().cpu().numpy())
    return keyed


def _initial(run_id: str, uri: str) -> Any:
    from gensim.models import KeyedVectors
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    logged = [a.path for a in client.list_artifacts(run_id, EMBEDDINGS)]
    name = f"{EMBEDDINGS}/word2vec.bin"
    if name not in logged:
        raise FileNotFoundError(
            f"run {run_id} logged no initial vectors ({name}: runs with embedding=word2vec and "
            "embedding.log_vectors=true do); a vector file it read is its embedding.path"
        )
    with tempfile.TemporaryDirectory(prefix=f"wordlab-{run_id[:8]}-") as folder:
        path = Path(client.download_artifacts(run_id, name, folder))
        return KeyedVectors.load_word2vec_format(str(path), binary=True)
