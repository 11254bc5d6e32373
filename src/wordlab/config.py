"""Where the Hydra configs live, the resolvers they use, and composing them outside the CLI."""

from __future__ import annotations

import inspect
import os
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from wordlab.tracking.store import project_store


def config_dir() -> str:
    """``conf/`` inside an installed wheel, else the repository's top-level ``conf/``."""
    packaged = Path(__file__).parent / "conf"
    if packaged.is_dir():
        return str(packaged)
    return str(Path(__file__).resolve().parents[2] / "conf")


def dataset_name(path: str) -> str:
    """A short corpus name from a path: ``.../mr/split_seed13`` gives ``mr-split_seed13``."""
    parts = Path(str(path).rstrip("/")).parts
    if not parts:
        return "data"
    name = parts[-1].split(".")[0]
    if len(parts) > 1 and (name.startswith(("split", "fold")) or name in ("data", "train")):
        name = f"{parts[-2]}-{name}"
    return name


def child_path(folder: Path, name: str, option: str) -> Path:
    """``folder / name``, refusing a name that would leave ``folder`` (``..``, ``/``)."""
    path = folder / name
    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"{option}={name!r} cannot name a folder inside {folder}")
    return path


def local_artifacts(tracking_uri: str, folder: str) -> str | None:
    """Artifact folder for a local store (SQLite or file); None lets a server choose."""
    return folder if tracking_uri.startswith(("sqlite:", "file:", "/")) else None


def gpu_count(default: int = 1) -> int:
    """GPUs visible to this process (without importing torch), or ``default`` if none."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        count = len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    else:
        gpus = Path("/proc/driver/nvidia/gpus")
        count = len(list(gpus.iterdir())) if gpus.is_dir() else 0
    return count or default


def _package_path(package: str, relative: str = "") -> str:
    from wordlab.data.corpus import package_path

    return package_path(package, relative)


def check_types(cfg: DictConfig, sections: Sequence[str]) -> None:
    """Check every plain option of ``sections`` against the type its constructor declares.

    ``trainer.max_epochs=abc`` then stops before any data is read, naming the option, rather
    than failing deep inside the library once training starts.
    """
    from hydra.utils import get_method

    for section in sections:
        node = cfg.get(section)
        if not isinstance(node, DictConfig) or "_target_" not in node:
            continue
        try:
            parameters = inspect.signature(get_method(node._target_), eval_str=True).parameters
        except Exception:  # annotations that name what only a type checker imports
            continue
        for key, value in node.items():
            hint = parameters[str(key)].annotation if key in parameters else None
            if hint not in (None, inspect.Parameter.empty) and _accepts(hint, value) is False:
                raise ValueError(f"{section}.{key!s}={value!r}: expected {_describe(hint)}")


def _accepts(hint: Any, value: Any) -> bool | None:
    """Whether ``value`` is of type ``hint``; None where a simple check cannot tell."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        answers = [_accepts(arg, value) for arg in typing.get_args(hint)]
        return True if True in answers else (False if all(a is False for a in answers) else None)
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        number = (int, float) if hint is float else int
        return isinstance(value, number) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return None


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))


def register_resolvers() -> None:
    """Resolvers used in ``conf/``; safe to call more than once."""
    resolvers: dict[str, Any] = {
        "wordlab.cwd": os.getcwd,
        "wordlab.package": _package_path,
        "wordlab.dataset_name": dataset_name,
        "wordlab.local_artifacts": local_artifacts,
        "wordlab.gpu_count": gpu_count,
        "wordlab.tracking_uri": project_store,
    }
    for name, function in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)


def compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides, as ``wordlab-train`` would.

    The returned config has no ``hydra`` node, but ``${hydra:...}`` values (run name, output
    folder) resolve as in a command-line run.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = hydra_compose(config_name, overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = OmegaConf.select(cfg, "hydra.run.dir")
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    # Hydra's resolver reads the last composed config: fix this one's values (its run folder,
    # run name) now, so that configs composed one after the other keep their own.
    for key in _hydra_keys(OmegaConf.to_container(cfg, resolve=False)):
        OmegaConf.update(cfg, key, OmegaConf.select(cfg, key), force_add=True)
    return cfg


def _hydra_keys(node: Any, prefix: str = "") -> list[str]:
    """Dotted keys of the values under ``node`` that read ``${hydra:...}``."""
    if isinstance(node, dict):
        return [k for key, value in node.items() for k in _hydra_keys(value, f"{prefix}{key}.")]
    return [prefix[:-1]] if isinstance(node, str) and "${hydra:" in node else []
