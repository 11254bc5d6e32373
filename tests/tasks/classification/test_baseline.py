from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from wordlab.config import compose
from wordlab.tasks.classification.baseline import fit_baseline


def test_tfidf_baseline_is_logged_like_a_run(tiny_corpus: Path) -> None:
    cfg = compose(["data=local", f"data.path={tiny_corpus}"], config_name="baseline")
    metrics = fit_baseline(cfg)
    assert metrics["test/acc"] >= 0.9  # one word decides the label
    client = MlflowClient(cfg.logger.tracking_uri)
    [run] = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.run_name == "tfidf_lr-tiny" and run.info.status == "FINISHED"
    assert run.data.metrics["test/acc"] == metrics["test/acc"]
    assert run.data.params["model.ngram_range"] == "[1, 2]"
    assert {a.path for a in client.list_artifacts(run.info.run_id, "test")} == {
        "test/per_class.csv",
        "test/confusion_matrix.png",
        "test/predictions.jsonl",
    }


def test_a_failed_baseline_is_a_failed_run_with_its_error(tiny_corpus: Path) -> None:
    (tiny_corpus / "test.jsonl").write_text("")  # an empty split
    cfg = compose(["data=local", f"data.path={tiny_corpus}"], config_name="baseline")
    with pytest.raises(ValueError, match="test") as raised:
        fit_baseline(cfg)
    client = MlflowClient(cfg.logger.tracking_uri)
    [run] = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.status == "FAILED"
    assert str(raised.value) in run.data.tags["error"]
    assert run.data.params["data.path"] == str(tiny_corpus)
