"""A language-model run end to end: train, records, load_run, eval and predict on tiny data."""

import json
import math
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from conftest import write_lines
from wordlab.config import compose
from wordlab.evaluate import evaluate
from wordlab.predict import predict
from wordlab.predictor import load_run
from wordlab.train import fit

pytestmark = pytest.mark.slow


def test_a_language_model_learns_the_tiny_language_and_records_it(
    lm_overrides: list[str], tmp_path: Path
) -> None:
    cfg = compose([*lm_overrides, "trainer.max_epochs=4", "system.optimizer.lr=0.02"])
    assert not cfg.model.bidirectional and cfg.model.dropout == 0.2  # the task's model settings
    result = fit(cfg)
    # far below a uniform guess over its 18 words: the tiny language is predictable
    assert result.metrics["test/ppl"] < 6
    assert result.metrics["val/ppl_best"] <= result.metrics["val/ppl"] + 1e-6
    assert result.metrics["test/bpw"] == pytest.approx(math.log2(result.metrics["test/ppl"]))
    client = MlflowClient(cfg.logger.tracking_uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["task"] == "language_model"
    assert {"val/ppl", "test/loss", "train/ppl", "test/ppl_by_length/1-10"} <= set(run.data.metrics)
    assert len(client.get_metric_history(result.run_id, "val/ppl")) == 4
    samples = [a.path for a in client.list_artifacts(result.run_id, "samples")]
    assert samples == [f"samples/epoch_{e:03d}.txt" for e in range(4)]
    tested = {a.path for a in client.list_artifacts(result.run_id, "test")}
    assert {"test/length_buckets.csv", "test/samples.txt"} <= tested

    predictor = load_run(result.run_id, cfg.logger.tracking_uri)
    text = predictor.generate("the cat", max_tokens=8, temperature=0)
    assert text.startswith("the cat ") and text.split()[2] in ("sat", "ran", "looked")
    assert predictor.generate("the", max_tokens=5, seed=4) == predictor.generate(
        "the", max_tokens=5, seed=4
    )
    likely, unlikely = predictor.score(["the dog sat on the mat .", "mat the . on dog"])
    assert likely["ppl"] < unlikely["ppl"] and likely["tokens"] == 8 and likely["unknown"] == 0

    other = write_lines(tmp_path / "other.txt", [" the cow sat on the mat . ", " the dog ran "])
    metrics = evaluate(compose([f"run_id={result.run_id}", f"data.path={other}"], "eval"))
    assert metrics["unknown"] == 1 and metrics["tokens"] == 11  # 12 with <eos>, the first unread
    same = evaluate(compose([f"run_id={result.run_id}"], config_name="eval"))
    assert same["ppl"] == pytest.approx(result.metrics["test/ppl"], rel=1e-5)  # same pieces
    one = evaluate(compose([f"run_id={result.run_id}", "batch_size=1"], config_name="eval"))
    assert one["ppl"] == pytest.approx(result.metrics["test/ppl"], rel=0.05)

    prompts = write_lines(tmp_path / "prompts.txt", ["the bird", "the fox ran"])
    out = tmp_path / "scored.jsonl"
    predict(compose([f"run_id={result.run_id}", f"input={prompts}", f"output={out}"], "predict"))
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["text"] for row in scored] == ["the bird", "the fox ran"]
    assert all(row["ppl"] > 1 for row in scored)
    generated = tmp_path / "generated.jsonl"
    overrides = [f"input={prompts}", f"output={generated}", "generate.enabled=true"]
    predict(compose([f"run_id={result.run_id}", *overrides, "generate.max_tokens=4"], "predict"))
    rows = [json.loads(line) for line in generated.read_text().splitlines()]
    assert rows[0]["generated"].startswith("the bird") and len(rows[0]["generated"].split()) <= 6
