"""The language-model study's table from the MLflow runs tagged study=lm: test perplexity per
configuration (mean ± std over seeds), validation perplexity at the best epoch, epochs, minutes
per epoch and the device, with the published figure beside it.

    python experiments/lm/summarize.py [--store URI_OR_CSV ...] [--save runs.csv]

`--save` writes one line per run as read from the stores; a `--store` ending in `.csv` reads
such a file back, so the table can be rebuilt without the MLflow store (runs.csv here).
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

# Test perplexity: Zaremba et al. (2014) and the PyTorch word_language_model example's README.
PUBLISHED = {
    ("ptb", "lm/zaremba_small"): "114.5 (paper), 115.9 (TensorFlow)",
    ("ptb", "lm/zaremba_medium"): "82.7 (paper), 82.1 (TensorFlow)",
    ("ptb", "lm/pytorch_example_tied"): "75.96 (PyTorch example)",
    ("wikitext2", "lm/pytorch_example"): "114.95 (PyTorch example)",
}
GOALS = {
    ("ptb", "lm/zaremba_small"): 116,
    ("ptb", "lm/zaremba_medium"): 83,
    ("ptb", "lm/pytorch_example_tied"): 77,
    ("wikitext2", "lm/pytorch_example"): 115,
}
RECORD = [
    "run_id", "data", "preset", "cell", "seed", "ppl", "val_ppl", "epochs", "device",
    "started", "minutes",
]  # fmt: skip


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        return pd.read_csv(store, dtype={"seed": str})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'lm' and attributes.status = 'FINISHED'", tracking_uri=store
    )
    if runs.empty:
        return pd.DataFrame(columns=RECORD)
    runs["data"] = runs["params.data.name"]
    overrides = runs["tags.overrides"].fillna("").str.extract(r"experiment=(\S+)")[0]
    runs["preset"] = overrides.fillna("")
    runs["cell"] = runs["params.model.cell"]
    runs["seed"] = runs["params.seed"].astype(str)
    runs["ppl"] = runs["metrics.test/ppl"]
    runs["val_ppl"] = runs["metrics.val/ppl_best"]
    runs["epochs"] = runs.get("metrics.epoch", pd.Series(float("nan"), index=runs.index))
    runs["device"] = runs["params.trainer.accelerator"].fillna("")
    runs["started"] = runs["start_time"].dt.strftime("%Y-%m-%d %H:%M")
    runs["minutes"] = ((runs["end_time"] - runs["start_time"]).dt.total_seconds() / 60).round(1)
    return runs[RECORD]


def cell(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "-"
    spread = f" ± {values.std():.1f}" if len(values) > 1 else ""
    return f"{values.mean():.1f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", action="append", help="tracking URI or CSV, repeatable")
    parser.add_argument("--save", help="write the runs read, one line each, to this CSV")
    args = parser.parse_args()
    runs = pd.concat(records(store) for store in args.store or [None])
    runs = runs.drop_duplicates("run_id").reset_index(drop=True)
    if runs.empty:
        raise SystemExit("no finished runs tagged study=lm")
    if args.save:
        runs.sort_values(["data", "preset", "cell", "seed"]).to_csv(args.save, index=False)
    print("| data | preset | cell | seeds | test ppl | goal | best val ppl | epochs "
          "| minutes per epoch | device | published |")  # fmt: skip
    print("|" + "---|" * 11)
    for (data, preset, rnn), group in runs.groupby(["data", "preset", "cell"]):
        per_epoch = (group["minutes"] / group["epochs"]).mean()
        print(
            f"| {data} | {preset} | {rnn} | {len(group)} | {cell(group['ppl'])} "
            f"| {GOALS.get((data, preset), '')} | {cell(group['val_ppl'])} "
            f"| {group['epochs'].mean():.0f} | {per_epoch:.1f} | {', '.join(set(group['device']))} "
            f"| {PUBLISHED.get((data, preset), '')} |"
        )


if __name__ == "__main__":
    main()
