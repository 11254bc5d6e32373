"""``wordlab-train``: compose a run from config, train, test the best checkpoint, log to MLflow.

Heavy libraries are imported inside functions, so ``--help`` and config errors stay instant.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from wordlab.config import config_dir, register_resolvers

if TYPE_CHECKING:
    import pytorch_lightning as pl

    from wordlab.data import TextDataModule
    from wordlab.embeddings import InitialEmbeddings
    from wordlab.systems import TextClassifier
    from wordlab.tracking.mlflow_run import RunRecorder

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished run gives back: its MLflow run id (None without MLflow) and objects."""

    run_id: str | None
    metrics: dict[str, float]
    system: TextClassifier
    datamodule: TextDataModule
    run_dir: Path
    best_checkpoint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build(cfg: DictConfig) -> tuple[TextDataModule, InitialEmbeddings, TextClassifier]:
    """Prepare the data, then build embeddings, encoder and system from the config groups."""
    from hydra.utils import instantiate

    datamodule = instantiate(cfg.data)
    datamodule.prepare()
    embeddings = instantiate(cfg.embedding)(vocab=datamodule.vocab, source=datamodule)
    encoder = instantiate(cfg.model, input_dim=embeddings.output_dim)
    datamodule.layout = encoder.input_layout
    system = instantiate(
        cfg.system, encoder=encoder, embeddings=embeddings, label_names=datamodule.label_names
    )
    system.run_metadata = {
        "config": OmegaConf.to_container(cfg, resolve=True),
        "vocab": datamodule.vocab.tokens,
        "label_names": datamodule.label_names,
    }
    return datamodule, embeddings, system


def _callbacks(cfg: DictConfig, has_logger: bool) -> list[pl.Callback]:
    from hydra.utils import instantiate
    from pytorch_lightning.callbacks import LearningRateMonitor

    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    if not has_logger:  # a learning-rate monitor refuses to run without a logger
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    return callbacks


def _overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def fit(cfg: DictConfig) -> TrainResult:
    """Train and test one run described by a composed config (CLI and notebooks alike)."""
    import pytorch_lightning as pl
    from hydra.utils import instantiate
    from pytorch_lightning.loggers import MLFlowLogger

    from wordlab.tracking.mlflow_run import RunRecorder, flatten, git_tags

    run_dir = Path(cfg.paths.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    pl.seed_everything(cfg.seed, workers=True)

    logger = instantiate(cfg.logger) if cfg.get("logger") else None
    recorder = None
    if isinstance(logger, MLFlowLogger):
        recorder = RunRecorder(logger.experiment, str(logger.run_id))
        resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
        recorder.log_params(flatten(resolved))
        recorder.set_tags(
            {
                **git_tags(Path(__file__).parent),
                "overrides": " ".join(_overrides()),
                "task": cfg.get("task_name", "train"),
                "dataset": cfg.data.get("name"),
                "model": type_name(cfg.model),
                **(cfg.get("tags") or {}),
            }
        )
        recorder.log_artifacts([run_dir / "config.yaml"])
        log.info("MLflow run %s in %s", logger.run_id, cfg.logger.tracking_uri)
    try:
        return _fit(cfg, logger, recorder, run_dir)
    except BaseException as error:
        if recorder is not None:
            recorder.fail(error, run_dir)
        raise


def type_name(node: DictConfig) -> str:
    """``wordlab.models.CNNEncoder`` -> ``CNNEncoder``."""
    return str(node.get("_target_", "")).rsplit(".", 1)[-1]


def _fit(cfg: DictConfig, logger: Any, recorder: RunRecorder | None, run_dir: Path) -> TrainResult:
    from hydra.utils import instantiate

    datamodule, embeddings, system = build(cfg)
    log.info("data %s: %s", datamodule.name, datamodule.stats)
    if recorder is not None:
        recorder.set_tags({"data.fingerprint": datamodule.fingerprint})
        recorder.log_metrics({f"data/{k}": v for k, v in datamodule.stats.items()})
        recorder.log_metrics(embeddings.metrics)
        recorder.log_artifacts(embeddings.artifacts, "embeddings")
        assert datamodule.vocab is not None
        datamodule.vocab.save(run_dir / "vocab.json")
        (run_dir / "labels.json").write_text(json.dumps(datamodule.label_names))
        recorder.log_artifacts([run_dir / "vocab.json", run_dir / "labels.json"])

    callbacks = _callbacks(cfg, has_logger=logger is not None)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=logger or False)
    trainer.fit(system, datamodule=datamodule)

    checkpoint = trainer.checkpoint_callback
    best = getattr(checkpoint, "best_model_path", "") or None
    trainer.test(system, datamodule=datamodule, ckpt_path=best)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if recorder is not None:
        _log_test_report(system, datamodule, recorder, run_dir)
        if best:
            recorder.log_artifacts([Path(best)], "checkpoints")
        recorder.finish()
    return TrainResult(
        run_id=recorder.run_id if recorder else None,
        metrics=metrics,
        system=system,
        datamodule=datamodule,
        run_dir=run_dir,
        best_checkpoint=best,
    )


def _log_test_report(
    system: TextClassifier, datamodule: TextDataModule, recorder: RunRecorder, run_dir: Path
) -> None:
    from wordlab.tracking import reports

    report = system.test_report()
    names = datamodule.label_names
    folder = run_dir / "test"
    folder.mkdir(exist_ok=True)
    table = reports.per_class_scores(report["confusion"], names)
    table.to_csv(folder / "per_class.csv", index=False)
    reports.confusion_figure(report["confusion"], names, folder / "confusion_matrix.png")
    order = report["indices"].argsort()
    texts = datamodule.texts("test")
    gold = datamodule.split("test").labels.tolist()
    reports.write_predictions(
        folder / "predictions.jsonl", texts, gold, report["probabilities"][order], names
    )
    recorder.log_metrics({f"test/f1/{row.label}": row.f1 for row in table.itertuples()})
    recorder.log_artifacts([folder], "test")


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def _main(cfg: DictConfig) -> float | None:
    result = fit(cfg)
    metric = cfg.get("optimized_metric")
    return result.metrics.get(metric) if metric else None


def main() -> None:
    """Console entry point of ``wordlab-train``."""
    register_resolvers()
    _main()


if __name__ == "__main__":
    main()
