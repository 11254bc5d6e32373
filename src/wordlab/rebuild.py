"""Rebuild a run's objects from its checkpoint: plain data through an allow-list, no ``_target_``.

A checkpoint, or a run on a shared tracking server, may come from anyone. Loading its tensors
with ``torch.load(weights_only=True)`` runs no code, and neither may rebuilding the model from the
config stored beside them: Hydra's ``instantiate`` would call whatever ``_target_`` the config
names, at any depth. So each section of a stored config names one of wordlab's own classes
below, which is called with the section's plain values, and anything else is refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

# The classes a stored config may name, per section (each task adds its system and data).
REBUILDABLE: dict[str, tuple[str, ...]] = {
    "model": (
        "wordlab.models.CNNEncoder",
        "wordlab.models.RNNEncoder",
        "wordlab.models.BagEncoder",
    ),
    "system": (
        "wordlab.tasks.classification.TextClassifier",
        "wordlab.tasks.tagging.SequenceTagger",
        "wordlab.tasks.language_model.LanguageModel",
        "wordlab.tasks.translation.Translator",
    ),
    "data": (
        "wordlab.data.TextDataModule",
        "wordlab.tasks.tagging.TaggingDataModule",
        "wordlab.tasks.language_model.StreamDataModule",
        "wordlab.tasks.translation.PairDataModule",
    ),
}
# Where classes named by older runs live now.
MOVED = {"wordlab.systems.TextClassifier": "wordlab.tasks.classification.TextClassifier"}
# Keys a loaded model never uses (it is not trained further), so they are not rebuilt.
TRAINING_ONLY: dict[str, tuple[str, ...]] = {"system": ("optimizer", "scheduler")}


class UntrustedConfigError(ValueError):
    """A stored config asks to build something that is not on the allow-list."""


def rebuild(config: Mapping[str, Any], section: str, source: str, **runtime: Any) -> Any:
    """Build ``config[section]`` with its allowed class, its plain values and ``runtime`` values.

    Args:
        config: A run's resolved config as plain data (from its checkpoint).
        section: ``model``, ``system`` or ``data``.
        source: Where the config came from, for error messages (a checkpoint path).
        runtime: Keyword arguments known only now (the vocabulary, the encoder...).

    Raises:
        UntrustedConfigError: The section names another class, or holds a nested ``_target_``
            (or any other Hydra key) anywhere; the message names the key.
    """
    node = config.get(section)
    if not isinstance(node, Mapping):
        raise UntrustedConfigError(f"{source}: the stored config has no {section!r} section")
    target = node.get("_target_")
    target = MOVED.get(str(target), target)
    allowed = REBUILDABLE[section]
    if target not in allowed:
        raise UntrustedConfigError(
            f"{source}: refusing {section}._target_={target!r}; a checkpoint may only rebuild "
            f"{', '.join(allowed)}"
        )
    skipped = TRAINING_ONLY.get(section, ())
    values = {k: v for k, v in node.items() if k != "_target_" and k not in skipped}
    _refuse_hydra_keys(values, section, source)
    module, name = str(target).rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**values, **runtime)


def _refuse_hydra_keys(value: Any, where: str, source: str) -> None:
    """Raise if any mapping under ``value`` has a key like ``_target_`` or ``_args_``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{where}.{key}"
            if isinstance(key, str) and key.startswith("_") and key.endswith("_"):
                raise UntrustedConfigError(
                    f"{source}: refusing {name}; a stored config holds plain values, and only "
                    f"the {where.split('.')[0]} section's own _target_ names a class"
                )
            _refuse_hydra_keys(item, name, source)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_hydra_keys(item, f"{where}[{index}]", source)
