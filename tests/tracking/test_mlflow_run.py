import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from pytorch_lightning.utilities.exceptions import SIGTERMException

from wordlab.signals import stopped_by
from wordlab.tracking.mlflow_run import (
    RunRecorder,
    check_user_tags,
    describe,
    flatten,
    git_tags,
)


def test_flatten_nested_config() -> None:
    flat = flatten({"model": {"hidden_dim": 8, "kernel_sizes": [3, 4]}, "seed": 1, "tags": {}})
    assert flat == {"model.hidden_dim": 8, "model.kernel_sizes": [3, 4], "seed": 1, "tags": {}}


def test_git_tags_outside_a_repository(tmp_path: Path) -> None:
    assert git_tags(tmp_path) == {}


def test_failed_run_keeps_the_error(tmp_path: Path) -> None:
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(experiment)
    recorder = RunRecorder(client, run.info.run_id)
    recorder.log_params({f"p{i}": i for i in range(250)})  # more than one batch
    try:
        raise ValueError("data.path does not exist")
    except ValueError as error:
        recorder.fail(error, tmp_path / "out")
    finished = client.get_run(run.info.run_id)
    assert finished.info.status == "FAILED"
    assert finished.data.tags["error"] == "ValueError: data.path does not exist"
    assert len(finished.data.params) == 250
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["error.txt"]


def lightnings_ctrl_c() -> SystemExit:
    """What ``Trainer.fit`` raises on Ctrl-C: ``sys.exit(1)`` while handling the interrupt."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            sys.exit(1)
    except SystemExit as error:
        return error


def test_a_run_stopped_by_a_signal_is_killed_not_failed(tmp_path: Path) -> None:
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    stops = [
        ("SIGINT", lightnings_ctrl_c()),
        ("SIGTERM", SIGTERMException()),
        ("SIGTERM", KeyboardInterrupt("SIGTERM")),  # raised by wordlab's own SIGTERM handler
    ]
    for name, error in stops:
        run = client.create_run(experiment)
        RunRecorder(client, run.info.run_id).fail(error)
        stopped = client.get_run(run.info.run_id)
        assert stopped.info.status == "KILLED"
        assert stopped.data.tags["error"] == f"stopped by {name}"
    assert stopped_by(SystemExit(1)) is None and stopped_by(ValueError("x")) is None


def test_user_tags_may_not_set_wordlab_own() -> None:
    check_user_tags({"purpose": "baseline", "mlflow.note.content": "why", "data.size": "big"})
    for name in ("wordlab.run_dir", "wordlab.config_hash", "mlflow.parentRunId", "dataset"):
        with pytest.raises(ValueError, match=f"tags.{name}: this tag is wordlab's own"):
            check_user_tags({name: "x"})


@pytest.mark.slow
def test_parallel_first_runs_on_a_new_store_all_finish(
    train_overrides: list[str], isolated: Path, tmp_path: Path
) -> None:
    """Four runs started at once on a store that does not exist yet (no sweep to create it)."""
    script = Path(sys.executable).parent / "wordlab-train"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    processes = [
        subprocess.Popen(
            [str(script), *train_overrides, "trainer.max_epochs=2", f"seed={seed}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for seed in range(4)
    ]
    errors = [p.communicate(timeout=600)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [e[-2000:] for e in errors]
    client = MlflowClient(f"sqlite:///{isolated / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.params["seed"] for r in runs} == {"0", "1", "2", "3"}
    for run in runs:
        assert len(client.get_metric_history(run.info.run_id, "val/acc")) == 2
        assert {"test/acc", "test/f1_macro", "val/acc_best"} <= set(run.data.metrics)


def test_describe_names_a_full_disk() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/x/mlartifacts/model.ckpt")
    assert describe(full).startswith("the disk is full: OSError: [Errno 28]")
    try:
        try:
            raise full
        except OSError as error:
            raise RuntimeError("saving failed") from error
    except RuntimeError as chained:
        assert describe(chained) == "the disk is full: RuntimeError: saving failed"
    assert describe(ValueError("x")) == "ValueError: x"


def test_a_runs_name_says_what_its_command_line_changed() -> None:
    from wordlab.tracking.sweeps import override_label

    overrides = [
        "data=local",
        "data.path=/corpora/trec",
        "model=cnn",
        "system.optimizer.lr=0.01",
        "trainer.max_epochs=3",
        "callbacks.progress_bar=null",
        "+tags.purpose=x",
        "trainer.max_epochs=5",
        "seed=3",
    ]
    assert override_label(overrides) == "lr=0.01 max_epochs=5 seed=3"
    assert override_label(["data.path=x", "paths.output_dir=y"]) == ""


def test_the_sweep_plot_averages_seeds_and_draws_a_line_per_other_setting() -> None:
    import pandas as pd

    from wordlab.tracking.summary import metric_figure

    rows = [
        {"override.model": model, "override.data.train_fraction": str(f), "override.seed": s}
        | {"status": "FINISHED", "metrics.test/acc": base + f / 10 + s / 100}
        for model, base in (("cnn", 0.5), ("bag", 0.4))
        for f in (0.01, 0.1, 1.0)
        for s in (1, 2, 3)
    ]
    table = pd.DataFrame(rows)
    keys = ["model", "data.train_fraction", "seed"]
    figure = metric_figure(table, keys, "metrics.test/acc")
    model_panel, fraction_panel = figure.axes  # no panel for the seeds
    assert fraction_panel.get_xscale() == "log" and "over seed" in fraction_panel.get_title()
    curves = {c.get_label(): c.lines[0].get_ydata() for c in fraction_panel.containers}
    assert list(curves["cnn"]) == pytest.approx([0.521, 0.53, 0.62])  # means over the seeds
    assert [t.get_text() for t in model_panel.get_xticklabels()] == ["bag", "cnn"]
    assert metric_figure(table, ["seed"], "metrics.test/acc") is None
