"""Which devices and how many threads a run may use when several runs share a machine."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

log = logging.getLogger(__name__)

LOCK_DIR = Path(tempfile.gettempdir()) / f"wordlab-gpu-locks-{os.getuid()}"


def parallel_jobs() -> int:
    """Jobs the current Hydra launcher runs at once on this machine (1 outside a multirun)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return 1
    n_jobs = HydraConfig.get().launcher.get("n_jobs") or 1
    return (os.cpu_count() or 1) if int(n_jobs) < 0 else int(n_jobs)


def claim_gpu(count: int, lock_dir: Path = LOCK_DIR, poll_seconds: float = 5.0) -> tuple[int, Any]:
    """Wait for a GPU no other wordlab run on this machine holds; return its index and lock.

    Each GPU has a lock file; a run holds the lock for its whole lifetime, so parallel jobs of
    a sweep (joblib) or runs started by hand never share a device.
    """
    from filelock import FileLock, Timeout

    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(count):
            lock = FileLock(str(lock_dir / f"gpu{index}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            return index, lock
        time.sleep(poll_seconds)


@contextmanager
def claim_devices(trainer_cfg: DictConfig) -> Iterator[dict[str, Any]]:
    """Trainer overrides for this run: a free GPU of several, or a share of the CPU threads."""
    import torch

    overrides: dict[str, Any] = {}
    lock = None
    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    wants_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if wants_gpu and torch.cuda.device_count() > 1 and trainer_cfg.get("devices") in (1, "1"):
        index, lock = claim_gpu(torch.cuda.device_count())
        overrides["devices"] = [index]
        log.info("using GPU %d (free of other wordlab runs)", index)
    jobs = parallel_jobs()
    if not wants_gpu and jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        torch.set_num_threads(threads)
        log.info("%d parallel jobs: %d CPU threads for this one", jobs, threads)
    try:
        yield overrides
    finally:
        if lock is not None:
            lock.release()
