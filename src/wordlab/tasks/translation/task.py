"""Translation as a task: how a run builds, reports, evaluates and predicts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from wordlab.data.errors import DataError
from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models.embedder import saved_embeddings
from wordlab.rebuild import rebuild
from wordlab.tasks.translation import metrics
from wordlab.tasks.translation.data import EOS, PairDataModule
from wordlab.tasks.translation.predictor import TranslationPredictor
from wordlab.tasks.translation.system import Translator

if TYPE_CHECKING:
    from omegaconf import DictConfig

# Test sentences whose attention maps a run keeps (the first ones of the test split).
ATTENTION_EXAMPLES = 4


def build_system(
    cfg: DictConfig, datamodule: PairDataModule, embeddings: InitialEmbeddings
) -> Translator:
    from hydra.utils import instantiate  # only here: loading a run needs no Hydra

    if not str(cfg.model.get("_target_")).endswith("RNNEncoder"):
        raise ValueError(
            "task=translation reads the source with a recurrent encoder: add model=rnn "
            f"(not {cfg.model.get('_target_')})"
        )
    if not isinstance(datamodule, PairDataModule):
        raise ValueError(
            "task=translation reads pairs of texts: data._target_ must be "
            "wordlab.tasks.translation.PairDataModule (the translation task sets it)"
        )
    assert datamodule.vocab is not None and datamodule.target_vocab is not None
    target = None  # one vocabulary: one table for both sides
    if datamodule.target_vocab is not datamodule.vocab:
        target = target_embeddings(cfg, datamodule)
        embeddings.metrics |= target.metrics
        embeddings.artifacts += target.artifacts
    encoder = instantiate(cfg.model, input_dim=embeddings.output_dim)
    system = instantiate(
        cfg.system,
        encoder=encoder,
        embeddings=embeddings,
        target_embeddings=target,
        target_vocab=datamodule.target_vocab.tokens,
        vocab=datamodule.vocab.tokens,
        target_tokenizer=datamodule.target_tokenizer,
        target_language=datamodule.target_language,
    )
    system.run_metadata = {"target_vocab": datamodule.target_vocab.tokens}
    return system


def target_embeddings(cfg: DictConfig, datamodule: PairDataModule) -> InitialEmbeddings:
    """The target side's word vectors: the ``embedding`` group with ``target_embedding``'s keys
    changed (``+target_embedding.path=en.vec``); word2vec trains on the target side's text.
    Its metrics are ``embedding/target_*`` and its reports ``target_*`` files."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    options: Any = OmegaConf.merge(cfg.embedding, cfg.get("target_embedding") or {})
    output = options.get("output_dir")
    if output:  # its reports apart from the source side's, renamed below
        options.output_dir = str(Path(output) / "target")
    built = instantiate(options)(vocab=datamodule.target_vocab, source=datamodule.target_side())
    built.metrics = {
        k.replace("embedding/", "embedding/target_"): v for k, v in built.metrics.items()
    }
    renamed = []
    for path in built.artifacts:
        if path.is_file() and output:
            path = path.replace(Path(output) / f"target_{path.name}")
        renamed.append(path)
    built.artifacts = renamed
    return built


def load_predictor(
    checkpoint: dict[str, Any], source: str, run_id: str | None
) -> TranslationPredictor:
    meta, state = checkpoint["wordlab"], checkpoint["state_dict"]
    config = meta["config"]
    data = config.get("data", {})
    embeddings = saved_embeddings(state)
    target = None  # data.shared_vocab: the source's table serves both sides
    if not data.get("shared_vocab"):
        target = InitialEmbeddings(torch.zeros_like(state["target_embedder.embedding.weight"]))
    encoder = rebuild(config, "model", source, input_dim=embeddings.output_dim)
    language = data.get("target_language") or data.get("target_field", "en")
    system = rebuild(
        config,
        "system",
        source,
        encoder=encoder,
        embeddings=embeddings,
        target_embeddings=target,
        target_vocab=meta["target_vocab"],
        vocab=meta["vocab"],
        target_tokenizer=make_tokenizer(
            data.get("tokenizer", "regex"), data.get("lowercase", False), language
        ),
        target_language=language,
    )
    system.load_state_dict(state)
    system.run_metadata = meta
    return TranslationPredictor(
        system, Vocabulary(meta["vocab"]), Vocabulary(meta["target_vocab"]), config, run_id
    )


