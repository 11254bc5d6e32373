"""``resume=<run id>``: what it refuses, and what a failed resume leaves behind."""

from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from wordlab.config import compose
from wordlab.data import TextDataModule
from wordlab.data.errors import DataError
from wordlab.resume import LAST_CHECKPOINT
from wordlab.train import check_same_vocabulary, fit


class Payload:
    """Unpickling this runs code: it creates the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_resume_refuses_a_finished_run_and_a_checkpoint_that_runs_code(
    train_overrides: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = compose([*train_overrides, "trainer.max_epochs=1"])
    trained = fit(cfg)
    client = MlflowClient(cfg.logger.tracking_uri)
    run_id = trained.run_id

    with pytest.raises(ValueError, match=f"resume={run_id}: the run FINISHED.*wordlab-train "):
        fit(compose([f"resume={run_id}"]))
    assert client.get_run(run_id).info.status == "FINISHED"
    assert len(client.get_metric_history(run_id, "test/acc")) == 1  # not tested twice

    # An interrupted run whose last checkpoint was replaced by a pickle that runs code; torch
    # is told to load without weights_only unless a caller asks for it.
    client.set_terminated(run_id, "KILLED")
    client.set_tag(run_id, "error", "stopped by SIGTERM")
    last = trained.run_dir / LAST_CHECKPOINT
    last.unlink()
    marker = tmp_path / "pwned"
    torch.save({"state_dict": {}, "payload": Payload(marker)}, last)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(Exception, match="Weights only load failed"):
        fit(compose([f"resume={run_id}"]))
    assert not marker.exists()
    run = client.get_run(run_id)  # the failed resume left the run as it was
    assert run.info.status == "KILLED" and run.data.tags["error"] == "stopped by SIGTERM"


def test_resuming_on_a_changed_corpus_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    data = TextDataModule(path=str(tiny_corpus))
    data.prepare()
    assert data.vocab is not None
    same, changed = tmp_path / "same.ckpt", tmp_path / "changed.ckpt"
    torch.save({"wordlab": {"vocab": data.vocab.tokens}}, same)
    torch.save({"wordlab": {"vocab": [*data.vocab.tokens[:5], "zebra"]}}, changed)
    check_same_vocabulary(same, data)
    with pytest.raises(
        DataError, match=r"cannot resume .* 6 tokens, the data .* first difference at id 5"
    ):
        check_same_vocabulary(changed, data)
