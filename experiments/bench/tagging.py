"""The tagging task's pairs, A (wordlab) and B (the alternative) alternating in one run.

    python experiments/bench/tagging.py --data ../shared/data [--repeats 3] [--only B8,B9]

B8: training tokens per second of ``wordlab-train experiment=conll2003/bilstm_cnn_crf`` (the
first ``--batches`` batches of one epoch, no validation, ``fit`` timed by ``timing.FitTimer``)
against ``plain_tagger.py``, the same model classes and batches in a plain loop.
B9: sentences per second of ``wordlab.models.crf.CRF.decode`` against pytorch-crf's
(``pip install pytorch-crf==0.7.2``) on the same emissions and transition scores, whose paths
must be identical (no constraints).

Both run with ``--threads`` torch threads (1 by default): on a 2-core machine that another
training job keeps busy, two OpenMP threads per process make every parallel region wait for a
descheduled thread (a 10 x 400 matmul took 3 ms instead of 76 us), and the times measure the
scheduler. Prints the table in run.py's format (README.md describes each pair).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import HERE, Series, check, last_json, machine, run_timed
from run import QUIET, wordlab_train

PYTHON = sys.executable


def spread(series: Series, digits: int = 0) -> str:
    """Median and [min-max] with ``digits`` decimals (``Series`` prints two)."""
    values = series.values
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{series.median:,.{digits}f} [{min(values):,.{digits}f}-{max(values):,.{digits}f}]"


def latest_metrics(work: Path) -> dict[str, float]:
    """The metrics of the newest MLflow run under ``work`` (the run ``wordlab_train`` made)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{work / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return dict(runs[0].data.metrics)


def b8_train(data: Path, work: Path, repeats: int, batches: int, threads: int) -> list[list[str]]:
    """BiLSTM + char CNN + CRF on CoNLL-2003: wordlab-train's fit against a plain loop."""
    env = {
        "PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": str(threads),
    }
    common = [
        "experiment=conll2003/bilstm_cnn_crf",
        f"data.path={data / 'conll2003'}",
        *QUIET,
        "trainer.max_epochs=1",
        "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=1",
    ]
    # Prepares and caches the corpus (and warms the GloVe files) for both sides.
    wordlab_train([*common, "trainer.limit_train_batches=5"], work, env)
    timed_args = [
        *common,
        f"trainer.limit_train_batches={batches}",
        "+callbacks.fit_timer._target_=timing.FitTimer",
    ]
    plain = [
        PYTHON,
        str(HERE / "plain_tagger.py"),
        "--data",
        str(data / "conll2003"),
        "--cache",
        str(work / "outputs" / "cache"),
        "--batches",
        str(batches),
    ]
    a_fit, b_fit, a_rate, b_rate, a_loss, b_loss, b_data = (Series() for _ in range(7))
    for _ in range(repeats):
        timed, _ = wordlab_train(timed_args, work, env)
        a_fit.add(last_json(timed.stdout)["fit_seconds"])
        a_loss.add(latest_metrics(work)["train/loss_epoch"])
        result = last_json(check(run_timed(plain, env), "plain tagger").stdout)
        if result["steps"] != batches:
            raise RuntimeError(f"plain loop ran {result['steps']} batches, not {batches}")
        b_fit.add(result["fit_seconds"]), b_data.add(result["data_seconds"])
        b_loss.add(result["train_loss"])
        # The same batches on both sides: A trains on B's tokens.
        a_rate.add(result["tokens"] / a_fit.values[-1]), b_rate.add(result["tokens_per_second"])
    tokens = result["tokens"]
    return [
        [
            "B8",
            f"BiLSTM-CNN-CRF CoNLL-2003, {batches} batches of 10 ({tokens:,} tokens), cpu, "
            f"{threads} thread(s): fit tokens/s",
            spread(a_rate),
            spread(b_rate),
            f"{a_rate.median / b_rate.median:.2f}",
            ">= 0.9",
        ],
        ["B8", "  fit only (s)", str(a_fit), str(b_fit), f"{a_fit.median / b_fit.median:.2f}", ""],
        [
            "B8",
            "  of which the training tensors (char ids), built in train_dataloader() (s)",
            "-",
            str(b_data),
            "-",
            "",
        ],
        [
            "B8",
            "  mean training loss (same batches, other initial draws)",
            spread(a_loss, 4),
            spread(b_loss, 4),
            f"{a_loss.median - b_loss.median:+.4f}",
            "",
        ],
    ]


def conll_like_batches(size: int, count: int, num_tags: int, seed: int) -> list[tuple]:
    """``count`` batches of ``size`` sentences, lengths drawn from 1..40: emissions and mask."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(count):
        lengths = torch.randint(1, 41, (size,), generator=generator)
        longest = int(lengths.max())
        emissions = torch.randn(size, longest, num_tags, generator=generator)
        mask = torch.arange(longest).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        batches.append((emissions, mask))
    return batches


def b9_decode(repeats: int, threads: int, sentences: int = 5120) -> list[list[str]]:
    """Viterbi decoding: wordlab's CRF.decode against pytorch-crf's, identical paths."""
    import torch
    import torchcrf

    from wordlab.models.crf import CRF

    torch.set_num_threads(threads)
    num_tags = 17  # BIOES over PER, ORG, LOC, MISC, and O
    torch.manual_seed(13)
    ours = CRF(num_tags)  # allowed=None: no constraints
    theirs = torchcrf.CRF(num_tags, batch_first=True)
    with torch.no_grad():
        ours.start.uniform_(-0.1, 0.1), ours.end.uniform_(-0.1, 0.1)
        theirs.transitions.copy_(ours.transitions)
        theirs.start_transitions.copy_(ours.start)
        theirs.end_transitions.copy_(ours.end)
    rows = []
    for size in (10, 256):
        batches = conll_like_batches(size, sentences // size, num_tags, seed=size)
        with torch.no_grad():
            for emissions, mask in batches:
                assert ours.decode(emissions, mask) == theirs.decode(emissions, mask), (
                    "paths differ"
                )
        a_rate, b_rate = Series(), Series()
        for _ in range(repeats):
            for decoder, rate in ((ours.decode, a_rate), (theirs.decode, b_rate)):
                started = time.perf_counter()
                with torch.no_grad():
                    for emissions, mask in batches:
                        decoder(emissions, mask)
                rate.add(len(batches) * size / (time.perf_counter() - started))
        rows.append(
            [
                "B9",
                f"CRF Viterbi decode, batch {size}, 17 tags, lengths 1-40, {threads} thread(s): "
                "sentences/s",
                spread(a_rate),
                spread(b_rate),
                f"{a_rate.median / b_rate.median:.2f}",
                ">= 1",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="B8,B9")
    parser.add_argument("--batches", type=int, default=300, help="B8: training batches")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    rows: list[list[str]] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wordlab-bench-") as folder:
        if "B8" in chosen:
            rows += b8_train(
                args.data.resolve(), Path(folder), args.repeats, args.batches, args.threads
            )
        if "B9" in chosen:
            rows += b9_decode(max(args.repeats, 5), args.threads)
    header = ["id", "measure", "A: wordlab", "B: alternative", "A/B", "goal"]
    table = [" | ".join(header), " | ".join("---" for _ in header)] + [" | ".join(r) for r in rows]
    import importlib.metadata as metadata

    facts = machine() | {
        "pytorch-crf": metadata.version("pytorch-crf"),
        "threads": str(args.threads),
        "load average at start": f"{load:.2f}",
        "date": time.strftime("%Y-%m-%d"),
    }
    print(
        "\n".join(
            [
                "Command: `python experiments/bench/tagging.py " + " ".join(sys.argv[1:]) + "`",
                "",
                "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()),
                "",
                "Medians over the repetitions, [min-max] in brackets; "
                "A and B alternate within each repetition.",
                "",
                *("| " + line + " |" for line in table),
                "",
            ]
        )
    )
    print(json.dumps({"rows": len(rows)}))


if __name__ == "__main__":
    main()
