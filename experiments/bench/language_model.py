"""The language-modelling pair B10, A (wordlab) and B (the alternative) alternating in one run.

    python experiments/bench/language_model.py --data ../shared/data [--repeats 5] [--tokens 150000]

B10: training tokens per second of one epoch of ``wordlab-train data=ptb`` (the PyTorch
example's small model: 200-d vectors, 2 x 200 LSTM, dropout 0.2, bptt 35, batch 20, SGD lr 20,
gradient norm clipped at 0.25) on a prefix of PTB's training text, no validation, against
``plain_lm.py``, the same model written as PyTorch's ``word_language_model`` example, on the same
token streams and windows. A's training loop is timed by ``TrainLoopTimer`` below (from the
epoch's start to the end of its last window, before the epoch-end hooks and the checkpoint),
B's around its loop; A's ``fit`` (``timing.FitTimer``) is reported too. Neither time holds data
preparation, the MLflow run's creation or the test.

Both run with ``--threads`` torch threads (1 by default, ``OMP_NUM_THREADS`` for both processes):
see README.md, "The tagging task", for why on these 2 cores. Prints the table in run.py's format.
"""

from __future__ import annotations

import argparse
import json
import os
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


class TrainLoopTimer(pl.Callback):
    """Print the seconds of each training epoch's loop over its batches, and its steps.

    From ``on_train_epoch_start`` to this callback's ``on_train_epoch_end``, which Lightning calls
    before the module's own epoch end (epoch metrics, embedding drift) and before the checkpoint
    callback saves: the batches, the steps and their per-step logging only.
    """

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: object) -> None:
        self.first_step = trainer.global_step
        self.cpu_started = time.process_time()
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, *args: object) -> None:
        seconds = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu_started
        steps = trainer.global_step - self.first_step
        print(json.dumps({"loop_seconds": seconds, "loop_cpu_seconds": cpu, "loop_steps": steps}),
              flush=True)  # fmt: skip


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


def b10_train(
    data: Path, work: Path, repeats: int, tokens: int, threads: int, logger: str
) -> list[list[str]]:
    """One epoch of the small PTB model: wordlab-train's training loop against the example's."""
    from run import QUIET, wordlab_train
    from tagging import latest_metrics, spread

    env = {
        "PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": str(threads),
    }
    corpus = prefix_corpus(data, work, tokens)
    common = [
        *SETTINGS,
        f"data.path={corpus}",
        *QUIET,
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=1",
        *([f"logger={logger}"] if logger != "mlflow" else []),
    ]
    # Prepares and caches the corpus for A (B reads the text file itself, as the example does).
    wordlab_train([*common, "trainer.limit_train_batches=2"], work, env)
    ours = wordlab_windows(corpus, work / "outputs" / "cache", 20, 35)
    timed_args = [
        *common,
        "+callbacks.fit_timer._target_=timing.FitTimer",
        "+callbacks.loop_timer._target_=language_model.TrainLoopTimer",
    ]
    plain = [PYTHON, str(HERE / "plain_lm.py"), "--train", str(corpus / "train.txt"),
             "--threads", str(threads)]  # fmt: skip
    a_loop, b_loop, a_fit, a_rate, b_rate, a_loss, b_loss = (Series() for _ in range(7))
    a_cpu, b_cpu, ratio, cpu_ratio = (Series() for _ in range(4))
    for repeat in range(repeats):
        # Alternate which side goes first, so a change of load mid-repetition hits both alike.
        for side in "AB" if repeat % 2 == 0 else "BA":
            if side == "A":
                timed, _ = wordlab_train(timed_args, work, env)
                lines = [json.loads(x) for x in timed.stdout.splitlines() if x.startswith("{")]
                loop = next(x for x in lines if "loop_seconds" in x)
                if loop["loop_steps"] != ours["steps"]:
                    raise RuntimeError(f"A ran {loop['loop_steps']} windows, not {ours['steps']}")
                (
                    a_loop.add(loop["loop_seconds"]),
                    a_cpu.add(ours["tokens"] / loop["loop_cpu_seconds"]),
                )
                a_fit.add(next(x for x in lines if "fit_seconds" in x)["fit_seconds"])
                a_rate.add(ours["tokens"] / loop["loop_seconds"])
                if logger == "mlflow":
                    a_loss.add(latest_metrics(work)["train/loss_epoch"])
            else:
                result = last_json(check(run_timed(plain, env), "plain language model").stdout)
                for key in ("stream_sha1", "first_window_sha1", "steps", "tokens"):
                    if result[key] != ours[key]:
                        raise RuntimeError(f"B's {key} {result[key]} is not A's {ours[key]}")
                b_loop.add(result["loop_seconds"]), b_rate.add(result["tokens_per_second"])
                b_cpu.add(result["tokens"] / result["loop_cpu_seconds"])
                b_loss.add(result["train_loss"])
        ratio.add(a_rate.values[-1] / b_rate.values[-1])
        cpu_ratio.add(a_cpu.values[-1] / b_cpu.values[-1])
    rows = [
        [
            "B10",
            f"LSTM LM 2x200, PTB first {tokens // 1000}k tokens, {ours['steps']} windows of 20x35 "
            f"({ours['tokens']:,} tokens), cpu, {threads} thread(s): training-loop tokens/s",
            spread(a_rate),
            spread(b_rate),
            f"{a_rate.median / b_rate.median:.2f}",
            ">= 0.9",
        ],
        ["B10", "  A/B of each repetition", "-", "-", str(ratio), ""],
        [
            "B10",
            "  tokens per CPU second of the loop (process time)",
            spread(a_cpu),
            spread(b_cpu),
            f"{a_cpu.median / b_cpu.median:.2f} (each: {cpu_ratio})",
            "",
        ],  # fmt: skip
        [
            "B10",
            "  training loop (s)",
            str(a_loop),
            str(b_loop),
            f"{a_loop.median / b_loop.median:.2f}",
            "",
        ],  # fmt: skip
        ["B10", "  fit (s): the loop, epoch end, checkpoint", str(a_fit), "-", "-", ""],
        [
            "B10",
            "  vocabulary (rows of the embedding and decoder)",
            str(ours["vocab_size"]),
            str(result["vocab_size"]),
            "-",
            "",
        ],  # fmt: skip
    ]
    if a_loss.values:
        rows.append(
            [
                "B10",
                "  mean training loss (same windows, other initial draws)",
                spread(a_loss, 4),
                spread(b_loss, 4),
                f"{a_loss.median - b_loss.median:+.4f}",
                "",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=150_000, help="PTB training prefix")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    parser.add_argument("--logger", default="mlflow", help="A's logger (mlflow, csv, none)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wordlab-bench-") as folder:
        rows = b10_train(
            args.data.resolve(), Path(folder), args.repeats, args.tokens, args.threads, args.logger
        )
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
