"""The CoNLL-2003 study's table from the MLflow runs tagged study=conll2003: test span F1 (or
token accuracy for part of speech), mean ± std over seeds, per configuration, with F1 on
entities seen and unseen in training, the published reference beside it, and minutes per run.

    python experiments/conll2003/summarize.py [--store URI_OR_CSV ...] [--save runs.csv]

`--save` writes one line per run as read from the stores; a `--store` ending in `.csv` reads
such a file back, so the table can be rebuilt without the MLflow store (runs.csv here).
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

# ../shared/data/README.md and the papers: test F1 on CoNLL-2003 English NER.
PUBLISHED = {
    ("ner_tags", "glove", "cnn", "crf"): "91.26 NCRF++ (GloVe 100-d); 90.94 Lample (LSTM chars)",
    ("ner_tags", "random", "cnn", "crf"): "83.6 Lample's ablation (random vectors)",
}
RECORD = [
    "run_id", "labels", "embedding", "vocab", "chars", "head", "seed",
    "f1", "f1_seen", "f1_unseen", "acc", "epochs", "started", "minutes",
]  # fmt: skip


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        return pd.read_csv(store, dtype={"seed": str, "chars": str})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'conll2003' and attributes.status = 'FINISHED'", tracking_uri=store
    )
    if runs.empty:
        return pd.DataFrame(columns=RECORD)
    runs["labels"] = runs["params.data.label_field"]
    embedding = runs["params.embedding._target_"].str.rsplit(".", n=1).str[-1]
    runs["embedding"] = embedding.str.replace("_embeddings", "")
    splits = runs["params.data.vocab_splits"].fillna("['train']").astype(str)
    runs["vocab"] = splits.str.count("'") // 2  # how many splits' words have rows
    runs["vocab"] = runs["vocab"].map({1: "train", 3: "all splits"}).fillna(splits)
    runs["chars"] = runs["params.system.chars"].fillna("none").astype(str)
    runs["head"] = runs["params.system.head"]
    runs["seed"] = runs["params.seed"].astype(str)
    for name in ("f1", "f1_seen", "f1_unseen", "acc"):
        column = f"metrics.test/{name}"
        runs[name] = 100 * runs[column] if column in runs else float("nan")
    runs["epochs"] = runs.get("metrics.epoch", pd.Series(float("nan"), index=runs.index))
    runs["started"] = runs["start_time"].dt.strftime("%Y-%m-%d %H:%M")
    runs["minutes"] = ((runs["end_time"] - runs["start_time"]).dt.total_seconds() / 60).round(1)
    return runs[RECORD]


def cell(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "-"
    spread = f" ± {values.std():.2f}" if len(values) > 1 else ""
    return f"{values.mean():.2f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", action="append", help="tracking URI or CSV, repeatable")
    parser.add_argument("--save", help="write the runs read, one line each, to this CSV")
    args = parser.parse_args()
    runs = pd.concat(records(store) for store in args.store or [None])
    runs = runs.drop_duplicates("run_id").reset_index(drop=True)
    if runs.empty:
        raise SystemExit("no finished runs tagged study=conll2003")
    if args.save:
        runs.sort_values(["labels", "embedding", "vocab", "chars", "head", "seed"]).to_csv(
            args.save, index=False
        )
    print("| labels | embedding | vocabulary | chars | head | seeds | test F1 | seen | unseen "
          "| token acc | epochs | minutes per run | published |")  # fmt: skip
    print("|" + "---|" * 13)
    keys = ["labels", "embedding", "vocab", "chars", "head"]
    for key, group in runs.groupby(keys):
        print(
            f"| {' | '.join(key)} | {len(group)} | {cell(group['f1'])} | {cell(group['f1_seen'])} "
            f"| {cell(group['f1_unseen'])} | {cell(group['acc'])} | {group['epochs'].mean():.0f} "
            f"| {group['minutes'].mean():.0f} | {PUBLISHED.get(key[:2] + key[3:], '')} |"
        )


if __name__ == "__main__":
    main()
