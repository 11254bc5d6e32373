"""End to end: train through the same function as ``wordlab-train`` and read MLflow back."""

import json
import re
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

import wordlab
from wordlab.config import compose
from wordlab.data import DataError
from wordlab.evaluate import evaluate
from wordlab.predictor import load_run
from wordlab.train import TRAINING_STATE, fit


def client_for(cfg) -> MlflowClient:
    return MlflowClient(cfg.logger.tracking_uri)


def artifact_paths(client: MlflowClient, run_id: str, path: str = "") -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def test_cnn_run_is_recorded_in_mlflow(train_overrides: list[str], isolated: Path) -> None:
    cfg = compose(train_overrides)
    result = fit(cfg)
    assert (
        Path(cfg.logger.tracking_uri.removeprefix("sqlite:///"))
        == isolated / "outputs" / "mlflow.db"
    )
    client = client_for(cfg)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name.startswith("cnn-tiny-random ") and " lr=0.01" in run.info.run_name
    assert client.get_experiment(run.info.experiment_id).name == "tiny"
    assert run.data.params["model.num_filters"] == "8"
    assert run.data.params["data.batch_size"] == "16"
    assert run.data.tags["dataset"] == "tiny" and run.data.tags["model"] == "CNNEncoder"
    assert "model.num_filters=8" in run.data.tags["overrides"]
    assert len(run.data.tags["data.fingerprint"]) == 16
    metrics = run.data.metrics
    assert metrics["test/acc"] >= 0.9  # one word decides the label
    assert metrics["val/acc_best"] >= metrics["val/acc"] - 1e-9
    assert {"test/f1_macro", "test/f1/positive", "train/loss_epoch", "data/vocab_size"} <= set(
        metrics
    )
    history = client.get_metric_history(result.run_id, "val/acc")
    assert len(history) == 3  # one per epoch
    artifacts = artifact_paths(client, result.run_id)
    assert {
        "config.yaml",
        "vocab.json",
        "labels.json",
        "test/per_class.csv",
        "test/confusion_matrix.png",
        "test/predictions.jsonl",
    } <= artifacts
    (logged,) = [a for a in artifacts if a.startswith("checkpoints/") and a.endswith(".ckpt")]
    # The logged model is the best checkpoint without its training state (the run folder keeps
    # the full file for resuming).
    model = torch.load(client.download_artifacts(result.run_id, logged), weights_only=True)
    full = torch.load(result.best_checkpoint, weights_only=True)
    assert "optimizer_states" in full and "optimizer_states" not in model
    assert Path(logged).name == Path(result.best_checkpoint).name
    for name, tensor in full["state_dict"].items():
        assert torch.equal(model["state_dict"][name], tensor)
        assert torch.equal(result.system.state_dict()[name].cpu(), tensor)
    predictions = Path(client.download_artifacts(result.run_id, "test/predictions.jsonl"))
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(rows) == 40 and set(rows[0]) == {
        "text",
        "gold",
        "predicted",
        "correct",
        "probabilities",
    }
    accuracy = sum(r["correct"] for r in rows) / len(rows)
    assert accuracy == pytest.approx(metrics["test/acc"])

    predictor = load_run(result.run_id, cfg.logger.tracking_uri)
    predicted = predictor.predict([r["text"] for r in rows])
    assert [p["label"] for p in predicted] == [r["predicted"] for r in rows]
    assert predictor.predict(["Awful awful awful."])[0]["label"] == "negative"
    assert sum(predicted[0]["probabilities"].values()) == pytest.approx(1.0)

    scores = evaluate(compose([f"run_id={result.run_id}"], config_name="eval"))
    assert scores["acc"] == pytest.approx(metrics["test/acc"])
    assert client.get_run(result.run_id).data.metrics["eval/test/acc"] == pytest.approx(
        scores["acc"]
    )


