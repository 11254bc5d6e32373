import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from wordlab.tracking.mark_killed import HOST_TAG, main, mark_killed, process_tags


def killed_process() -> tuple[subprocess.Popen, dict[str, str]]:
    """A child process killed but not yet reaped (a zombie), and the tags a run of it had."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tags = {
        HOST_TAG: process_tags()[HOST_TAG],
        "wordlab.pid": str(process.pid),
        "wordlab.pid_created": str(psutil.Process(process.pid).create_time()),
    }
    process.kill()
    while psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    return process, tags


def dead_process_tags() -> dict[str, str]:
    process, tags = killed_process()
    process.wait()
    return tags


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[str, MlflowClient, dict[str, str]]]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("e", artifact_location=str(tmp_path / "artifacts"))
    me = process_tags()
    reused = me | {"wordlab.pid_created": str(float(me["wordlab.pid_created"]) - 3600)}
    dead = dead_process_tags()
    zombie, zombie_tags = killed_process()
    runs = {
        "alive": me,
        "dead": dead,
        "zombie": zombie_tags,  # dead, not yet reaped by its parent
        "pid reused": reused,  # this process's id, but the run's process started an hour earlier
        "elsewhere": dead | {HOST_TAG: "another-node"},
        "untagged": {},
        "finished": dead,
    }
    ids = {name: client.create_run(experiment, run_name=name, tags=tags).info.run_id
           for name, tags in runs.items()}  # fmt: skip
    client.set_terminated(ids["finished"], "FINISHED")
    yield uri, client, ids
    zombie.wait()


def statuses(client: MlflowClient, ids: dict[str, str]) -> dict[str, str]:
    return {name: client.get_run(run_id).info.status for name, run_id in ids.items()}


def test_marks_only_runs_whose_process_is_gone_from_this_host(store) -> None:
    uri, client, ids = store
    last_sign_of_life = client.get_run(ids["dead"]).info.start_time + 5000
    client.log_metric(ids["dead"], "val/acc", 0.5, timestamp=last_sign_of_life)
    assert mark_killed(uri, dry_run=True)
    assert set(statuses(client, ids).values()) == {"RUNNING", "FINISHED"}

    seen = {run.info.run_name: action for run, action in mark_killed(uri)}
    assert seen.keys() == {"alive", "dead", "zombie", "pid reused", "elsewhere", "untagged"}
    assert statuses(client, ids) == {
        "alive": "RUNNING",
        "dead": "KILLED",
        "zombie": "KILLED",
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
