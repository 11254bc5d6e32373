"""Sequence labelling as a task: how a run builds, reports, evaluates and predicts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.embedder import saved_embeddings
from wordlab.rebuild import rebuild
from wordlab.tasks.tagging import reports, schemes
from wordlab.tasks.tagging.metrics import ALL, span_scores
from wordlab.tasks.tagging.predictor import TaggerPredictor
from wordlab.tasks.tagging.system import SequenceTagger, char_features

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from wordlab.tasks.tagging.data import TaggingDataModule


def _metadata(datamodule: TaggingDataModule) -> dict[str, Any]:
    return {
        "chars": datamodule.chars,
        "tag_scheme": datamodule.tag_scheme,
        "source_scheme": datamodule.source_scheme,
    }


def build_system(
    cfg: DictConfig, datamodule: TaggingDataModule, embeddings: InitialEmbeddings
) -> SequenceTagger:
    from hydra.utils import instantiate  # only here: loading a run needs no Hydra

    if not hasattr(datamodule, "chars"):
        raise ValueError(
            "task=tagging reads tokens and tags per token: data._target_ must be "
            "wordlab.tasks.tagging.TaggingDataModule (the tagging task sets it)"
        )
    assert datamodule.chars is not None
    extra = char_features(cfg.system.get("chars"), cfg.system.get("char_options"))
    encoder = instantiate(cfg.model, input_dim=embeddings.output_dim + extra)
    system = instantiate(
        cfg.system,
        encoder=encoder,
        embeddings=embeddings,
        tag_names=datamodule.label_names,
        num_chars=len(datamodule.chars) + 2,
        tag_scheme=datamodule.tag_scheme,
    )
    system.run_metadata = _metadata(datamodule)
    return system


def load_predictor(checkpoint: dict[str, Any], source: str, run_id: str | None) -> TaggerPredictor:
    meta, state = checkpoint["wordlab"], checkpoint["state_dict"]
    config = meta["config"]
    embeddings = saved_embeddings(state)
    system_cfg = config.get("system", {})
    extra = char_features(system_cfg.get("chars"), system_cfg.get("char_options"))
    encoder = rebuild(config, "model", source, input_dim=embeddings.output_dim + extra)
    system = rebuild(
        config,
        "system",
        source,
        encoder=encoder,
        embeddings=embeddings,
        tag_names=meta["label_names"],
        num_chars=len(meta["chars"]) + 2,
        tag_scheme=meta["tag_scheme"],
    )
    system.load_state_dict(state)
    system.run_metadata = meta
    return TaggerPredictor(system, Vocabulary(meta["vocab"]), meta, config, run_id)


def predictor(system: SequenceTagger, datamodule: TaggingDataModule, run_id: str | None) -> Any:
    assert datamodule.vocab is not None
    meta = {"label_names": datamodule.label_names, **_metadata(datamodule)}
    return TaggerPredictor(system, datamodule.vocab, meta, system.run_metadata["config"], run_id)


def eval_data_options(predictor: TaggerPredictor) -> dict[str, Any]:
    return {"vocab": predictor.vocab, "classes": predictor.tag_names, "chars": predictor.chars}


def write_reports(
    folder: Path,
    datamodule: TaggingDataModule,
    split: str,
    rows: Sequence[int],
    predicted: Sequence[Sequence[str]],
) -> dict[str, float]:
    """Span scores per type, entity-type confusions, seen/unseen scores and the predictions in
    CoNLL format (in the corpus's scheme) for the sentences ``rows`` of ``split``."""
    all_tokens, all_gold = datamodule.tokens(split), datamodule.tags(split)
    tokens = [all_tokens[i] for i in rows]
    gold = [all_gold[i] for i in rows]
    right = sum(
        p == g for ps, gs in zip(predicted, gold, strict=True) for p, g in zip(ps, gs, strict=True)
    )
    metrics = {"acc": right / max(sum(len(g) for g in gold), 1), "size": float(len(rows))}
    scheme = datamodule.tag_scheme
    source = datamodule.source_scheme if scheme else None
    if scheme is not None:
        metrics |= {k: span_scores(gold, predicted)[ALL][k] for k in ("precision", "recall", "f1")}
        table = reports.per_type_table(gold, predicted, scheme)
        table.to_csv(folder / "per_type.csv", index=False)
        confusion = reports.span_confusion(gold, predicted, scheme)
        confusion.to_csv(folder / "span_confusion.csv")
        reports.confusion_figure(confusion, folder / "span_confusion.png")
        metrics |= {f"f1/{r.type}": r.f1 for r in table.itertuples() if r.type != "micro"}
        if split != "train" and "train" in (datamodule.splits or {}):
            seen = reports.seen_unseen_table(
                datamodule.tokens("train"),
                datamodule.tags("train"),
                tokens,
                gold,
                predicted,
                scheme,
            )
            seen.to_csv(folder / "seen_unseen.csv")
            metrics |= {f"f1_{name}": float(seen.loc[name, "f1"]) for name in seen.index}
    if scheme and source and source != scheme:  # written back as the corpus wrote them
        gold = [schemes.convert(g, scheme, source)[0] for g in gold]
        predicted = [schemes.convert(p, scheme, source)[0] for p in predicted]
    reports.write_conll(folder / "predictions.conll", tokens, gold, predicted)
    return metrics


def write_test_report(
    system: SequenceTagger, datamodule: TaggingDataModule, folder: Path
) -> dict[str, float]:
    tested = system.test_report()
    names = system.tag_names
    predicted = [[names[i] for i in path] for _, path in tested]
    metrics = write_reports(folder, datamodule, "test", [i for i, _ in tested], predicted)
    return {f"test/{k}": v for k, v in metrics.items() if "/" in k or k.startswith("f1_")}


def evaluate(
    predictor: TaggerPredictor,
    datamodule: TaggingDataModule,
    split: str,
    folder: Path,
    batch_size: int,
    explain: int = 0,
) -> tuple[dict[str, float], str]:
    if explain:
        raise ValueError("explain=N attributes a classifier's predictions; this run is a tagger")
    datamodule.layout = "padded"
    datamodule.eval_batch_size = batch_size
    system = predictor.system
    rows: list[int] = []
    predicted: list[list[str]] = []
    with torch.no_grad():
        for batch in datamodule.dataloader(split):
            batch = {k: v.to(system.device) for k, v in batch.items()}
            paths = system.decode(system(batch), batch["input_ids"] != 0)
            rows.extend(batch["index"].tolist())
            predicted.extend([predictor.tag_names[i] for i in path] for path in paths)
    metrics = write_reports(folder, datamodule, split, rows, predicted)
    table = folder / "per_type.csv"
    shown = table.read_text() if table.exists() else json.dumps(metrics)
    return metrics, shown


def predict_rows(
    predictor: TaggerPredictor,
    rows: Sequence[dict[str, Any]],
    field: str,
    batch_size: int,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each row with ``tokens``, ``tags`` and ``spans`` added (a raw text or a token list in)."""
    for number, row in enumerate(rows, start=1):
        value = row[field]
        if not isinstance(value, str) and not (
            isinstance(value, list) and value and all(isinstance(w, str) for w in value)
        ):
            raise DataError(f"row {number}: field {field!r} must be a text or a list of tokens")
    results = predictor.predict([r[field] for r in rows], batch_size)
    return [{**row, **result} for row, result in zip(rows, results, strict=True)]
