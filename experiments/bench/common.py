"""Shared helpers of the benchmark suite: timed subprocesses, machine facts, statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@dataclass
class Timed:
    """One measured process: wall seconds, peak resident memory (MB) and what it printed."""

    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    returncode: int


def run_timed(command: list[str], env: dict | None = None, cwd: Path | None = None) -> Timed:
    """Run ``command`` to the end; its own peak RSS comes from ``wait4`` (children excluded)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    # Read the pipes on threads so a chatty process never blocks, then reap it with wait4.
    import threading

    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.append(process.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(process.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Timed(seconds, usage.ru_maxrss / 1024, "".join(out), "".join(err), process.returncode)


def check(timed: Timed, what: str) -> Timed:
    if timed.returncode != 0:
        raise RuntimeError(f"{what} failed ({timed.returncode}):\n{timed.stderr[-4000:]}")
    return timed


def last_json(text: str) -> dict:
    """The last line of ``text`` that is a JSON object."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON line in output:\n{text[-2000:]}")


@dataclass
class Series:
    """Repeated measurements of one quantity."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def __str__(self) -> str:
        if not self.values:
            return "-"
        if len(self.values) == 1:
            return f"{self.values[0]:.2f}"
        return f"{self.median:.2f} [{min(self.values):.2f}-{max(self.values):.2f}]"


def machine() -> dict[str, str]:
    """CPU model, cores, GPU and library versions, for RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version()}
    import importlib.metadata as metadata

    for package in (
        "torch",
        "pytorch-lightning",
        "mlflow",
        "datasets",
        "hydra-core",
        "fasttext-numpy2",
    ):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info
