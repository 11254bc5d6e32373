"""The rules of the house (DESIGN.md), checked on the source: who may import whom, and that
the task-free layers name no task's class or metric."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "wordlab"
ENTRY_POINTS = ("train.py", "evaluate.py", "predict.py", "predictor.py")
TASK_NAMES = re.compile(
    r"TextClassifier|SequenceTagger|TaggingDataModule|LanguageModel|StreamDataModule"
    r"|val/acc|test/acc|val/f1|val/ppl"
)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("models"), ids=lambda p: p.name)
def test_models_import_no_lightning_hydra_or_mlflow(path: Path) -> None:
    assert not {
        m for m in imports(path) if m.split(".")[0] in ("pytorch_lightning", "hydra", "mlflow")
    }


@pytest.mark.parametrize("path", sources("tracking"), ids=lambda p: p.name)
def test_tracking_imports_no_model_system_task_or_predictor(path: Path) -> None:
    forbidden = ("wordlab.models", "wordlab.systems", "wordlab.tasks", "wordlab.predictor")
    assert not {m for m in imports(path) if m.startswith(forbidden)}


@pytest.mark.parametrize("path", sources("data"), ids=lambda p: p.name)
def test_data_knows_no_model_or_task(path: Path) -> None:
    forbidden = ("wordlab.models", "wordlab.systems", "wordlab.tasks")
    assert not {m for m in imports(path) if m.startswith(forbidden)}


@pytest.mark.parametrize("path", sources("tasks"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_task_imports_no_other_task(path: Path) -> None:
    parts = path.relative_to(PACKAGE / "tasks").parts
    if len(parts) == 1:
        return  # the tasks package's own interface
    others = {m for m in imports(path) if m.startswith("wordlab.tasks.")}
    assert all(m.split(".")[2] == parts[0] for m in others), others


@pytest.mark.parametrize(
    "path",
    [*[PACKAGE / name for name in ENTRY_POINTS], *sources("tracking")],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_entry_points_and_tracking_name_no_task_class_or_metric(path: Path) -> None:
    assert not TASK_NAMES.findall(path.read_text())


@pytest.mark.parametrize(
    "path",
    [p for folder in ("data", "embeddings", "models", "systems", "tasks") for p in sources(folder)],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_entry_points_import_hydra_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    if "@hydra.main" in path.read_text():
        return  # an entry point (wordlab-baseline)
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in names if m.split(".")[0] == "hydra"}
