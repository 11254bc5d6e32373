"""Check in a real browser that the MLflow UI shows a sweep: parent, children and their metrics.

    python -m wordlab.tracking.ui_check --store sqlite:///outputs/mlflow.db --experiment sst2

starts ``mlflow server`` on 127.0.0.1 over the store (or uses ``--url`` of a running server),
opens the experiment's runs in headless Chromium (Debian's ``chromium``, driven by Playwright),
expands the newest sweep's parent run, opens each child, and saves screenshots under
``--output`` (default ``outputs/ui_check``). Needs ``pip install 'wordlab[ui]'`` and Chromium.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from mlflow.tracking import MlflowClient

from wordlab.tracking.store import default_tracking_uri
from wordlab.tracking.summary import key_metrics

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Chromium's executable, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def mlflow_server(store: str, artifacts: Path, timeout: float = 120.0) -> Iterator[str]:
    """Run ``mlflow server`` on a free local port for the duration of the block; yield its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
        "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    # Its own process group: the server starts worker processes that must stop with it.
    # Without its background job runners (a dozen processes it does not need for tracking).
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                error = process.stderr.read().decode()[-2000:] if process.stderr else ""
                raise RuntimeError(f"mlflow server did not start on {url}: {error}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def check_sweep(url: str, experiment: str, output: Path, timeout_ms: int = 120_000) -> dict:
    """Open the newest sweep of ``experiment`` in the UI; raise AssertionError if parts are missing.

    Returns:
        The parent's run id, the children checked and the screenshot paths.
    """
    from playwright.sync_api import sync_playwright

    client = MlflowClient(url)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r} at {url}"
    newest_first = ["attributes.start_time DESC"]
    sweeps = client.search_runs(
        [found.experiment_id], "tags.`wordlab.sweep` = 'true'", order_by=newest_first
    )
    assert sweeps, f"no sweep (parent run) in experiment {experiment!r}"
    parent = sweeps[0]
    children = client.search_runs(
        [found.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert children, f"sweep {parent.info.run_id} has no child runs"
    output.mkdir(parents=True, exist_ok=True)
    base = f"{url}/#/experiments/{found.experiment_id}"
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1100})
        page.set_default_timeout(timeout_ms)
        page.goto(f"{base}/runs", wait_until="domcontentloaded")
        row = page.locator("[role=row]", has_text=parent.info.run_name).first
        row.wait_for()
        row.locator("button").first.click()  # expand the parent's children
        for child in children:
            page.get_by_text(child.info.run_name, exact=True).first.wait_for()
        shots.append(output / "sweep_runs.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        for child in children:
            page.goto(f"{base}/runs/{child.info.run_id}", wait_until="domcontentloaded")
            for name in key_metrics(list(child.data.metrics), "test/loss"):
                page.get_by_text(name, exact=True).first.wait_for()
                shown = _shown_value(page.inner_text("body"), name)
                expected = child.data.metrics[name]
                assert shown is not None and abs(shown - expected) < 1e-6, (
                    f"run {child.info.run_id}: the UI shows {name} = {shown}, MLflow has {expected}"
                )
        shots.append(output / "child_run.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        page.goto(f"{base}/runs/{parent.info.run_id}", wait_until="domcontentloaded")
        page.get_by_text("sweep/jobs", exact=True).first.wait_for()
        shots.append(output / "sweep_parent.png")
        page.screenshot(path=str(shots[-1]), full_page=True)
        browser.close()
    return {
        "parent": parent.info.run_id,
        "children": [c.info.run_id for c in children],
        "screenshots": [str(s) for s in shots],
    }


def _shown_value(text: str, name: str) -> float | None:
    """The number the page shows after a metric's name (the run page lists name, value)."""
    found = re.search(re.escape(name) + r"\s+(-?[0-9][0-9.eE+-]*)", text)
    return float(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description="Check a sweep in the MLflow UI with Chromium.")
    parser.add_argument("--store", help="tracking URI (default: the project's store)")
    parser.add_argument("--url", help="a running tracking server (instead of --store)")
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--output", default="outputs/ui_check", type=Path)
    args = parser.parse_args()
    if chromium_path() is None:
        sys.exit("Chromium is not installed (Debian: apt-get install chromium)")
    if args.url:
        result = check_sweep(args.url, args.experiment, args.output)
    else:
        with mlflow_server(default_tracking_uri(args.store), args.output / "artifacts") as url:
            result = check_sweep(url, args.experiment, args.output)
    print(result)


if __name__ == "__main__":
    main()
