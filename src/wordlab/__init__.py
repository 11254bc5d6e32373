"""wordlab: experiment-managed deep-learning NLP with Hydra, Lightning, datasets and MLflow."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Imported on first use: `import wordlab` stays fast and light. A module must not share its
# name with a function exported here: importing it would replace the function on the package.
_LAZY = {
    "compose": "wordlab.config",
    "fit": "wordlab.train",
    "load_run": "wordlab.predictor",
    "load_checkpoint": "wordlab.predictor",
    "runs": "wordlab.tracking.run_table",
    "sweep_plot": "wordlab.tracking.run_table",
    "explain": "wordlab.attribution",
    "vectors": "wordlab.embeddings.keyed",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wordlab' has no attribute {name!r}")


__all__ = list(_LAZY)
