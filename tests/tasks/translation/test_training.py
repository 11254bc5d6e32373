"""A translation run end to end: train, records, load_run, eval and predict on tiny data."""

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from conftest import make_pairs, write_jsonl
from wordlab.config import compose
from wordlab.evaluate import evaluate
from wordlab.predict import predict
from wordlab.predictor import load_run
from wordlab.train import fit

pytestmark = pytest.mark.slow


def test_a_translator_learns_the_tiny_language_and_records_it(
    mt_overrides: list[str], tmp_path: Path
) -> None:
    cfg = compose([*mt_overrides, "trainer.max_epochs=6", "data.lowercase=true"])
    assert cfg.model.bidirectional and cfg.model.pooling is None  # the task's encoder
    result = fit(cfg)
    # word for word: a small attention model gets most of it in a few epochs
    assert result.metrics["test/bleu_lc"] > 50
    assert result.metrics["val/bleu_lc_best"] >= result.metrics["val/bleu_lc"] - 1e-6
    assert {"test/bleu", "test/chrf", "test/bleu_tok", "test/bleu_lc_greedy"} <= set(result.metrics)
    client = MlflowClient(cfg.logger.tracking_uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["task"] == "translation"
    assert run.data.tags["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert len(client.get_metric_history(result.run_id, "val/bleu_lc")) == 6
    assert "test/bleu_by_length/1-10" in run.data.metrics
    tested = {a.path for a in client.list_artifacts(result.run_id, "test")}
    assert {"test/translations.csv", "test/bleu_by_length.csv", "test/attention"} <= tested
    maps = [a.path for a in client.list_artifacts(result.run_id, "test/attention")]
    assert len(maps) == 4 and all(m.endswith(".png") for m in maps)

    predictor = load_run(result.run_id, cfg.logger.tracking_uri)
    english = predictor.translate(["Der kleine hund sieht den fuchs."], beam=3)
    assert english == ["the small dog sees the fox."]
    figure = predictor.plot_attention("Der hund mag den vogel.", path=tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 0 and figure.axes

    rows = make_pairs(12, 9)
    other = write_jsonl(tmp_path / "other.jsonl", rows)
    metrics = evaluate(compose([f"run_id={result.run_id}", f"data.path={other}"], "eval"))
    assert metrics["bleu_lc"] > 50 and "bleu_by_length/1-10" in metrics

    inputs = write_jsonl(tmp_path / "inputs.jsonl", [{"de": r["de"]} for r in rows[:3]])
    out = tmp_path / "translated.jsonl"
    predict(compose([f"run_id={result.run_id}", f"input={inputs}", f"output={out}"], "predict"))
    translated = [json.loads(line) for line in out.read_text().splitlines()]
    assert [t["de"] for t in translated] == [r["de"] for r in rows[:3]]
    assert (
        sum(t["translation"] == r["en"].lower() for t, r in zip(translated, rows[:3], strict=True))
        >= 2
    )
