"""``wordlab-mark-killed``: mark MLflow runs whose process died as KILLED.

A run stopped by SIGKILL (the kernel's out-of-memory killer, ``kill -9``, a lost node) cannot
close itself: it stays RUNNING in MLflow for ever. Every run wordlab starts records its host and
process in tags; this command lists a store's RUNNING runs and marks KILLED those whose process
is gone from this host. Runs started on another host are left alone: run the command there, or
name them::

    wordlab-mark-killed                          # the project's store (see --store)
    wordlab-mark-killed --dry-run --store sqlite:///path/to/mlflow.db --experiment mr
    wordlab-mark-killed RUN_ID [RUN_ID ...]      # these runs, whatever their process
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

HOST_TAG = "wordlab.host"
PID_TAG = "wordlab.pid"
CREATED_TAG = "wordlab.pid_created"


def process_tags() -> dict[str, str]:
    """Tags that identify this process: host, id and start time (ids are reused)."""
    import psutil

    me = psutil.Process()
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(me.pid),
        CREATED_TAG: str(me.create_time()),
    }


def process_state(tags: dict[str, str]) -> str:
    """``alive``, ``gone``, ``elsewhere`` (started on another host) or ``unknown``."""
    import psutil

    if PID_TAG not in tags or HOST_TAG not in tags:
        return "unknown"
    if tags[HOST_TAG] != socket.gethostname():
        return "elsewhere"
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        created = process.create_time()
        if process.status() == psutil.STATUS_ZOMBIE:  # dead, not yet reaped by its parent
            return "gone"
    except psutil.NoSuchProcess:
        return "gone"
    except psutil.AccessDenied:
        return "alive"
    recorded = float(tags.get(CREATED_TAG, created))
    return "alive" if abs(created - recorded) < 1.0 else "gone"  # else: the id was reused


def mark_killed(
    tracking_uri: str,
    run_ids: list[str] | None = None,
    experiments: list[str] | None = None,
    dry_run: bool = False,
) -> list[tuple[Any, str]]:
    """Mark dead RUNNING runs (or the named ones) KILLED; return each run seen with what happened.

    Args:
        tracking_uri: The MLflow store.
        run_ids: Runs to mark whatever their process; default: every RUNNING run whose process
            is gone from this host.
        experiments: Only look in these experiments (names); default: all.
        dry_run: Report, change nothing.
    """
    from mlflow.tracking import MlflowClient

    _check_store(tracking_uri)
    client = MlflowClient(tracking_uri)
    if run_ids:
        runs, state = [client.get_run(run_id) for run_id in run_ids], "named"
    else:
        runs, state = _running(client, experiments), ""
    seen = []
    for run in runs:
        tags = run.data.tags
        why = state or process_state(tags)
        if run.info.status != "RUNNING":
            action = f"left {run.info.status}"
        elif why in ("named", "gone"):
            action = "KILLED"
            if not dry_run:
                mark_run_killed(client, run, "marked KILLED by wordlab-mark-killed")
        elif why == "elsewhere":
            action = f"left RUNNING: started on {tags[HOST_TAG]}; run this there, or name the run"
        elif why == "unknown":
            action = "left RUNNING: no process recorded; name the run to mark it"
        else:
            action = f"left RUNNING: process {tags[PID_TAG]} is alive"
        seen.append((run, action))
    return seen


def mark_run_killed(client: Any, run: Any, why: str) -> None:
    """KILLED, ending at the run's last logged metric (its last sign of life), else now."""
    tags, run_id = run.data.tags, run.info.run_id
    where = f"process {tags.get(PID_TAG, '?')} on {tags.get(HOST_TAG, '?')}"
    client.set_tag(run_id, "error", f"{where} ended without closing the run; {why}")
    stamps = [
        m.timestamp for key in run.data.metrics for m in client.get_metric_history(run_id, key)
    ]
    client.set_terminated(run_id, "KILLED", end_time=max(stamps) if stamps else None)


def _check_store(tracking_uri: str) -> None:
    # MlflowClient would create a new, empty SQLite store at a mistyped path.
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri.removeprefix("sqlite:///"))
        if not path.is_file():
            raise FileNotFoundError(f"no MLflow store at {path} (--store {tracking_uri})")


def _running(client: Any, names: list[str] | None) -> list[Any]:
    if names:
        found = {name: client.get_experiment_by_name(name) for name in names}
        missing = [name for name, experiment in found.items() if experiment is None]
        if missing:
            raise ValueError(f"no experiment named {', '.join(missing)} in the store")
        ids = [experiment.experiment_id for experiment in found.values()]
    else:
        ids = [experiment.experiment_id for experiment in client.search_experiments()]
    runs, token = [], None
    while ids:
        page = client.search_runs(
            ids, "attributes.status = 'RUNNING'", max_results=1000, page_token=token
        )
        runs += list(page)
        token = page.token
        if not token:
            break
    return runs


def main(argv: list[str] | None = None) -> None:
    """Console entry point of ``wordlab-mark-killed``."""
    from mlflow.exceptions import MlflowException

    from wordlab.tracking.store import default_tracking_uri

    parser = argparse.ArgumentParser(
        prog="wordlab-mark-killed",
        description="Mark MLflow runs whose process died (SIGKILL, out of memory) as KILLED.",
    )
    parser.add_argument(
        "run_ids", nargs="*", metavar="RUN_ID", help="runs to mark whatever their process"
    )
    parser.add_argument(
        "--store",
        help="tracking URI (default: MLFLOW_TRACKING_URI, else outputs/mlflow.db under "
        "WORDLAB_ROOT or the current folder)",
    )
    parser.add_argument(
        "--experiment", action="append", help="only this experiment (may be repeated)"
    )
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    try:
        seen = mark_killed(
            default_tracking_uri(args.store), args.run_ids, args.experiment, args.dry_run
        )
    except (FileNotFoundError, ValueError, MlflowException) as error:
        sys.exit(f"wordlab-mark-killed: {error}")
    for run, action in seen:
        print(f"{run.info.run_id}  {run.info.run_name}: {action}")
    killed = sum(action == "KILLED" for _, action in seen)
    verb = "would mark" if args.dry_run else "marked"
    print(f"{len(seen)} run(s) checked; {verb} {killed} KILLED")


if __name__ == "__main__":
    main()
