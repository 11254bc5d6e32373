"""Language modelling as a task: how a run builds, reports, evaluates and predicts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from wordlab.data.errors import DataError
from wordlab.data.vocab import Vocabulary
from wordlab.models.embedder import saved_embeddings
from wordlab.rebuild import rebuild
from wordlab.tasks.language_model.data import StreamDataModule, lines_of
from wordlab.tasks.language_model.predictor import LanguageModelPredictor
from wordlab.tasks.language_model.system import LanguageModel, PositionLosses

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from wordlab.embeddings.base import InitialEmbeddings

# Line lengths (tokens with <eos>) of the per-length report: [1, 10], [11, 20], ...
LENGTH_EDGES = (0, 10, 20, 30, 40, 60, math.inf)


def build_system(
    cfg: DictConfig, datamodule: StreamDataModule, embeddings: InitialEmbeddings
) -> LanguageModel:
    from hydra.utils import instantiate  # only here: loading a run needs no Hydra

    if not str(cfg.model.get("_target_")).endswith("RNNEncoder"):
        raise ValueError(
            "task=language_model reads a token stream left to right with a recurrent encoder: "
            f"add model=rnn (not {cfg.model.get('_target_')})"
        )
    if not isinstance(datamodule, StreamDataModule):
        raise ValueError(
            "task=language_model reads token streams: data._target_ must be "
            "wordlab.tasks.language_model.StreamDataModule (the language_model task sets it)"
        )
    assert datamodule.vocab is not None
    encoder = instantiate(cfg.model, input_dim=embeddings.output_dim)
    # the prompts of the samples, tokenized as the data is
    prompts = [" ".join(datamodule.tokenizer(p)) for p in cfg.system.get("prompts") or []]
    return instantiate(
        cfg.system,
        encoder=encoder,
        embeddings=embeddings,
        vocab=datamodule.vocab.tokens,
        prompts=prompts,
    )


def load_predictor(
    checkpoint: dict[str, Any], source: str, run_id: str | None
) -> LanguageModelPredictor:
    meta, state = checkpoint["wordlab"], checkpoint["state_dict"]
    config = meta["config"]
    embeddings = saved_embeddings(state)
    encoder = rebuild(config, "model", source, input_dim=embeddings.output_dim)
    system = rebuild(
        config, "system", source, encoder=encoder, embeddings=embeddings, vocab=meta["vocab"]
    )
    system.load_state_dict(state)
    system.run_metadata = meta
    return LanguageModelPredictor(system, Vocabulary(meta["vocab"]), config, run_id)


def predictor(
    system: LanguageModel, datamodule: StreamDataModule, run_id: str | None
) -> LanguageModelPredictor:
    assert datamodule.vocab is not None
    return LanguageModelPredictor(system, datamodule.vocab, system.run_metadata["config"], run_id)


def eval_data_options(predictor: LanguageModelPredictor) -> dict[str, Any]:
    return {"vocab": predictor.vocab}


def length_table(
    positions: torch.Tensor, losses: torch.Tensor, line_ends: torch.Tensor
) -> pd.DataFrame:
    """Perplexity of the lines in each length bucket (tokens with ``<eos>``): each target token
    counts in the bucket of the line it belongs to."""
    lines = lines_of(positions, line_ends)
    lengths = torch.diff(line_ends, prepend=torch.zeros(1, dtype=line_ends.dtype))
    bucket = pd.cut(lengths[lines].numpy(), LENGTH_EDGES)
    frame = pd.DataFrame({"bucket": bucket, "line": lines.numpy(), "loss": losses.double().numpy()})
    table = frame.groupby("bucket", observed=True).agg(
        lines=("line", "nunique"), tokens=("loss", "size"), loss=("loss", "mean")
    )
    table["ppl"] = table["loss"].map(math.exp)
    table.index = [
        f"{int(b.left) + 1}-{int(b.right) if b.right < math.inf else ''}" for b in table.index
    ]
    table.index.name = "length"
    return table.reset_index()


def write_reports(
    folder: Path,
    datamodule: StreamDataModule,
    split: str,
    positions: torch.Tensor,
    losses: torch.Tensor,
) -> dict[str, float]:
    """Perplexity by line length (``length_buckets.csv``) and the split's totals."""
    table = length_table(positions, losses, datamodule.line_ends(split))
    table.to_csv(folder / "length_buckets.csv", index=False)
    nll = float(losses.double().mean())
    metrics = {"loss": nll, "ppl": math.exp(nll), "bpw": nll / math.log(2)}
    metrics |= {
        "tokens": float(len(losses)),
        "unknown": float(datamodule.stats.get(f"{split}_unknown", 0)),
    }
    return metrics | {f"ppl_by_length/{r.length}": float(r.ppl) for r in table.itertuples()}


def write_test_report(
    system: LanguageModel, datamodule: StreamDataModule, folder: Path
) -> dict[str, float]:
    positions, losses = system.test_report()
    metrics = write_reports(folder, datamodule, "test", positions, losses)
    if system.samples:
        (folder / "samples.txt").write_text("\n".join(system.samples), encoding="utf-8")
    return {f"test/{k}": v for k, v in metrics.items() if "/" in k}


def evaluate(
    predictor: LanguageModelPredictor,
    datamodule: StreamDataModule,
    split: str,
    folder: Path,
    batch_size: int,
    explain: int = 0,
) -> tuple[dict[str, float], str]:
    if explain:
        raise ValueError(
            "explain=N attributes a classifier's predictions; this run is a language model"
        )
    datamodule.eval_batch_size = batch_size
    system = predictor.system
    scored = PositionLosses()
    with torch.no_grad():
        for batch in datamodule.dataloader(split):
            batch = {
                k: v.to(system.device) if isinstance(v, torch.Tensor) else v
                for k, v in batch.items()
            }
            token_losses, real = system.window_losses(batch, "eval")
            scored.add(batch["positions"].reshape(-1)[real], token_losses[real])
    metrics = write_reports(folder, datamodule, split, *scored.result())
    table = (folder / "length_buckets.csv").read_text()
    return metrics, table


def predict_rows(
    predictor: LanguageModelPredictor,
    rows: Sequence[dict[str, Any]],
    field: str,
    batch_size: int,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each row with its perplexity (``tokens``, ``unknown``, ``nll``, ``ppl``), or with
    ``options.enabled`` (``wordlab-predict generate.enabled=true``) its text continued
    (``generated``)."""
    options = dict(options or {})
    for number, row in enumerate(rows, start=1):
        if not isinstance(row[field], str):
            raise DataError(f"row {number}: field {field!r} must be a text")
    if not options.get("enabled"):
        scores = predictor.score([r[field] for r in rows], batch_size)
        return [{**row, **score} for row, score in zip(rows, scores, strict=True)]
    seed = options.get("seed")
    return [
        {
            **row,
            "generated": predictor.generate(
                row[field],
                max_tokens=int(options.get("max_tokens", 30)),
                temperature=float(options.get("temperature", 1.0)),
                top_k=options.get("top_k"),
                seed=None if seed is None else int(seed) + number,
            ),
        }
        for number, row in enumerate(rows)
    ]
