"""``wordlab-eval``: score a finished run on a split of its data or on other data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from wordlab.config import child_path, config_dir, dataset_name, register_resolvers

if TYPE_CHECKING:
    from wordlab.data import TextDataModule
    from wordlab.predictor import Predictor

log = logging.getLogger(__name__)


def score(
    predictor: Predictor, datamodule: TextDataModule, split: str, batch_size: int = 256
) -> dict[str, Any]:
    """Accuracy, macro F1, confusion matrix and probabilities of ``predictor`` on a split."""
    import torch
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


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Score the run ``cfg.run_id`` on ``cfg.split``; write and optionally log reports."""
    from mlflow.tracking import MlflowClient

    from wordlab.data.datamodule import SPLITS
    from wordlab.predictor import load_run
    from wordlab.rebuild import rebuild
    from wordlab.tracking import reports
    from wordlab.tracking.mlflow_run import RunRecorder
    from wordlab.tracking.store import EVAL_REPORTS

    if cfg.split not in SPLITS:
        raise ValueError(f"split={cfg.split!r}: expected one of {', '.join(SPLITS)}")
    explain_count = _explain_count(cfg)
    predictor = load_run(cfg.run_id, cfg.tracking_uri)
    data_overrides: dict[str, Any] = OmegaConf.to_container(cfg.data, resolve=True)  # type: ignore[assignment]
    overrides = {k: v for k, v in data_overrides.items() if v is not None}
    if "path" in overrides:
        overrides.setdefault("name", dataset_name(overrides["path"]))
    # The cache is this machine's, not the folder the run was trained with.
    data_cfg = {**predictor.config["data"], **overrides, "cache_dir": cfg.paths.cache_dir}
    datamodule = rebuild(
        {"data": data_cfg},
        "data",
        f"the config of run {cfg.run_id}",
        vocab=predictor.vocab,
        classes=predictor.label_names,
    )
    datamodule.prepare()
    result = score(predictor, datamodule, cfg.split, cfg.batch_size)
    table = reports.per_class_scores(result["confusion"], predictor.label_names)
    confusion = result["confusion"]
    metrics = {
        "acc": float(confusion.diagonal().sum() / confusion.sum()),
        "f1_macro": float(table["f1"].mean()),
        "size": float(confusion.sum()),
    }
    name = cfg.split if "path" not in overrides else f"{datamodule.name}-{cfg.split}"
    folder = child_path(Path(cfg.paths.run_dir) / EVAL_REPORTS, name, "data.name")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    table.to_csv(folder / "per_class.csv", index=False)
    reports.confusion_figure(confusion, predictor.label_names, folder / "confusion_matrix.png")
    texts = datamodule.texts(cfg.split)
    reports.write_predictions(
        folder / "predictions.jsonl",
        texts,
        result["labels"].tolist(),
        result["probabilities"],
        predictor.label_names,
    )
    if explain_count:
        page = folder / "explanations.html"
        write_explanations(predictor, texts, result, explain_count, page)
        log.info("explanations of %d examples in %s", explain_count, page)
    if cfg.log_to_run:
        recorder = RunRecorder(MlflowClient(cfg.tracking_uri), cfg.run_id)
        recorder.log_metrics({f"eval/{name}/{k}": v for k, v in metrics.items()})
        recorder.log_artifacts([folder], f"{EVAL_REPORTS}/{name}")
    print(f"run {cfg.run_id} on {datamodule.name} split {cfg.split}:")
    print(table.to_string(index=False))
    print(json.dumps(metrics))
    return metrics


def _explain_count(cfg: DictConfig) -> int:
    """The ``explain`` option, checked before any work (and Captum with it)."""
    count = cfg.get("explain") or 0
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"explain must be a number of examples (explain=N), got {count!r}")
    if count:
        from wordlab.attribution import require_captum

        require_captum("explain=N")
    return count


def write_explanations(
    predictor: Predictor, texts: list[str], result: dict[str, Any], count: int, path: Path
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


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="eval")
def _main(cfg: DictConfig) -> None:
    evaluate(cfg)


def main() -> None:
    """Console entry point of ``wordlab-eval``."""
    register_resolvers()
    _main()


if __name__ == "__main__":
    main()
