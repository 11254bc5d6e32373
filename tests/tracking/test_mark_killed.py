import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from wordlab.tracking.mark_killed import HOST_TAG, main, mark_killed, process_tags


def dead_process_tags() -> dict[str, str]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tags = {
        HOST_TAG: process_tags()[HOST_TAG],
        "wordlab.pid": str(process.pid),
        "wordlab.pid_created": str(psutil.Process(process.pid).create_time()),
    }
    process.kill()
    process.wait()
    return tags


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, MlflowClient, dict[str, str]]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    me = process_tags()
    reused = me | {"wordlab.pid_created": str(float(me["wordlab.pid_created"]) - 3600)}
    dead = dead_process_tags()
    runs = {
        "alive": me,
        "dead": dead,
        "pid reused": reused,  # this process's id, but the run's process started an hour earlier
        "elsewhere": dead | {HOST_TAG: "another-node"},
        "untagged": {},
        "finished": dead,
    }
    ids = {name: client.create_run(experiment, run_name=name, tags=tags).info.run_id
           for name, tags in runs.items()}  # fmt: skip
    client.set_terminated(ids["finished"], "FINISHED")
    return uri, client, ids


def statuses(client: MlflowClient, ids: dict[str, str]) -> dict[str, str]:
    return {name: client.get_run(run_id).info.status for name, run_id in ids.items()}


def test_marks_only_runs_whose_process_is_gone_from_this_host(store) -> None:
    uri, client, ids = store
    last_sign_of_life = client.get_run(ids["dead"]).info.start_time + 5000
    client.log_metric(ids["dead"], "val/acc", 0.5, timestamp=last_sign_of_life)
    assert mark_killed(uri, dry_run=True)
    assert set(statuses(client, ids).values()) == {"RUNNING", "FINISHED"}

    seen = {run.info.run_name: action for run, action in mark_killed(uri)}
    assert seen.keys() == {"alive", "dead", "pid reused", "elsewhere", "untagged"}
    assert statuses(client, ids) == {
        "alive": "RUNNING",
        "dead": "KILLED",
        "pid reused": "KILLED",
        "elsewhere": "RUNNING",
        "untagged": "RUNNING",
        "finished": "FINISHED",
    }
    assert "another-node" in seen["elsewhere"]
    dead = client.get_run(ids["dead"])
    assert "ended without closing the run" in dead.data.tags["error"]
    assert dead.info.end_time == last_sign_of_life  # its last logged metric, not now


def test_named_runs_are_marked_whatever_their_process(store, capsys) -> None:
    uri, client, ids = store
    main(["--store", uri, ids["untagged"], ids["finished"]])
    assert statuses(client, ids)["untagged"] == "KILLED"
    assert statuses(client, ids)["finished"] == "FINISHED"
    assert "marked 1 KILLED" in capsys.readouterr().out


def test_wrong_store_or_experiment_is_a_clear_error(store, tmp_path: Path) -> None:
    uri, _, _ = store
    missing = tmp_path / "typo" / "mlflow.db"
    with pytest.raises(SystemExit, match=f"no MLflow store at {missing}"):
        main(["--store", f"sqlite:///{missing}"])
    assert not missing.exists()
    with pytest.raises(SystemExit, match="no experiment named nope"):
        main(["--store", uri, "--experiment", "nope"])
