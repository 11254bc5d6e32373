"""The translation pair B11, A (wordlab) and B (the alternative) alternating in one run.

    python experiments/bench/translation.py --data ../shared/data [--repeats 5] [--pairs 6400]

B11: target tokens per second of one training epoch of ``wordlab-train data=multi30k`` (German
to English; ``SETTINGS``: experiment=mt/cpu_small's sizes, a bidirectional GRU encoder of 128
per direction, a GRU decoder of 256 with additive attention, 128-d word vectors, batches of 64,
Adam lr 1e-3, gradient norm clipped at 1; teacher forcing 1 and no dropout, so that both sides
do the same work; regex tokens, lowercased, words seen once are <unk>; MLflow on) on the first
``--pairs`` training pairs, no validation, against ``plain_mt.py``, the same model written as
bentrevett/pytorch-seq2seq's third tutorial. B reads A's prepared training split (the same
vocabularies and ids, exported here as plain tensors) and shuffles it with the same seed; both
train on the same batches in the same order (checked in every repetition: digests of the first
batch's tensors and of the order of the rows, the number of batches and of target tokens, and
the number of parameters). A's training loop is timed by ``language_model.TrainLoopTimer``
(from the epoch's start to the end of its last batch, before the epoch-end hooks and the
checkpoint), B's around its loop; A's ``fit`` (``timing.FitTimer``) is reported too. Neither
holds data preparation, the MLflow run's creation or the test. Both sides also report their
loop's CPU time (user and system, from ``getrusage``) and minor page faults. A target token is
a token of a reference or its ``<eos>`` (padding is not).

A second measure, A only: sentences per second of the trained model's batched decoding
(``TranslationPredictor.translate_rows``, what ``translate`` returns the texts of; batches of
``--decode-batch``) of the first ``--sentences`` German sentences of Multi30k's validation
split, beam search (beam 5, the run's length penalty) and greedy, in one process that loads
the last A run's checkpoint (``wordlab.load_run``; A runs with
``callbacks.model_checkpoint.monitor=null``, as no validation metric picks one; or
``--decode-checkpoint``: another wordlab checkpoint, e.g. a run of experiment=mt/cpu_small),
one untimed greedy batch first. The speed
depends on how long the translations are (a model trained one epoch on a few thousand pairs
runs greedy decoding to the length limit, 1.5 x the source + 10 tokens, and beam search often
ends at once with ``<eos>``): the table gives their mean length.

Both run with ``--threads`` torch threads (1 by default, ``OMP_NUM_THREADS`` for every
process): see README.md, "The tagging task", for why on these 2 cores. Prints the table in
run.py's format. ``--a-override`` adds a ``wordlab-train`` override to A; ``--b-arg`` an
argument to ``plain_mt.py`` (``--b-arg=--as-tutorial``: the tutorial's code as written, which
projects the encoder states for the attention at every step).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
from common import HERE, Series, check, last_json, machine, run_timed
from language_model import Side

PYTHON = sys.executable
# experiment=mt/cpu_small's model with teacher forcing 1 and no dropout, spelled out whatever
# the presets say (regex tokens rather than spaCy's: the loop does not depend on them).
SETTINGS = [
    "data=multi30k",
    "data.source_field=de",
    "data.target_field=en",
    "data.tokenizer=regex",
    "data.lowercase=true",
    "data.min_freq=2",
    "data.max_length=null",
    "data.shared_vocab=false",
    "data.batch_size=64",
    "data.bucket=false",
    "embedding=random",
    "embedding.embedding_dim=128",
    "model=rnn",
    "model.cell=gru",
    "model.bidirectional=true",
    "model.hidden_dim=128",
    "model.num_layers=1",
    "model.dropout=0",
    "system.attention=additive",
    "system.attention_dim=null",
    "system.decoder_cell=gru",
    "system.decoder_hidden_dim=256",
    "system.decoder_layers=1",
    "system.dropout=0",
    "system.teacher_forcing=1.0",
    "optimizer=adam",
    "system.optimizer.lr=0.001",
    "system.optimizer.weight_decay=0",
    "trainer.gradient_clip_val=1.0",
    "seed=13",
]
BATCH_SIZE, SEED = 64, 13


class BatchCheck(pl.Callback):
    """Print what A trained on: digests of its first batch and of the order of its rows, its
    batches and target tokens, and the model's parameters.

    Inside the loop it only keeps each batch's row indices (and digests the first batch); the
    rest is computed at the end of training, after ``TrainLoopTimer`` has stopped.
    """

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: object) -> None:
        self.rows: list = []
        self.first = ""

    def on_train_batch_start(
        self, trainer: pl.Trainer, module: pl.LightningModule, batch: dict, *args: object
    ) -> None:
        if not self.first:
            from plain_mt import digest

            names = ("input_ids", "decoder_inputs", "targets")
            self.first = digest(*(batch[name].cpu() for name in names))
        self.rows.append(batch["index"])

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        split = trainer.datamodule.split("train")  # type: ignore[attr-defined]
        order = hashlib.sha1()
        tokens = 0
        for index in self.rows:
            order.update(index.cpu().numpy().tobytes())
            tokens += int(split.target_lengths[index.cpu()].sum()) + len(index)  # and <eos>
        record = {
            "first_batch_sha1": self.first,
            "order_sha1": order.hexdigest(),
            "steps": len(self.rows),
            "tokens": tokens,
            "parameters": sum(p.numel() for p in module.parameters()),
        }
        print(json.dumps(record), flush=True)


def prefix_corpus(data: Path, work: Path, pairs: int, eval_pairs: int) -> Path:
    """Multi30k's first ``pairs`` training pairs, and the first ``eval_pairs`` of validation
    and test (read by A's preparation and its one test batch)."""
    folder = work / f"multi30k{pairs}"
    folder.mkdir()
    for split, count in (("train", pairs), ("validation", eval_pairs), ("test", eval_pairs)):
        with open(data / "multi30k" / f"{split}.jsonl", encoding="utf-8") as handle:
            lines = [line for _, line in zip(range(count), handle, strict=False)]
        if split == "train" and len(lines) < count:
            raise ValueError(f"Multi30k has {len(lines)} training pairs, not {count}")
        (folder / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder


def export_pairs(corpus: Path, cache: Path, work: Path) -> tuple[dict, Path]:
    """A's prepared training split (from its cache) as plain tensors for ``plain_mt.py``, and
    the digests and counts both sides must report, from wordlab's own epoch-0 batches."""
    import torch
    from plain_mt import digest

    from wordlab.data.vocab import PAD_ID
    from wordlab.tasks.translation import PairDataModule

    module = PairDataModule(
        path=str(corpus),
        name="multi30k",
        tokenizer="regex",
        lowercase=True,
        min_freq=2,
        batch_size=BATCH_SIZE,
        seed=SEED,
        cache_dir=str(cache),
    )
    module.prepare()
    assert module.vocab is not None and module.target_vocab is not None
    split = module.split("train")

    def offsets(starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.cat([starts, starts[-1:] + lengths[-1:]])

    path = work / "multi30k_train.pt"
    torch.save(
        {
            "source_ids": split.source_ids,
            "source_offsets": offsets(split.source_starts, split.lengths),
            "target_ids": split.target_ids,
            "target_offsets": offsets(split.target_starts, split.target_lengths),
            "bos_id": split.bos_id,
            "eos_id": split.eos_id,
            "pad_id": PAD_ID,
            "source_vocab_size": len(module.vocab),
            "target_vocab_size": len(module.target_vocab),
        },
        path,
    )
    order = hashlib.sha1()
    first, steps, tokens = "", 0, 0
    for batch in module.train_dataloader():
        if not first:
            first = digest(batch["input_ids"], batch["decoder_inputs"], batch["targets"])
        order.update(batch["index"].numpy().tobytes())
        steps += 1
        tokens += int((batch["targets"] != PAD_ID).sum())
    expected = {
        "first_batch_sha1": first,
        "order_sha1": order.hexdigest(),
        "steps": steps,
        "tokens": tokens,
        "fingerprint": module.fingerprint,
        "source_vocab_size": len(module.vocab),
        "target_vocab_size": len(module.target_vocab),
        "pairs": len(split),
    }
    return expected, path


def latest_run(work: Path):
    """The newest MLflow run under ``work`` (the run ``wordlab_train`` made)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{work / 'outputs' / 'mlflow.db'}")
    return client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )[0]


def same(what: str, side: dict, expected: dict, keys: tuple[str, ...]) -> None:
    for key in keys:
        if side[key] != expected[key]:
            raise RuntimeError(f"{what}'s {key} {side[key]} is not wordlab's {expected[key]}")


def b11_train(args: argparse.Namespace, data: Path, work: Path) -> tuple[list[list[str]], str]:
    """One epoch of the small attention model: wordlab-train's loop against the tutorial's."""
    from run import QUIET, wordlab_train
    from tagging import spread

    env = {
        "PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": str(args.threads),
    }
    corpus = prefix_corpus(data, work, args.pairs, args.eval_pairs)
    common = [
        *SETTINGS,
        f"data.path={corpus}",
        *QUIET,
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=1",
        # no validation metric to pick a checkpoint by: keep the last (the decoding loads it)
        "callbacks.model_checkpoint.monitor=null",
        *args.a_override,
    ]
    # Prepares and caches the corpus for A; B reads the split it prepared, exported.
    wordlab_train([*common, "trainer.limit_train_batches=2"], work, env)
    fingerprint = latest_run(work).data.tags.get("data.fingerprint")
    ours, pairs = export_pairs(corpus, work / "outputs" / "cache", work)
    if fingerprint != ours["fingerprint"]:
        raise RuntimeError(f"exported data {ours['fingerprint']}, A prepared {fingerprint}")
    tokens, steps = ours["tokens"], ours["steps"]
    timed_args = [
        *common,
        "+callbacks.fit_timer._target_=timing.FitTimer",
        "+callbacks.loop_timer._target_=language_model.TrainLoopTimer",
        "+callbacks.batch_check._target_=translation.BatchCheck",
    ]
    plain = [PYTHON, str(HERE / "plain_mt.py"), "--pairs", str(pairs),
             "--threads", str(args.threads), "--batch-size", str(BATCH_SIZE),
             "--seed", str(SEED), *args.b_arg]  # fmt: skip
    checked = ("first_batch_sha1", "order_sha1", "steps", "tokens")
    a, b = Side(args.threads), Side(args.threads)
    a_fit, a_fit_rate, ratio, cpu_ratio = Series(), Series(), Series(), Series()
    parameters: dict[str, int] = {}
    run_id = ""
    for repeat in range(args.repeats):
        # A first in odd repetitions, B first in even ones: a drift in load hits both alike.
        for side in "AB" if repeat % 2 == 0 else "BA":
            if side == "A":
                timed, _ = wordlab_train(timed_args, work, env)
                lines = [json.loads(x) for x in timed.stdout.splitlines() if x.startswith("{")]
                loop = next(x for x in lines if "loop_seconds" in x)
                batches = next(x for x in lines if "first_batch_sha1" in x)
                same("A", batches, ours, checked)
                if loop["loop_steps"] != steps:
                    raise RuntimeError(f"A ran {loop['loop_steps']} steps, not {steps}")
                a.add(loop, tokens, steps)
                fit = next(x for x in lines if "fit_seconds" in x)["fit_seconds"]
                a_fit.add(fit)
                a_fit_rate.add(tokens / fit)
                run = latest_run(work)
                run_id = run.info.run_id
                a.loss.add(run.data.metrics["train/loss_epoch"])
                parameters["A"] = batches["parameters"]
            else:
                result = last_json(check(run_timed(plain, env), "plain translation model").stdout)
                same("B", result, ours, (*checked, "source_vocab_size", "target_vocab_size"))
                b.add(result, tokens, steps)
                b.loss.add(result["train_loss"])
                parameters["B"] = result["parameters"]
        if parameters["A"] != parameters["B"]:
            raise RuntimeError(f"A has {parameters['A']} parameters, B {parameters['B']}")
        ratio.add(a.rate.values[-1] / b.rate.values[-1])
        cpu_ratio.add(a.cpu_rate.values[-1] / b.cpu_rate.values[-1])

    def row(measure: str, left: str, right: str, quotient: str = "-", goal: str = "") -> list:
        return ["B11", measure, left, right, quotient, goal]

    vocab = f"{ours['source_vocab_size']:,} / {ours['target_vocab_size']:,}"
    b_name = " (--as-tutorial)" if "--as-tutorial" in args.b_arg else ""
    rows = [
        row(
            f"attention GRU de-en (bi-GRU 2x128, decoder 256, 128-d), Multi30k first "
            f"{ours['pairs']:,} pairs, {steps} batches of {BATCH_SIZE} ({tokens:,} target "
            f"tokens), cpu, {args.threads} thread(s): training-loop target tokens/s{b_name}",
            spread(a.rate),
            spread(b.rate),
            f"{a.rate.median / b.rate.median:.2f}",
            ">= 0.9",
        ),
        row("  A/B within each repetition", "-", "-", str(ratio)),
        row(
            "  tokens per CPU second of the loop (user + system)",
            spread(a.cpu_rate),
            spread(b.cpu_rate),
            f"{a.cpu_rate.median / b.cpu_rate.median:.2f}, each {cpu_ratio}",
        ),
        row(
            "  training loop (s)", str(a.loop), str(b.loop), f"{a.loop.median / b.loop.median:.2f}"
        ),  # fmt: skip
        row(
            "  user CPU ms per batch",
            spread(a.user_ms, 1),
            spread(b.user_ms, 1),
            f"{a.user_ms.median - b.user_ms.median:+.1f}",
        ),  # fmt: skip
        row(
            "  system CPU ms per batch",
            spread(a.system_ms, 1),
            spread(b.system_ms, 1),
            f"{a.system_ms.median - b.system_ms.median:+.1f}",
        ),  # fmt: skip
        row(
            "  minor page faults per batch",
            spread(a.faults),
            spread(b.faults),
            f"{a.faults.median / max(b.faults.median, 1):.2f}",
        ),  # fmt: skip
        row("  fit (s): the loop, epoch end, checkpoint", str(a_fit), "-"),
        row(
            "  target tokens/s over A's whole fit (B: its loop)",
            spread(a_fit_rate),
            spread(b.rate),
            f"{a_fit_rate.median / b.rate.median:.2f}",
        ),
        row(
            "  vocabularies, source / target (with <pad>, <unk>; the target's <bos>, <eos>)",
            vocab,
            vocab,
        ),
        row("  parameters (checked equal)", f"{parameters['A']:,}", f"{parameters['B']:,}"),
        row(
            "  mean training loss per target token (same batches, other initial draws)",
            spread(a.loss, 4),
            spread(b.loss, 4),
            f"{a.loss.median - b.loss.median:+.4f}",
        ),
    ]
    return rows, run_id


def decode(args: argparse.Namespace) -> None:
    """In its own process: time the trained model's batched decoding, beam and greedy."""
    import torch

    from wordlab import load_checkpoint, load_run

    torch.set_num_threads(args.threads)
    path = args.data.resolve() / "multi30k" / "validation.jsonl"
    with open(path, encoding="utf-8") as handle:
        texts = [json.loads(x)["de"] for _, x in zip(range(args.sentences), handle, strict=False)]
    if args.decode_checkpoint:
        predictor = load_checkpoint(args.decode_checkpoint)
    else:
        predictor = load_run(args.decode_run, args.tracking_uri)
    predictor.translate_rows(texts[: args.decode_batch], beam=1, batch_size=args.decode_batch)
    results: dict[str, dict[str, list[float]]] = {}
    for repeat in range(args.repeats):
        for beam in (args.beam, 1) if repeat % 2 == 0 else (1, args.beam):
            started = time.perf_counter()
            cpu_started = time.process_time()
            rows = predictor.translate_rows(texts, beam=beam, batch_size=args.decode_batch)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            found = results.setdefault(str(beam), {"seconds": [], "cpu": [], "tokens": []})
            found["seconds"].append(seconds)
            found["cpu"].append(cpu)
            found["tokens"].append(sum(len(r["tokens"]) for r in rows) / len(rows))
    print(json.dumps({"sentences": len(texts), "torch_threads": torch.get_num_threads(),
                      "results": results}))  # fmt: skip


def b11_decode(args: argparse.Namespace, work: Path, run_id: str) -> list[list[str]]:
    """Sentences/s of the last A run's model: beam search and greedy (A only)."""
    from tagging import spread

    env = {
        "PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": str(args.threads),
    }
    command = [PYTHON, str(Path(__file__).resolve()), "--decode-run", run_id,
               "--tracking-uri", f"sqlite:///{work / 'outputs' / 'mlflow.db'}",
               "--data", str(args.data.resolve()), "--repeats", str(args.repeats),
               "--threads", str(args.threads), "--sentences", str(args.sentences),
               "--beam", str(args.beam), "--decode-batch", str(args.decode_batch)]  # fmt: skip
    if args.decode_checkpoint:
        command += ["--decode-checkpoint", str(Path(args.decode_checkpoint).resolve())]
    result = last_json(check(run_timed(command, env, cwd=work), "decoding").stdout)
    if result["torch_threads"] != args.threads:
        raise RuntimeError(f"decoding ran {result['torch_threads']} torch threads")
    count = result["sentences"]
    rates, cpu_rates, lengths = {}, {}, {}
    for beam, found in result["results"].items():
        rates[beam] = Series([count / s for s in found["seconds"]])
        cpu_rates[beam] = Series([count / s for s in found["cpu"]])
        lengths[beam] = Series(found["tokens"])
    beam, greedy = str(args.beam), "1"
    model = Path(args.decode_checkpoint).name if args.decode_checkpoint else "the last A run's"
    what = f"{count} validation sentences, batches of {args.decode_batch}, model {model}"
    return [
        ["B11", f"decoding {what}, beam {beam}: sentences/s (A only)", spread(rates[beam], 1),
         "-", "-", ""],
        ["B11", "  greedy, the same batches: sentences/s", spread(rates[greedy], 1), "-", "-",
         ""],
        ["B11", "  sentences per CPU second, beam / greedy",
         f"{spread(cpu_rates[beam], 1)} / {spread(cpu_rates[greedy], 1)}", "-", "-", ""],
        ["B11", "  beam's time / greedy's",
         f"{rates[greedy].median / rates[beam].median:.2f}", "-", "-", ""],
        ["B11", "  mean tokens per translation, beam / greedy",
         f"{lengths[beam].median:.1f} / {lengths[greedy].median:.1f}", "-", "-", ""],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=6400, help="Multi30k's first training pairs")
    parser.add_argument("--eval-pairs", type=int, default=100, help="validation and test pairs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    parser.add_argument("--sentences", type=int, default=500, help="decoding: validation texts")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--decode-batch", type=int, default=64)
    parser.add_argument("--no-decode", action="store_true", help="skip the decoding measure")
    parser.add_argument(
        "--decode-checkpoint", help="decode with this wordlab checkpoint, not the last A run's"
    )
    parser.add_argument("--a-override", action="append", default=[], help="added to A's run")
    parser.add_argument("--b-arg", action="append", default=[], help="added to plain_mt.py's")
    parser.add_argument("--decode-run", help=argparse.SUPPRESS)  # the decoding process
    parser.add_argument("--tracking-uri", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decode_run:
        decode(args)
        return
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wordlab-bench-") as folder:
        rows, run_id = b11_train(args, args.data.resolve(), Path(folder))
        if not args.no_decode:
            rows += b11_decode(args, Path(folder), run_id)
    header = ["id", "measure", "A: wordlab", "B: alternative", "A/B", "goal"]
    table = [" | ".join(header), " | ".join("---" for _ in header)] + [" | ".join(r) for r in rows]
    facts = machine() | {
        "threads": str(args.threads),
        "load average at start": f"{load:.2f}",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        "\n".join(
            [
                "Command: `python experiments/bench/translation.py " + " ".join(sys.argv[1:]) + "`",
                "",
                "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()),
                "",
                "Medians over the repetitions, [min-max] in brackets; A and B alternate within "
                "each repetition (A first in odd repetitions, B first in even ones).",
                "",
                *("| " + line + " |" for line in table),
                "",
            ]
        )
    )
    print(json.dumps({"rows": len(rows)}))


if __name__ == "__main__":
    main()