@pytest.mark.parametrize(
    ("overrides", "best_is_last"),
    [
        (["trainer.check_val_every_n_epoch=3"], True),  # one validation, after the last step
        (["callbacks.model_checkpoint.mode=min"], False),  # the first epoch's, as acc rises
    ],
)
def test_logged_model_has_the_best_weights(
    train_overrides: list[str], overrides: list[str], best_is_last: bool
) -> None:
    cfg = compose([*train_overrides, *overrides, "callbacks.early_stopping=null"])
    result = fit(cfg)
    full = torch.load(result.best_checkpoint, weights_only=True)
    assert (full["epoch"] == cfg.trainer.max_epochs - 1) is best_is_last
    client = client_for(cfg)
    (logged,) = [a for a in artifact_paths(client, result.run_id) if a.endswith(".ckpt")]
    model = torch.load(client.download_artifacts(result.run_id, logged), weights_only=True)
    assert model.keys() == full.keys() - set(TRAINING_STATE)
    assert model["state_dict"].keys() == full["state_dict"].keys()
    for name, tensor in full["state_dict"].items():
        assert torch.equal(model["state_dict"][name], tensor)
        assert torch.equal(result.system.state_dict()[name], tensor)


def test_same_seed_same_result(train_overrides: list[str]) -> None:
    first = fit(compose([*train_overrides, "trainer.max_epochs=1", "logger=none"]))
    second = fit(compose([*train_overrides, "trainer.max_epochs=1", "logger=none"]))
    assert first.metrics["test/loss"] == second.metrics["test/loss"]


@pytest.mark.parametrize("model", ["rnn", "bag"])
def test_other_models_learn(train_overrides: list[str], model: str) -> None:
    overrides = [o for o in train_overrides if not o.startswith("model.")]
    extra = (
        ["model.hidden_dim=16", "data.bucket=true"]
        if model == "rnn"
        else ["model.ngrams=2", "model.buckets=1000"]
    )
    result = fit(
        compose([*overrides, f"model={model}", *extra, "trainer.max_epochs=6", "logger=none"])
    )
    assert result.metrics["test/acc"] >= 0.8


def test_linear_decay_reaches_zero_at_the_last_step(train_overrides: list[str]) -> None:
    overrides = [o for o in train_overrides if not o.startswith(("model.", "system.optimizer"))]
    cfg = compose(
        [
            *overrides,
            "model=bag",
            "optimizer=sgd",
            "system.optimizer.lr=0.6",
            "scheduler=linear_decay",
        ]
    )
    result = fit(cfg)
    history = client_for(cfg).get_metric_history(result.run_id, "lr-SGD")
    # Logged at the start of each of the 3 epochs of equal length: 0.6, 0.4, 0.2.
    assert [round(m.value, 6) for m in sorted(history, key=lambda m: m.step)] == [0.6, 0.4, 0.2]


