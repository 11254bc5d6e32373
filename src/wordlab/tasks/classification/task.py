"""Text classification as a task: how a run builds, reports, evaluates and predicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.embedder import saved_embeddings
from wordlab.rebuild import rebuild
from wordlab.tasks.classification import reports
from wordlab.tasks.classification.predictor import TextPredictor
from wordlab.tasks.classification.system import TextClassifier

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from wordlab.data import TextDataModule


def build_system(
    cfg: DictConfig, datamodule: TextDataModule, embeddings: InitialEmbeddings
) -> TextClassifier:
    from hydra.utils import instantiate  # only here: loading a run needs no Hydra

    encoder = instantiate(cfg.model, input_dim=embeddings.output_dim)
    datamodule.layout = encoder.input_layout
    return instantiate(
        cfg.system, encoder=encoder, embeddings=embeddings, label_names=datamodule.label_names
    )


def load_predictor(checkpoint: dict[str, Any], source: str, run_id: str | None) -> TextPredictor:
    meta, state = checkpoint["wordlab"], checkpoint["state_dict"]
    config = meta["config"]
    embeddings = saved_embeddings(state)
    encoder = rebuild(config, "model", source, input_dim=embeddings.output_dim)
    system = rebuild(
        config,
        "system",
        source,
        encoder=encoder,
        embeddings=embeddings,
        label_names=meta["label_names"],
    )
    system.load_state_dict(state)
    system.run_metadata = meta
    return TextPredictor(system, Vocabulary(meta["vocab"]), meta["label_names"], config, run_id)


def predictor(system: TextClassifier, datamodule: TextDataModule, run_id: str | None) -> Any:
    config = system.run_metadata.get("config", {})
    assert datamodule.vocab is not None
    return TextPredictor(system, datamodule.vocab, system.label_names, config, run_id)


def eval_data_options(predictor: TextPredictor) -> dict[str, Any]:
    return {"vocab": predictor.vocab, "classes": predictor.label_names}


def write_test_report(
    system: TextClassifier, datamodule: TextDataModule, folder: Path
) -> dict[str, float]:
    """Per-class scores, the confusion matrix and every test prediction, into ``folder``."""
    report = system.test_report()
    names = datamodule.label_names
    table = reports.per_class_scores(report["confusion"], names)
    table.to_csv(folder / "per_class.csv", index=False)
    reports.confusion_figure(report["confusion"], names, folder / "confusion_matrix.png")
    order = report["indices"].argsort()
    tested = report["indices"][order]  # every test row, or fewer with trainer.limit_test_batches
    all_texts = datamodule.texts("test")
    texts = [all_texts[i] for i in tested.tolist()]
    gold = datamodule.split("test").labels[tested].tolist()
    reports.write_predictions(
        folder / "predictions.jsonl", texts, gold, report["probabilities"][order], names
    )
    return {f"test/f1/{row.label}": row.f1 for row in table.itertuples()}


def score(
    predictor: TextPredictor, datamodule: TextDataModule, split: str, batch_size: int = 256
) -> dict[str, Any]:
    """Confusion matrix, probabilities and gold labels of ``predictor`` on a split."""
    from torchmetrics.functional.classification import multiclass_confusion_matrix

    datamodule.layout = predictor.system.input_layout
    datamodule.eval_batch_size = batch_size
    system = predictor.system
    probabilities, gold = [], []
    with torch.no_grad():
        for batch in datamodule.dataloader(split):
            batch = {k: v.to(system.device) for k, v in batch.items()}
            probabilities.append(system(batch).softmax(-1).float().cpu())
            gold.append(batch["label"].cpu())
    probs, labels = torch.cat(probabilities), torch.cat(gold)
    confusion = multiclass_confusion_matrix(
        probs.argmax(1), labels, num_classes=len(predictor.label_names)
    )
    return {"confusion": confusion, "probabilities": probs, "labels": labels}


def evaluate(
    predictor: TextPredictor,
    datamodule: TextDataModule,
    split: str,
    folder: Path,
    batch_size: int,
    explain: int = 0,
) -> tuple[dict[str, float], str]:
    """Accuracy, macro F1, per-class table, confusion matrix and predictions of a split, and
    with ``explain`` a page explaining that many examples, the most confidently wrong first."""
    result = score(predictor, datamodule, split, batch_size)
    names = predictor.label_names
    table = reports.per_class_scores(result["confusion"], names)
    confusion = result["confusion"]
    metrics = {
        "acc": float(confusion.diagonal().sum() / confusion.sum()),
        "f1_macro": float(table["f1"].mean()),
        "size": float(confusion.sum()),
    }
    table.to_csv(folder / "per_class.csv", index=False)
    reports.confusion_figure(confusion, names, folder / "confusion_matrix.png")
    texts = datamodule.texts(split)
    reports.write_predictions(
        folder / "predictions.jsonl",
        texts,
        result["labels"].tolist(),
        result["probabilities"],
        names,
    )
    if explain:
        write_explanations(predictor, texts, result, explain, folder / "explanations.html")
    return metrics, table.to_string(index=False)


def write_explanations(
    predictor: TextPredictor, texts: list[str], result: dict[str, Any], count: int, path: Path
) -> Path:
    """Explain ``count`` examples, the most confidently wrong first, into an HTML page."""
    from wordlab.attribution import explain, select_examples

    rows = select_examples(result["probabilities"], result["labels"], count)
    names = predictor.label_names
    explanations = explain(
        predictor,
        [texts[i] for i in rows],
        gold=[names[int(result["labels"][i])] for i in rows],
    )
    title = f"run {predictor.run_id}: {len(rows)} examples, most confidently wrong first"
    return explanations.save_html(path, title)


def predict_rows(
    predictor: TextPredictor,
    rows: Sequence[dict[str, Any]],
    field: str,
    batch_size: int,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each row with ``prediction`` and ``probabilities`` added."""
    results = predictor.predict([r[field] for r in rows], batch_size)
    return [
        {**row, "prediction": result["label"], "probabilities": result["probabilities"]}
        for row, result in zip(rows, results, strict=True)
    ]