def predictor(
    system: Translator, datamodule: PairDataModule, run_id: str | None
) -> TranslationPredictor:
    assert datamodule.vocab is not None and datamodule.target_vocab is not None
    config = system.run_metadata["config"]
    return TranslationPredictor(system, datamodule.vocab, datamodule.target_vocab, config, run_id)


def eval_data_options(predictor: TranslationPredictor) -> dict[str, Any]:
    return {"vocab": predictor.vocab, "target_vocab": predictor.target_vocab}


def write_reports(folder: Path, system: Translator, rows: list[dict[str, Any]]) -> dict[str, float]:
    """``translations.csv`` (source, reference, hypothesis, greedy, sentence BLEU),
    ``bleu_by_length.csv``, attention maps of the first sentences; the metrics they add."""
    from wordlab.plots import attention_map

    hypotheses = [r["hypothesis_text"] for r in rows]
    references = [r["reference"] for r in rows]
    table = pd.DataFrame(
        {
            "source": [r["source"] for r in rows],
            "reference": references,
            "hypothesis": hypotheses,
            "greedy": [r["greedy_text"] for r in rows],
            "sentence_bleu": metrics.sentence_bleu(hypotheses, references),
            "source_length": [r["source_length"] for r in rows],
        }
    )
    table.to_csv(folder / "translations.csv", index_label="row")
    lengths = metrics.length_table(table["source_length"], hypotheses, references)
    lengths.to_csv(folder / "bleu_by_length.csv", index=False)
    if system.attention != "none":
        maps = folder / "attention"
        maps.mkdir(exist_ok=True)
        for row in rows[:ATTENTION_EXAMPLES]:
            source = row["source_tokens"]
            # the <eos> step has a row too, unless the translation was cut at its length limit
            target = [*system.tokens(row["hypothesis"]), EOS][: len(row["weights"])]
            figure = attention_map(row["weights"], source, target)
            figure.savefig(maps / f"sentence_{row['index']:04d}.png", dpi=100)
    (folder / "bleu_signature.txt").write_text(system.bleu_signature + "\n")
    return {f"bleu_by_length/{r.length}": float(r.bleu) for r in lengths.itertuples()}


def write_test_report(
    system: Translator, datamodule: PairDataModule, folder: Path
) -> dict[str, float]:
    metrics_ = write_reports(folder, system, system.test_rows)
    return {f"test/{k}": v for k, v in metrics_.items()}


def evaluate(
    predictor: TranslationPredictor,
    datamodule: PairDataModule,
    split: str,
    folder: Path,
    batch_size: int,
    explain: int = 0,
) -> tuple[dict[str, float], str]:
    if explain:
        raise ValueError(
            "explain=N attributes a classifier's predictions; a translation run keeps "
            "attention maps (load_run(id).plot_attention(text))"
        )
    datamodule.eval_batch_size = batch_size
    system = predictor.system
    system.on_test_epoch_start()
    with torch.no_grad():
        for batch in datamodule.dataloader(split):
            batch = {
                k: v.to(system.device) if isinstance(v, torch.Tensor) else v
                for k, v in batch.items()
            }
            system.test_batch(batch)
    scores = system.finish_test()
    scores |= write_reports(folder, system, system.test_rows)
    scores = {k.removeprefix("test/"): v for k, v in scores.items()}
    table = (folder / "bleu_by_length.csv").read_text()
    return scores, table + json.dumps({"bleu_signature": system.bleu_signature})


def predict_rows(
    predictor: TranslationPredictor,
    rows: Sequence[dict[str, Any]],
    field: str,
    batch_size: int,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each row with its ``translation`` (``options``: ``beam``, ``length_penalty``)."""
    options = dict(options or {})
    for number, row in enumerate(rows, start=1):
        if not isinstance(row[field], str):
            raise DataError(f"row {number}: field {field!r} must be a text")
    beam = options.get("beam")
    penalty = options.get("length_penalty")
    translations = predictor.translate(
        [r[field] for r in rows],
        beam=None if beam is None else int(beam),
        length_penalty=None if penalty is None else float(penalty),
        batch_size=batch_size,
    )
    return [{**row, "translation": t} for row, t in zip(rows, translations, strict=True)]
