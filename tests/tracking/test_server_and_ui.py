"""A sweep logged to a real ``mlflow server`` on 127.0.0.1, and read in a real browser."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from wordlab.tracking.ui_check import check_sweep, chromium_path, mlflow_server

SWEEP = [
    "--multirun",
    "data=local",
    "data.batch_size=16",
    "embedding.embedding_dim=16",
    "trainer=cpu",
    "trainer.max_epochs=2",
    "callbacks.progress_bar=null",
    "model=cnn,bag",
]


def wordlab_train(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "wordlab-train"
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_parallel_sweep_logs_to_a_tracking_server(tiny_corpus: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'server.db'}"
    with mlflow_server(store, tmp_path / "served-artifacts") as url:
        result = wordlab_train(
            *SWEEP, f"data.path={tiny_corpus}", f"logger.tracking_uri={url}",
            "hydra/launcher=local_parallel", "hydra.launcher.n_jobs=2", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        client = MlflowClient(url)
        experiment = client.get_experiment_by_name("tiny")
        [parent] = client.search_runs([experiment.experiment_id], "tags.`wordlab.sweep` = 'true'")
        children = client.search_runs(
            [experiment.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert sorted(c.info.status for c in children) == ["FINISHED", "FINISHED"]
        artifacts = [a.path for a in client.list_artifacts(children[0].info.run_id, "checkpoints")]
        assert artifacts and artifacts[0].endswith(".ckpt")  # uploaded through the server
    assert any((tmp_path / "served-artifacts").rglob("*.ckpt"))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed")
@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright missing")
def test_sweep_is_shown_in_the_mlflow_ui(tiny_corpus: Path, isolated: Path, tmp_path: Path) -> None:
    result = wordlab_train(*SWEEP, f"data.path={tiny_corpus}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = isolated / "outputs" / "ui_check"
    with mlflow_server(f"sqlite:///{isolated / 'outputs' / 'mlflow.db'}", tmp_path / "a") as url:
        seen = check_sweep(url, "tiny", output)
    assert len(seen["children"]) == 2
    for shot in seen["screenshots"]:
        assert Path(shot).read_bytes()[:4] == b"\x89PNG"
