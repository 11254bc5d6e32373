"""B8 baseline: BiLSTM + char CNN + CRF trained in a plain PyTorch loop (no Lightning Trainer,
Hydra or MLflow).

The model is wordlab's own ``SequenceTagger`` (TokenEmbedder with the GloVe table, char CNN,
RNNEncoder, CRF) used as a plain ``nn.Module`` through its ``forward`` and ``loss``, built with
the settings of ``experiment=conll2003/bilstm_cnn_crf``; the batches come from the same
``TaggingDataModule`` dataloader as the wordlab run (same cache, same seed, so the same first
batches of epoch 0, identical tensors). Adam (lr 1e-3), gradient norm clipped at 5. Prints one
JSON line with the seconds of the loop and the real (non-padding) tokens it trained on.

    python experiments/bench/plain_tagger.py --data ../shared/data/conll2003 \
        --cache outputs/cache --batches 300
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from wordlab.data.vocab import PAD_ID
from wordlab.embeddings import glove_embeddings
from wordlab.models import RNNEncoder
from wordlab.tasks.tagging import SequenceTagger, TaggingDataModule

CHAR_OPTIONS = {"char_dim": 30, "num_filters": 30, "kernel_size": 3, "dropout": 0.5}


def build(data: str, cache: str, batch_size: int, seed: int, output_dir: str):
    """The data module and tagger of ``experiment=conll2003/bilstm_cnn_crf``."""
    datamodule = TaggingDataModule(
        path=data,
        name="conll2003",
        label_field="ner_tags",
        batch_size=batch_size,
        eval_batch_size=256,
        seed=seed,
        cache_dir=cache,
    )
    datamodule.prepare()
    assert datamodule.vocab is not None and datamodule.chars is not None
    embeddings = glove_embeddings(
        vocab=datamodule.vocab, source=datamodule, seed=seed, output_dir=output_dir
    )
    encoder = RNNEncoder(
        embeddings.output_dim + CHAR_OPTIONS["num_filters"],
        hidden_dim=100,
        bidirectional=True,
        cell="lstm",
        pooling=None,
        dropout=0.0,
    )
    tagger = SequenceTagger(
        encoder,
        embeddings,
        tag_names=datamodule.label_names,
        num_chars=len(datamodule.chars) + 2,
        chars="cnn",
        char_options=CHAR_OPTIONS,
        head="crf",
        tag_scheme=datamodule.tag_scheme,
        dropout=0.5,
    )
    return datamodule, tagger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the CoNLL-2003 benchmark copy")
    parser.add_argument("--cache", required=True, help="wordlab's cache_dir (shared with A)")
    parser.add_argument("--batches", type=int, default=300, help="training batches (epoch 0)")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's table")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        datamodule, model = build(args.data, args.cache, args.batch_size, args.seed, scratch)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    profiler = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        profiler = profile(activities=[ProfilerActivity.CPU])
        profiler.__enter__()
    tokens = steps = 0
    loss_sum = 0.0
    fit_started = time.perf_counter()
    datamodule.split("train")  # what train_dataloader() builds first (wordlab's fit times it too)
    data_seconds = time.perf_counter() - fit_started
    model.train()
    for batch in datamodule.train_dataloader():
        if steps == args.batches:
            break
        loss = model.loss(model(batch), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
        tokens += int((batch["input_ids"] != PAD_ID).sum())
        loss_sum += loss.item()
        steps += 1
    fit_seconds = time.perf_counter() - fit_started
    if profiler is not None:
        profiler.__exit__(None, None, None)
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    print(
        json.dumps(
            {
                "steps": steps,
                "tokens": tokens,
                "fit_seconds": fit_seconds,
                "data_seconds": data_seconds,
                "train_loss": loss_sum / steps,
                "tokens_per_second": tokens / fit_seconds,
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
