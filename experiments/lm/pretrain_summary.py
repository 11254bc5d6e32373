"""The IMDB-pretraining study's table from the MLflow runs tagged study=imdb_pretraining: test
accuracy of experiment=rnn/lstm on each corpus from random vectors and from the language model
(init_from), mean ± std over seeds, the paired difference per seed, and what was copied.

    python experiments/lm/pretrain_summary.py [--store URI_OR_CSV ...] [--save runs.csv]

`--save` writes one line per run as read from the stores; a `--store` ending in `.csv` reads
such a file back, so the table can be rebuilt without the MLflow store.
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

RECORD = [
    "run_id", "variant", "corpus", "start", "seed", "acc", "ppl", "tensors", "words_found",
    "vocab", "epochs", "started", "minutes",
]  # fmt: skip


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        return pd.read_csv(store, dtype={"seed": str})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'imdb_pretraining' and attributes.status = 'FINISHED'",
        tracking_uri=store,
    )
    if runs.empty:
        return pd.DataFrame(columns=RECORD)

    def metric(name: str) -> pd.Series:
        return runs.get(f"metrics.{name}", pd.Series(float("nan"), index=runs.index))

    runs["variant"] = runs["tags.variant"]
    runs["corpus"] = runs["params.data.path"].str.replace(r".*/data/", "", regex=True)
    runs["start"] = runs["params.init_from"].map(
        lambda v: "random" if v in (None, "None", "null") or pd.isna(v) else "language model"
    )
    runs["seed"] = runs["params.seed"].astype(str)
    runs["acc"] = (100 * metric("test/acc")).round(2)
    runs["ppl"] = metric("val/ppl_best").round(1)
    runs["tensors"] = metric("init/encoder_tensors")
    runs["words_found"] = (100 * metric("init/words_found")).round(1)  # % of the vocabulary
    runs["vocab"] = metric("data/vocab_size")
    runs["epochs"] = metric("epoch")
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
        raise SystemExit("no finished runs tagged study=imdb_pretraining")
    if args.save:
        runs.sort_values(["variant", "corpus", "start", "seed"]).to_csv(args.save, index=False)
    for lm in runs[runs.variant == "lm"].itertuples():
        print(f"language model {lm.run_id}: validation perplexity {lm.ppl}, {lm.minutes} minutes\n")
    classifiers = runs[runs.variant != "lm"]
    print("| corpus | start | seeds | test accuracy | per seed | minus random, per seed "
          "| encoder tensors copied | words found (%) | epochs | minutes |")  # fmt: skip
    print("|" + "---|" * 10)
    for corpus, group in classifiers.groupby("corpus"):
        random = group[group.start == "random"].set_index("seed")["acc"]
        for start, rows in group.groupby("start", sort=False):
            rows = rows.sort_values("seed")
            gain = rows.set_index("seed")["acc"] - random
            print(
                f"| {corpus} | {start} | {len(rows)} | {cell(rows['acc'])} | "
                f"{', '.join(f'{a:.1f}' for a in rows['acc'])} | "
                f"{', '.join(f'{g:+.1f}' for g in gain.dropna()) if start != 'random' else '-'} "
                f"| {cell(rows['tensors'])} | {cell(rows['words_found'])} "
                f"| {cell(rows['epochs'])} | {cell(rows['minutes'])} |"
            )


if __name__ == "__main__":
    main()
