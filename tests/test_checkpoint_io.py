import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from wordlab.checkpoint_io import StreamingCheckpointIO


def test_saves_a_loadable_file_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints" / "epoch_000.ckpt"
    StreamingCheckpointIO().save_checkpoint({"state_dict": {"w": torch.arange(4.0)}}, target)
    assert torch.equal(torch.load(target)["state_dict"]["w"], torch.arange(4.0))
    assert [p.name for p in target.parent.iterdir()] == ["epoch_000.ckpt"]


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints" / "last.ckpt"
    io = StreamingCheckpointIO()
    io.save_checkpoint({"step": 1}, target)
    with pytest.raises(Exception):  # noqa: B017, PT011 - a lambda cannot be pickled
        io.save_checkpoint({"step": 2, "bad": lambda: None}, target)
    assert torch.load(target)["step"] == 1
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"]


def _mount_works(folder: Path) -> bool:
    """Whether this machine lets a process mount a tmpfs in its own namespace (unshare)."""
    probe = subprocess.run(
        ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(folder)],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("full", ["callbacks.model_checkpoint.dirpath", "logger.artifact_location"])
def test_a_full_disk_ends_the_run_failed_and_says_so(
    train_overrides: list[str], isolated: Path, tmp_path: Path, full: str
) -> None:
    """The checkpoints, or the run's artifacts, go to a 4 KiB disk (a tmpfs in a private mount
    namespace); the store is elsewhere, so the run can be marked."""
    disk = tmp_path / "small_disk"
    disk.mkdir()
    if shutil.which("unshare") is None or not _mount_works(disk):
        pytest.skip("cannot mount a small tmpfs here (unshare -rm)")
    train = Path(sys.executable).parent / "wordlab-train"
    command = shlex.join([str(train), *train_overrides, f"{full}={disk}"])
    mount = f"mount -t tmpfs -o size=4k tmpfs {shlex.quote(str(disk))}"
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"{mount} && {command}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode != 0
    assert "No space left on device" in result.stderr
    client = MlflowClient(f"sqlite:///{isolated / 'outputs' / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["error"].startswith("the disk is full: ")
    assert str(disk) in run.data.tags["error"]  # where
