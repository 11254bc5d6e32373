import sys
from pathlib import Path

from mlflow.tracking import MlflowClient
from pytorch_lightning.utilities.exceptions import SIGTERMException

from wordlab.signals import stopped_by
from wordlab.tracking.mlflow_run import RunRecorder, flatten, git_tags


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
