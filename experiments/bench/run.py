"""wordlab's benchmark suite: each pair measured in this one run, A and B alternating.

    python experiments/bench/run.py --data ../shared/data [--repeats 3] [--only B1,B2]

Writes experiments/bench/RESULTS.md (machine, versions, table) and prints the table. See the
README next to this file for what each benchmark compares and why.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import HERE, Series, check, last_json, machine, run_timed

PYTHON = sys.executable
QUIET = ["callbacks.progress_bar=null", "callbacks.early_stopping=null", "trainer=cpu"]


def wordlab_train(args: list[str], work: Path, env: dict | None = None):
    """Run ``wordlab-train`` with the store under ``work``; return timing and test accuracy."""
    from mlflow.tracking import MlflowClient

    timed = check(
        run_timed(
            [PYTHON, "-m", "wordlab.train", *args], {"WORDLAB_ROOT": str(work), **(env or {})}
        ),
        "wordlab-train",
    )
    client = MlflowClient(f"sqlite:///{work / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return timed, runs[0].data.metrics.get("test/acc", float("nan"))


def b1_fasttext(data: Path, work: Path, repeats: int) -> list[list[str]]:
    """Bag of words + bigrams on IMDB against fastText, 5 and 10 epochs, 2 threads."""
    from wordlab.data import TextDataModule

    imdb = TextDataModule(
        path=str(data / "imdb"), cache_dir=str(work / "outputs" / "cache"), max_length=None
    )
    imdb.prepare()
    files = {}
    for split in ("train", "test"):
        rows = [
            f"__label__{imdb.label_names[label]} {' '.join(imdb.tokenizer(text))}"
            for text, label in zip(imdb.splits[split]["text"], imdb.splits[split]["label"])
        ]
        random.Random(13).shuffle(rows)  # fastText reads in order; IMDB is sorted by label
        files[split] = work / f"imdb.{split}.txt"
        files[split].write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = []
    common = ["model=bag", "model.ngrams=2", "data=local", f"data.path={data / 'imdb'}", "data.max_length=null",
              "embedding.embedding_dim=100", *QUIET]  # fmt: skip
    wordlab_train([*common, "trainer.max_epochs=1"], work)  # prepares and caches the data
    for epochs in (5, 10):
        a_time, b_time, a_acc, b_acc, a_mem, b_mem = (Series() for _ in range(6))
        for _ in range(repeats):
            timed, acc = wordlab_train(
                [
                    *common,
                    f"trainer.max_epochs={epochs}",
                    f"trainer.check_val_every_n_epoch={epochs}",
                ],
                work,
            )
            a_time.add(timed.seconds), a_acc.add(100 * acc), a_mem.add(timed.peak_mb)
            ft = check(run_timed([PYTHON, str(HERE / "fasttext_run.py"), "--train", str(files["train"]),
                                  "--test", str(files["test"]), "--epoch", str(epochs), "--threads", "2"]), "fastText")  # fmt: skip
            result = last_json(ft.stdout)
            b_time.add(ft.seconds), b_acc.add(100 * result["test_acc"]), b_mem.add(ft.peak_mb)
        rows.append(["B1", f"bag+bigrams IMDB, {epochs} epochs, 2 threads (s)", str(a_time), str(b_time),
                     f"{a_time.median / b_time.median:.2f}", "<= 1.5"])  # fmt: skip
        rows.append(["B1", f"  test accuracy % ({epochs} epochs)", str(a_acc), str(b_acc),
                     f"{a_acc.median - b_acc.median:+.2f} pt", ">= -0.5 pt"])  # fmt: skip
        rows.append(["B7", f"  peak RSS MB, B1 {epochs} epochs", str(a_mem), str(b_mem),
                     f"{a_mem.median / b_mem.median:.2f}", "<= 1.3"])  # fmt: skip
    return rows


def export_tensors(data: Path, work: Path) -> Path:
    """SST-2 as wordlab prepares it for `data=local`, saved as plain tensors for the loop."""
    import torch

    from wordlab.data import TextDataModule

    sst2 = TextDataModule(
        path=str(data / "sst2"), cache_dir=str(work / "outputs" / "cache"), max_length=400
    )
    sst2.prepare()
    out = {"vocab_size": len(sst2.vocab), "num_classes": len(sst2.label_names)}
    for split in ("train", "validation", "test"):
        tensors = sst2.split(split)
        out[split] = {"ids": tensors.ids, "offsets": torch.cat([tensors.starts, (tensors.starts[-1:] + tensors.lengths[-1:])]),
                      "labels": tensors.labels}  # fmt: skip
    path = work / "sst2.pt"
    torch.save(out, path)
    return path


def b2_cnn(
    data: Path, work: Path, repeats: int, device: str = "cpu", batch_size: int = 50
) -> list[list[str]]:
    """Kim CNN on SST-2, 5 epochs, through wordlab-train against a plain PyTorch loop."""
    tensors = export_tensors(data, work)
    trainer = ["trainer=gpu"] if device == "cuda" else []
    common = ["data=local", f"data.path={data / 'sst2'}", f"data.batch_size={batch_size}", "trainer.max_epochs=5",
              *QUIET, *trainer, "+callbacks.fit_timer._target_=timing.FitTimer"]  # fmt: skip
    a_time, b_time, a_acc, b_acc, a_mem, b_mem, a_fit, b_fit = (Series() for _ in range(8))
    for _ in range(repeats):
        timed, acc = wordlab_train(
            common, work, {"PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}"}
        )
        a_time.add(timed.seconds), a_acc.add(100 * acc), a_mem.add(timed.peak_mb)
        a_fit.add(last_json(timed.stdout)["fit_seconds"])
        plain = check(run_timed([PYTHON, str(HERE / "plain_cnn.py"), "--tensors", str(tensors), "--epochs", "5",
                                 "--batch-size", str(batch_size), "--device", device]), "plain loop")  # fmt: skip
        result = last_json(plain.stdout)
        b_time.add(plain.seconds), b_acc.add(100 * result["test_acc"]), b_mem.add(plain.peak_mb)
        b_fit.add(result["fit_seconds"])
    name = "B3" if device == "cuda" else "B2"
    goal = "<= 1.15" if device == "cuda" else "<= 1.10"
    rows = [
        [name, f"CNN SST-2 5 epochs, {device}, batch {batch_size} (s)", str(a_time), str(b_time), f"{a_time.median / b_time.median:.2f}", goal],
        [name, "  fit only: 5 epochs of training + validation (s)", str(a_fit), str(b_fit), f"{a_fit.median / b_fit.median:.2f}", ""],
        [name, "  test accuracy %", str(a_acc), str(b_acc), f"{a_acc.median - b_acc.median:+.2f} pt", ""],
    ]  # fmt: skip
    if device == "cpu":
        rows.append(
            [
                "B7",
                "  peak RSS MB, B2",
                str(a_mem),
                str(b_mem),
                f"{a_mem.median / b_mem.median:.2f}",
                "<= 1.3",
            ]
        )
    return rows


def b2_batch_sizes(data: Path, work: Path) -> list[list[str]]:
    """Seconds per epoch of B2 (both sides) against the batch size, one run each."""
    tensors = work / "sst2.pt"
    rows = []
    for size in (25, 50, 100, 200):
        timed, _ = wordlab_train(
            [
                "data=local",
                f"data.path={data / 'sst2'}",
                f"data.batch_size={size}",
                "trainer.max_epochs=3",
                *QUIET,
            ],
            work,
        )
        plain = check(
            run_timed(
                [
                    PYTHON,
                    str(HERE / "plain_cnn.py"),
                    "--tensors",
                    str(tensors),
                    "--epochs",
                    "3",
                    "--batch-size",
                    str(size),
                ]
            ),
            "plain",
        )
        rows.append(["B2", f"  batch {size}: s per epoch (3 epochs, whole process / 3)", f"{timed.seconds / 3:.2f}",
                     f"{plain.seconds / 3:.2f}", f"{timed.seconds / plain.seconds:.2f}", ""])  # fmt: skip
    return rows


def b4_data(data: Path, work: Path, repeats: int) -> list[list[str]]:
    """Preparing IMDB cold and cached against a single-process loop; cost against size."""
    rows = []
    subsets = {}
    for share in (25, 50, 100):
        folder = work / f"imdb{share}"
        folder.mkdir(exist_ok=True)
        for split in ("train", "test"):
            import gzip

            with gzip.open(data / "imdb" / f"{split}.jsonl.gz", "rt", encoding="utf-8") as handle:
                lines = handle.readlines()
            step = 100 // share
            (folder / f"{split}.jsonl").write_text("".join(lines[::step]), encoding="utf-8")
        subsets[share] = folder
    script = str(HERE / "data_prep.py")
    for share, folder in subsets.items():
        cold, loop, cached = Series(), Series(), Series()
        for repeat in range(repeats if share == 100 else 1):
            cache = work / f"prep-cache-{share}-{repeat}"
            env = {"HF_DATASETS_CACHE": str(work / f"hf-{share}-{repeat}")}  # nothing cached
            prepare = [PYTHON, script, "wordlab", "--data", str(folder), "--cache", str(cache)]
            cold.add(last_json(check(run_timed(prepare, env), "prep").stdout)["seconds"])
            loop.add(
                last_json(
                    check(run_timed([PYTHON, script, "loop", "--data", str(folder)]), "loop").stdout
                )["seconds"]
            )
            cached.add(last_json(check(run_timed(prepare, env), "prep").stdout)["seconds"])
            shutil.rmtree(cache, ignore_errors=True)
        rows.append(
            [
                "B4",
                f"IMDB {share}%: prepare cold (s)",
                str(cold),
                str(loop),
                f"{cold.median / loop.median:.2f}",
                "< 1" if share == 100 else "linear",
            ]
        )
        if share == 100:
            rows.append(
                [
                    "B4",
                    "  cached rerun (s) / cold",
                    str(cached),
                    str(cold),
                    f"{cached.median / cold.median:.3f}",
                    "<= 0.10",
                ]
            )
    return rows


def b5_startup(data: Path, work: Path, repeats: int) -> list[list[str]]:
    """--help, and the first optimizer step of the default run with its data cached."""
    help_time, imports, first = Series(), Series(), Series()
    wordlab_train(
        [
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=1",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
        ],
        work,
    )
    env = {"PYTHONPATH": f"{HERE}:{os.environ.get('PYTHONPATH', '')}"}
    for _ in range(repeats):
        help_time.add(check(run_timed([PYTHON, "-m", "wordlab.train", "--help"]), "--help").seconds)
        imports.add(
            check(run_timed([PYTHON, "-c", "import torch, pytorch_lightning"]), "import").seconds
        )
        started = time.time()
        timed = check(run_timed([PYTHON, "-m", "wordlab.train", "+callbacks.first_step._target_=timing.FirstStep"],
                                {"WORDLAB_ROOT": str(work), **env}), "first step")  # fmt: skip
        first.add(last_json(timed.stdout)["first_step_at"] - started)
    return [
        ["B5", "wordlab-train --help (s)", str(help_time), "-", "-", "<= 1.5 s"],
        [
            "B5",
            "first optimizer step, default run, data cached (s)",
            str(first),
            str(imports),
            f"{first.median / imports.median:.2f}",
            "<= 1.5",
        ],  # fmt: skip
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="B1,B2,B4,B5")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    data = args.data.resolve()
    chosen = set(args.only.split(","))
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="wordlab-bench-") as folder:
        work = Path(folder)
        if "B5" in chosen:
            rows += b5_startup(data, work, args.repeats)
        if "B4" in chosen:
            rows += b4_data(data, work, args.repeats)
        if "B2" in chosen:
            rows += b2_cnn(data, work, args.repeats)
            rows += b2_batch_sizes(data, work)
        if "B3" in chosen:
            rows += b2_cnn(data, work, args.repeats, device="cuda", batch_size=64)
        if "B1" in chosen:
            rows += b1_fasttext(data, work, args.repeats)
    header = ["id", "measure", "A: wordlab", "B: alternative", "A/B", "goal"]
    table = [" | ".join(header), " | ".join("---" for _ in header)] + [" | ".join(r) for r in rows]
    table = ["| " + line + " |" for line in table]
    facts = machine()
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Command: `python experiments/bench/run.py --data {args.data} --repeats {args.repeats} --only {args.only}`",
            "",
            "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()),
            "",
            "Medians over the repetitions, [min-max] in brackets; A and B alternate within each repetition.",
            "",
            *table,
            "",
        ]
    )
    print(text)
    Path(args.results).write_text(text)
    print(json.dumps({"rows": len(rows)}))


if __name__ == "__main__":
    main()