def test_bad_input_marks_the_run_failed(train_overrides: list[str]) -> None:
    cfg = compose([*train_overrides, "data.text_field=review"])
    with pytest.raises(DataError, match=r"no column 'review' \(data.text_field\)"):
        fit(cfg)
    client = client_for(cfg)
    [experiment] = [e for e in client.search_experiments() if e.name == "tiny"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"
    assert "no column 'review'" in run.data.tags["error"]
    assert "error.txt" in artifact_paths(client, run.info.run_id)


def test_evaluate_on_other_files(train_overrides: list[str], tmp_path: Path) -> None:
    from conftest import make_rows, write_jsonl

    cfg = compose(train_overrides)
    run_id = fit(cfg).run_id
    other = write_jsonl(tmp_path / "other" / "test.jsonl", make_rows(20, 11))
    scores = evaluate(
        compose([f"run_id={run_id}", f"data.path={other.parent}"], config_name="eval")
    )
    assert scores["size"] == 20 and scores["acc"] >= 0.8
    assert "eval/other-test/acc" in client_for(cfg).get_run(run_id).data.metrics
    # Names become folder names: none may lead out of the eval folder.
    for override, message in (
        ("data.name=../../../escape", "data.name='../../../escape-test' cannot name a folder"),
        ("split=../../escape", "split='../../escape': expected one of train, validation, test"),
    ):
        eval_cfg = compose([f"run_id={run_id}", f"data.path={other.parent}", override], "eval")
        with pytest.raises(ValueError, match=re.escape(message)):
            evaluate(eval_cfg)
    assert not list(tmp_path.rglob("escape*"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.max_epochs=abc", "trainer.max_epochs='abc': expected int or null"),
        ("data.batch_size=0", "data.batch_size=0: expected at least 1"),
        ("data.max_length=0", "data.max_length=0: expected at least 1"),
        ("data.test_fraction=1.5", "data.test_fraction=1.5: expected a fraction between 0 and 1"),
        ("model.dropout=high", "model.dropout='high': expected float"),
        ("+tags.wordlab.run_dir=/elsewhere", "tags.wordlab.run_dir: this tag is wordlab's own"),
        ("+tags={mlflow.user: me}", "tags.mlflow.user: this tag is wordlab's own"),
    ],
)
def test_bad_options_stop_before_any_data_or_run(
    train_overrides: list[str], isolated: Path, override: str, message: str
) -> None:
    # (a ValueError; Hydra wraps those of a constructor in its InstantiationException)
    with pytest.raises(Exception, match=re.escape(message)):
        fit(compose([*train_overrides, override]))
    assert not (isolated / "outputs").exists()  # no prepared data, store or run folder


def test_user_tags_are_kept_beside_wordlab_own(train_overrides: list[str]) -> None:
    cfg = compose([*train_overrides, "+tags.purpose=baseline", "+tags.mlflow.note.content=why"])
    run = client_for(cfg).get_run(fit(cfg).run_id)
    assert run.data.tags["purpose"] == "baseline" and run.data.tags["mlflow.note.content"] == "why"


def test_word2vec_multichannel_run(train_overrides: list[str]) -> None:
    overrides = [
        *train_overrides,
        "embedding=word2vec",
        "embedding.embedding_dim=16",
        "embedding.epochs=3",
        "embedding.multichannel=true",
        "trainer.max_epochs=2",
    ]
    cfg = compose(overrides)
    result = fit(cfg)
    client = client_for(cfg)
    run = client.get_run(result.run_id)
    assert run.info.run_name.startswith("cnn-tiny-word2vec ")  # and what the overrides change
    metrics = run.data.metrics
    assert metrics["embedding/vocab_coverage"] == 1.0 and metrics["embedding/cache_hit"] == 0.0
    assert metrics["embedding/word2vec_words_per_second"] > 0
    assert len(client.get_metric_history(result.run_id, "embedding/drift")) == 2
    assert {"embeddings/neighbours.txt", "embeddings/word2vec.bin"} <= artifact_paths(
        client, result.run_id
    )
    predictor = load_run(result.run_id, cfg.logger.tracking_uri)
    assert predictor.system.embedder.static_embedding is not None
    assert len(predictor.predict(["a superb plot"])) == 1
    trained = wordlab.vectors(result.run_id, tracking_uri=cfg.logger.tracking_uri)
    initial = wordlab.vectors(result.run_id, "initial", tracking_uri=cfg.logger.tracking_uri)
    assert len(trained) == len(predictor.vocab) and trained.vector_size == 16
    assert "superb" in initial.key_to_index and "<pad>" not in initial.key_to_index
    moved = trained["superb"] - initial["superb"]  # fine-tuning moved the vector
    assert float((moved**2).sum()) > 0
    assert "embedding/wordsim353" not in metrics  # no pair of the test in this tiny vocabulary

    again = fit(compose([*overrides, "embedding.freeze=true", "embedding.multichannel=false"]))
    repeat = client.get_run(again.run_id).data.metrics
    assert repeat["embedding/cache_hit"] == 1.0
    assert "embedding/drift" not in repeat  # static: nothing moves


def test_debug_preset_runs_a_few_batches(train_overrides: list[str]) -> None:
    result = fit(compose([*train_overrides, "debug=default", "data.eval_batch_size=4"]))
    client = client_for(compose(train_overrides))
    predictions = Path(client.download_artifacts(result.run_id, "test/predictions.jsonl"))
    assert len(predictions.read_text().splitlines()) == 8  # limit_test_batches=2 of 4 rows
    assert client.get_run(result.run_id).info.status == "FINISHED"
