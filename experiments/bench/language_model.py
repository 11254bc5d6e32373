"""The language-modelling pair B10, A (wordlab) and B (the alternative) alternating in one run.

    python experiments/bench/language_model.py --data ../shared/data [--repeats 5] [--tokens 150000]

B10: training tokens per second of one epoch of ``wordlab-train data=ptb`` (the PyTorch
example's small model: 200-d vectors, 2 x 200 LSTM, dropout 0.2, bptt 35, batch 20, SGD lr 20,
gradient norm clipped at 0.25; MLflow on) on a prefix of PTB's training text, no validation,
against ``plain_lm.py``, the same model written as PyTorch's ``word_language_model`` example, on
the same token streams and windows (checked: digests of both sides' training streams and first
window, the number of windows and targets). A's training loop is timed by ``TrainLoopTimer``
below (from the epoch's start to the end of its last window, before the epoch-end hooks and the
checkpoint), B's around its loop; A's ``fit`` (``timing.FitTimer``) is reported too. Neither
holds data preparation, the MLflow run's creation or the test. Both sides also report their
loop's CPU time (user and system, from ``getrusage``) and minor page faults.

Both run with ``--threads`` torch threads (1 by default, ``OMP_NUM_THREADS`` for both processes):
see README.md, "The tagging task", for why on these 2 cores. Prints the table in run.py's format.

Variants, to find what costs what: ``--a-override`` adds a ``wordlab-train`` override to A (e.g.
``system._target_=profile_lm.MeanLossLanguageModel``); ``--glibc-tunables`` sets
``GLIBC_TUNABLES`` for both processes (e.g. ``glibc.malloc.mmap_threshold=67108864:
glibc.malloc.trim_threshold=268435456``, which keeps freed blocks of the 22 MB logits in the heap).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
from common import HERE, Series, check, last_json, machine, run_timed

PYTHON = sys.executable
# The PyTorch example's small model and its training, spelled out whatever the presets say.
SETTINGS = [
    "data=ptb",
    "data.batch_size=20",
    "data.bptt=35",
    "embedding.embedding_dim=200",
    "embedding.init=uniform",
    "embedding.scale=0.1",  # the example's nn.Embedding init
    "model=rnn",
    "model.cell=lstm",
    "model.bidirectional=false",
    "model.hidden_dim=200",
    "model.num_layers=2",
    "model.dropout=0.2",
    "system.dropout=0.2",
    "system.init_range=null",  # the example leaves the LSTM at PyTorch's init
    "optimizer=sgd",
    "system.optimizer.lr=20",
    "trainer.gradient_clip_val=0.25",
]


def usage_since(before: resource.struct_rusage) -> dict[str, float]:
    """User and system CPU seconds, minor page faults and torch threads since ``before``."""
    import torch

    now = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "user_seconds": now.ru_utime - before.ru_utime,
        "system_seconds": now.ru_stime - before.ru_stime,
        "minor_faults": now.ru_minflt - before.ru_minflt,
        "torch_threads": torch.get_num_threads(),
    }


class TrainLoopTimer(pl.Callback):
    """Print the seconds of each training epoch's loop over its batches, and its steps.

    From ``on_train_epoch_start`` to this callback's ``on_train_epoch_end``, which Lightning calls
    before the module's own epoch end (epoch metrics, embedding drift) and before the checkpoint
    callback saves: the batches, the steps and their per-step logging only.
    """

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: object) -> None:
        self.first_step = trainer.global_step
        self.usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu_started = time.process_time()
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, *args: object) -> None:
        seconds = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu_started
        steps = trainer.global_step - self.first_step
        record = {"loop_seconds": seconds, "loop_cpu_seconds": cpu, "loop_steps": steps}
        print(json.dumps(record | usage_since(self.usage)), flush=True)


def prefix_corpus(data: Path, work: Path, tokens: int, eval_lines: int = 200) -> Path:
    """PTB's first training lines up to ``tokens`` tokens (with ``<eos>``), and the first
    ``eval_lines`` lines of validation and test (read by A's preparation and one test batch)."""
    folder = work / f"ptb{tokens // 1000}k"
    folder.mkdir()
    kept, count = [], 0
    with open(data / "ptb" / "train.txt", encoding="utf-8") as handle:
        for line in handle:
            kept.append(line)
            count += len(line.split()) + 1
            if count >= tokens:
                break
    (folder / "train.txt").write_text("".join(kept), encoding="utf-8")
    for split in ("validation", "test"):
        with open(data / "ptb" / f"{split}.txt", encoding="utf-8") as handle:
            lines = [next(handle) for _ in range(eval_lines)]
        (folder / f"{split}.txt").write_text("".join(lines), encoding="utf-8")
    return folder


def wordlab_windows(corpus: Path, cache: Path, batch_size: int, bptt: int) -> dict:
    """The digests ``plain_lm.py`` prints, from wordlab's training stream and first window."""
    import torch
    from plain_lm import digest

    from wordlab.tasks.language_model import StreamDataModule

    module = StreamDataModule(
        path=str(corpus), name="ptb", batch_size=batch_size, bptt=bptt, cache_dir=str(cache)
    )
    module.prepare()
    assert module.vocab is not None
    windows = module.windows("train", train=True)
    # Each training stream (its inputs and last target), one after another: (B * L,).
    trained = torch.cat([windows.inputs, windows.targets[:, -1:]], dim=1).reshape(-1)
    first = next(iter(windows))["input_ids"]
    tokens = module.vocab.tokens
    return {
        "stream_sha1": digest([tokens[i] for i in trained.tolist()]),
        "first_window_sha1": digest([tokens[i] for i in first.reshape(-1).tolist()]),
        "steps": len(windows),
        "tokens": int(windows.targets.numel()),
        "vocab_size": len(module.vocab),
    }


class Side:
    """One side's measurements over the repetitions."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.rate, self.cpu_rate, self.loop, self.loss = Series(), Series(), Series(), Series()
        self.user_ms, self.system_ms, self.faults = Series(), Series(), Series()

    def add(self, record: dict, tokens: int, steps: int) -> None:
        self.rate.add(tokens / record["loop_seconds"])
        self.cpu_rate.add(tokens / record["loop_cpu_seconds"])
        self.loop.add(record["loop_seconds"])
        self.user_ms.add(1000 * record["user_seconds"] / steps)
        self.system_ms.add(1000 * record["system_seconds"] / steps)
        self.faults.add(record["minor_faults"] / steps)
        if record.get("torch_threads") not in (None, self.threads):
            raise RuntimeError(f"{record['torch_threads']} torch threads, not {self.threads}")


def b10_train(args: argparse.Namespace, data: Path, work: Path) -> list[list[str]]:
    """One epoch of the small PTB model: wordlab-train's training loop against the example's."""
    from run import QUIET, wordlab_train
    from tagging import latest_metrics, spread

    env = {
        "PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": str(args.threads),
    }
    if args.glibc_tunables:
        env["GLIBC_TUNABLES"] = args.glibc_tunables
    corpus = prefix_corpus(data, work, args.tokens)
    common = [
        *SETTINGS,
        f"data.path={corpus}",
        *QUIET,
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=1",
        *args.a_override,
    ]
    # Prepares and caches the corpus for A (B reads the text file itself, as the example does).
    wordlab_train([*common, "trainer.limit_train_batches=2"], work, env)
    ours = wordlab_windows(corpus, work / "outputs" / "cache", 20, 35)
    tokens, steps = ours["tokens"], ours["steps"]
    timed_args = [
        *common,
        "+callbacks.fit_timer._target_=timing.FitTimer",
        "+callbacks.loop_timer._target_=language_model.TrainLoopTimer",
    ]
    plain = [PYTHON, str(HERE / "plain_lm.py"), "--train", str(corpus / "train.txt"),
             "--threads", str(args.threads)]  # fmt: skip
    a, b = Side(args.threads), Side(args.threads)
    a_fit, ratio, cpu_ratio = Series(), Series(), Series()
    for repeat in range(args.repeats):
        # A first in odd repetitions, B first in even ones: a drift in load hits both alike.
        for side in "AB" if repeat % 2 == 0 else "BA":
            if side == "A":
                timed, _ = wordlab_train(timed_args, work, env)
                lines = [json.loads(x) for x in timed.stdout.splitlines() if x.startswith("{")]
                loop = next(x for x in lines if "loop_seconds" in x)
                if loop["loop_steps"] != steps:
                    raise RuntimeError(f"A ran {loop['loop_steps']} windows, not {steps}")
                a.add(loop, tokens, steps)
                a_fit.add(next(x for x in lines if "fit_seconds" in x)["fit_seconds"])
                a.loss.add(latest_metrics(work)["train/loss_epoch"])
            else:
                result = last_json(check(run_timed(plain, env), "plain language model").stdout)
                for key in ("stream_sha1", "first_window_sha1", "steps", "tokens"):
                    if result[key] != ours[key]:
                        raise RuntimeError(f"B's {key} {result[key]} is not A's {ours[key]}")
                b.add(result, tokens, steps)
                b.loss.add(result["train_loss"])
        ratio.add(a.rate.values[-1] / b.rate.values[-1])
        cpu_ratio.add(a.cpu_rate.values[-1] / b.cpu_rate.values[-1])

    def row(measure: str, left: str, right: str, quotient: str = "-", goal: str = "") -> list:
        return ["B10", measure, left, right, quotient, goal]

    return [
        row(
            f"LSTM LM 2x200, PTB first {args.tokens // 1000}k tokens, {steps} windows of 20x35 "
            f"({tokens:,} tokens), cpu, {args.threads} thread(s): training-loop tokens/s",
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
            "  user CPU ms per window",
            spread(a.user_ms, 1),
            spread(b.user_ms, 1),
            f"{a.user_ms.median - b.user_ms.median:+.1f}",
        ),  # fmt: skip
        row(
            "  system CPU ms per window",
            spread(a.system_ms, 1),
            spread(b.system_ms, 1),
            f"{a.system_ms.median - b.system_ms.median:+.1f}",
        ),  # fmt: skip
        row(
            "  minor page faults per window",
            spread(a.faults),
            spread(b.faults),
            f"{a.faults.median / b.faults.median:.2f}",
        ),  # fmt: skip
        row("  fit (s): the loop, epoch end, checkpoint", str(a_fit), "-"),
        row(
            "  vocabulary (rows of the embedding and decoder)",
            str(ours["vocab_size"]),
            str(result["vocab_size"]),
        ),  # fmt: skip
        row(
            "  mean training loss (same windows, other initial draws)",
            spread(a.loss, 4),
            spread(b.loss, 4),
            f"{a.loss.median - b.loss.median:+.4f}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=150_000, help="PTB training prefix")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    parser.add_argument("--a-override", action="append", default=[], help="added to A's run")
    parser.add_argument("--glibc-tunables", default=None, help="GLIBC_TUNABLES of both sides")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wordlab-bench-") as folder:
        rows = b10_train(args, args.data.resolve(), Path(folder))
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
                "Command: `python experiments/bench/language_model.py "
                + " ".join(sys.argv[1:])
                + "`",
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
