"""A tagging run end to end: train, records, load_run, eval and predict on tiny data."""

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import wordlab
from conftest import make_tagged_rows, write_jsonl
from wordlab.config import compose
from wordlab.evaluate import evaluate
from wordlab.predict import predict
from wordlab.predictor import load_run
from wordlab.train import fit

pytestmark = pytest.mark.slow


def test_a_tagger_learns_the_tiny_corpus_and_records_its_reports(
    tagging_overrides: list[str], tmp_path: Path
) -> None:
    cfg = compose(tagging_overrides)
    result = fit(cfg)
    assert result.metrics["test/f1"] > 0.9
    assert result.metrics["val/f1_best"] >= result.metrics["val/f1"] - 1e-6
    client = MlflowClient(cfg.logger.tracking_uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["task"] == "tagging" and run.data.tags["command"] == "train"
    assert {"test/f1/PER", "test/f1/LOC", "test/f1_seen", "test/f1_unseen"} <= set(run.data.metrics)
    tested = {a.path for a in client.list_artifacts(result.run_id, "test")}
    assert {
        "test/per_type.csv",
        "test/span_confusion.png",
        "test/predictions.conll",
        "test/seen_unseen.csv",
    } <= tested
    conll = (result.run_dir / "test" / "predictions.conll").read_text().split("\n\n")[0]
    assert conll.splitlines()[0].split()[1:] in (["B-PER", "B-PER"], ["O", "O"])  # IOB2 back

    predictor = load_run(result.run_id, cfg.logger.tracking_uri)
    [found] = predictor.predict(["Yesterday, Chen Tanaka visited Lima."])
    assert [(s["type"], s["text"]) for s in found["spans"]] == [
        ("PER", "Chen Tanaka"),
        ("LOC", "Lima"),
    ]
    text = "Yesterday, Chen Tanaka visited Lima."
    assert all(text[s["start"] : s["end"]] == s["text"] for s in found["spans"])
    [tokens_in] = predictor.predict([["Emil", "saw", "Oslo", "."]])
    assert tokens_in["tags"] == ["B-PER", "O", "B-LOC", "O"]

    [explained] = wordlab.explain(predictor, "Yesterday, Chen Tanaka visited Lima.", target="LOC")
    assert explained.target == "LOC 'Lima'" and len(explained.scores) == len(explained.tokens)
    # integrated gradients' completeness: the scores add up to the span score's change
    assert explained.method == "integrated_gradients" and abs(explained.delta) < 1e-3

    metrics = evaluate(compose([f"run_id={result.run_id}"], config_name="eval"))
    assert metrics["f1"] == pytest.approx(result.metrics["test/f1"])

    inputs = write_jsonl(tmp_path / "in.jsonl", [{"tokens": ["Anna", "left", "Paris", "."]}])
    output = tmp_path / "out.jsonl"
    predict(compose([f"run_id={result.run_id}", f"input={inputs}", f"output={output}"], "predict"))
    row = json.loads(output.read_text())
    assert row["tags"] == ["B-PER", "O", "B-LOC", "O"] and len(row["spans"]) == 2


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=rnn", "system.head=softmax", "system.chars=lstm"],
        ["model=cnn", "model.num_filters=16", "model.kernel_sizes=[3]", "system.chars=null"],
    ],
    ids=["softmax-char_lstm", "cnn-no_chars"],
)
def test_other_heads_encoders_and_char_features_train(
    tagging_overrides: list[str], overrides: list[str]
) -> None:
    base = [o for o in tagging_overrides if not o.startswith(("model", "system.char_options"))]
    result = fit(compose([*base, *overrides]))
    assert result.metrics["test/f1"] > 0.5


def test_part_of_speech_tags_without_a_scheme_report_accuracy(
    tagging_overrides: list[str], tmp_path: Path
) -> None:
    rows = [
        {"tokens": r["tokens"], "pos": ["NNP" if t[0].isupper() else "X" for t in r["tokens"]]}
        for r in make_tagged_rows(80, 4)
    ]
    write_jsonl(tmp_path / "pos" / "train.jsonl", rows)
    overrides = [
        *[o for o in tagging_overrides if not o.startswith(("data.path", "data.label_field"))],
        f"data.path={tmp_path / 'pos'}",
        "data.label_field=pos",
        "data.tag_scheme=null",
        "task.monitor=val/acc",
        "optimized_metric=val/acc_best",
    ]
    result = fit(compose(overrides))
    assert result.metrics["test/acc"] > 0.9 and "test/f1" not in result.metrics
