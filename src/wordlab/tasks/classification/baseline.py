"""``wordlab-baseline``: TF-IDF (word 1-2 grams) + logistic regression, the baseline a reviewer
asks for first, on the same splits and tokens as the neural runs and logged to MLflow the same
way (parameters, test/acc, test/f1_macro, per-class scores, confusion matrix, predictions).

    wordlab-baseline data=local data.path=../shared/data/mr/split_seed13
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from wordlab.config import config_dir, register_resolvers
from wordlab.signals import run_until_stopped

if TYPE_CHECKING:
    from wordlab.tracking.mlflow_run import RunRecorder

log = logging.getLogger(__name__)


def fit_baseline(cfg: DictConfig) -> dict[str, float]:
    """Fit TF-IDF + logistic regression, picking C on the validation split; test; log.

    With a logger, the MLflow run opens first (config as parameters) and is marked FAILED, with
    the error, if anything goes wrong, as for training runs.
    """
    run_dir = Path(cfg.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    recorder = _start_record(cfg) if cfg.get("logger") else None
    try:
        metrics, folder = _fit(cfg, run_dir)
    except BaseException as error:
        if recorder is not None:
            recorder.fail(error, run_dir)
        raise
    if recorder is not None:
        from wordlab.tracking.store import TEST_REPORTS

        recorder.log_metrics(metrics)
        recorder.log_artifacts([folder], TEST_REPORTS)
        recorder.finish()
    log.info("baseline on %s: %s", cfg.data.name, metrics)
    print(metrics)
    return metrics


def _fit(cfg: DictConfig, run_dir: Path) -> tuple[dict[str, float], Path]:
    import numpy as np
    import torch
    from hydra.utils import instantiate
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from wordlab.tasks.classification import reports

    data = instantiate(cfg.data)
    data.prepare()
    texts = {s: list(data.texts(s)) for s in ("train", "validation", "test")}
    labels = {s: data.split(s).labels.numpy() for s in texts}
    options = cfg.model
    low, high = options.ngram_range
    vectorizer = TfidfVectorizer(
        analyzer=_NgramAnalyzer(data.tokenizer, low, high),
        min_df=options.min_df,
        sublinear_tf=options.sublinear_tf,
    )
    features = {"train": vectorizer.fit_transform(texts["train"])}
    features |= {s: vectorizer.transform(texts[s]) for s in ("validation", "test")}
    scores = {}
    for c in options.C:
        model = LogisticRegression(C=c, max_iter=options.max_iter)
        model.fit(features["train"], labels["train"])
        scores[c] = float((model.predict(features["validation"]) == labels["validation"]).mean())
    best_c = max(scores, key=lambda c: (scores[c], -c))
    model = LogisticRegression(C=best_c, max_iter=options.max_iter)
    model.fit(features["train"], labels["train"])
    probabilities = torch.from_numpy(model.predict_proba(features["test"])).float()
    predicted = probabilities.argmax(1).numpy()
    names = data.label_names
    confusion = torch.from_numpy(
        np.bincount(labels["test"] * len(names) + predicted, minlength=len(names) ** 2).reshape(
            len(names), len(names)
        )
    )
    table = reports.per_class_scores(confusion, names)
    metrics = {
        "test/acc": float((predicted == labels["test"]).mean()),
        "test/f1_macro": float(table["f1"].mean()),
        "val/acc_best": scores[best_c],
        "model/C": float(best_c),
        "model/features": float(len(vectorizer.vocabulary_)),
    }
    folder = run_dir / "test"
    folder.mkdir(exist_ok=True)
    table.to_csv(folder / "per_class.csv", index=False)
    reports.confusion_figure(confusion, names, folder / "confusion_matrix.png")
    reports.write_predictions(
        folder / "predictions.jsonl", texts["test"], labels["test"].tolist(), probabilities, names
    )
    return metrics | {f"test/f1/{r.label}": r.f1 for r in table.itertuples()}, folder


class _NgramAnalyzer:
    """Word n-grams of the run's own tokens (picklable, unlike a closure)."""

    def __init__(self, tokenize: Any, low: int, high: int) -> None:
        self.tokenize, self.low, self.high = tokenize, low, high

    def __call__(self, text: str) -> list[str]:
        tokens = self.tokenize(text)
        return [
            " ".join(tokens[i : i + n])
            for n in range(self.low, self.high + 1)
            for i in range(len(tokens) - n + 1)
        ]


def _start_record(cfg: DictConfig) -> RunRecorder:
    from wordlab.tracking.mark_killed import process_tags
    from wordlab.tracking.mlflow_run import check_user_tags, flatten, open_run
    from wordlab.tracking.sweeps import current_job

    check_user_tags(flatten(cfg.tags or {}))
    job = current_job()  # in a multirun: a child of the sweep's parent run
    tags = {
        **flatten(cfg.tags or {}),
        "task": "classification",
        "command": "baseline",
        "dataset": cfg.data.name,
        "model": "tfidf_lr",
    }
    tags |= process_tags() | (job.tags if job else {})
    recorder = open_run(
        cfg.logger.tracking_uri,
        job.experiment_name if job else cfg.logger.experiment_name,
        f"{cfg.run_name} {job.label}" if job else cfg.run_name,
        tags,
        cfg.logger.get("artifact_location"),
    )
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    recorder.log_params(flatten(resolved))
    return recorder


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="baseline")
def _main(cfg: DictConfig) -> None:
    from wordlab.console import quiet_terminal

    quiet_terminal(bool(cfg.get("verbose")))
    fit_baseline(cfg)


def main() -> None:
    """Console entry point of ``wordlab-baseline``."""
    register_resolvers()
    run_until_stopped(_main)


if __name__ == "__main__":
    main()
