"""The console scripts, run as a user runs them."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from wordlab.data.errors import DataError
from wordlab.predict import read_inputs


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / args[0]
    return subprocess.run(
        [str(script), *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )


def test_help_lists_the_groups(tmp_path: Path) -> None:
    result = run("wordlab-train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "model: bag, cnn, rnn" in result.stdout


def test_missing_data_path_is_named(tmp_path: Path) -> None:
    result = run("wordlab-train", "data=local", cwd=tmp_path)
    assert result.returncode != 0
    assert "data.path" in result.stderr


@pytest.mark.slow
def test_train_eval_predict_round_trip(
    train_overrides: list[str], isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = run("wordlab-train", *train_overrides, "trainer.max_epochs=2", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    # quiet: the libraries' INFO lines and warnings go to the run's log file, not the terminal
    terminal = trained.stdout + trained.stderr
    assert "MLflow run" in terminal and "GPU available" not in terminal
    assert "Warning" not in terminal and "deprecated" not in terminal
    [log_file] = (isolated / "outputs" / "runs").glob("*/*/train.log")
    assert "GPU available" in log_file.read_text()
    # not a terminal: a line per epoch instead of a progress bar, in the log file too
    for text in (terminal, log_file.read_text()):
        assert re.search(r"epoch 1/2: .*val/acc [0-9.]+.*\(\d+\.\d s\)", text)
        assert "epoch 2/2: " in text
    temp = tmp_path / "tmp"  # where eval and predict download the checkpoint, and delete it
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    client = MlflowClient(f"sqlite:///{isolated / 'outputs' / 'mlflow.db'}")
    [experiment] = [e for e in client.search_experiments() if e.name == "tiny"]
    [finished] = client.search_runs([experiment.experiment_id])
    assert finished.info.status == "FINISHED"
    # what the command line changed tells it from the other runs of cnn on tiny
    changed = "batch_size=16 embedding_dim=16 num_filters=8 trainer=cpu lr=0.01 max_epochs=2"
    assert finished.info.run_name == f"cnn-tiny-random {changed}"
    run_id = finished.info.run_id
    assert "train.log" in {a.path for a in client.list_artifacts(run_id)}
    # the last lines say where the run is and how to open it
    assert f"run id:      {run_id}" in terminal and "test:        test/acc " in terminal
    assert f"/runs/{run_id}" in terminal and "mlflow ui --backend-store-uri sqlite:" in terminal

    evaluated = run("wordlab-eval", f"run_id={run_id}", "split=validation", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    scores = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert scores["size"] == 40
    assert client.get_run(run_id).data.metrics["eval/validation/acc"] == scores["acc"]

    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"text": "A superb story.", "id": 7}\n{"text": "Dull and poor."}\n')
    out = tmp_path / "out" / "predictions.jsonl"
    predicted = run(
        "wordlab-predict", f"run_id={run_id}", f"input={texts}", f"output={out}", cwd=tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["id"] == 7 and rows[0]["prediction"] == "positive"
    assert rows[1]["prediction"] == "negative"
    assert set(rows[1]["probabilities"]) == {"negative", "positive"}

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"review": "x"}\n')
    failed = run("wordlab-predict", f"run_id={run_id}", f"input={bad}", cwd=tmp_path)
    assert failed.returncode != 0
    assert "line 1 has no field 'text' (option text_field)" in failed.stderr
    assert not list(temp.iterdir())  # no checkpoint copies left behind, even on errors


def test_prediction_inputs_from_text_and_json_lines(tmp_path: Path) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("A superb story.\n\nDull and poor.\n")
    assert read_inputs(texts, "text") == [{"text": "A superb story."}, {"text": "Dull and poor."}]
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "Fine."}\n{"text": null}\n{"text": "  "}\n\n{"text": "Dull."}\n')
    assert read_inputs(rows, "text") == [{"text": "Fine."}, {"text": "Dull."}]  # 3 skipped
    rows.write_text('{"text": "Fine."}\n{"text": 42}\n')
    with pytest.raises(DataError, match=f"{rows}: line 2: field 'text' is int 42, expected a"):
        read_inputs(rows, "text")
    for blank in (tmp_path / "blank.txt", tmp_path / "blank.jsonl"):
        blank.write_text("\n  \n")
        with pytest.raises(DataError, match=f"{blank}: no texts to predict"):
            read_inputs(blank, "text")
