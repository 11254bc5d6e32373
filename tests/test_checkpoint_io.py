from pathlib import Path

import pytest
import torch

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
