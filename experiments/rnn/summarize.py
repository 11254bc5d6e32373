"""The RNN study's table from the MLflow runs tagged study=rnn: test accuracy (mean ± std over
seeds) per cell, embedding and corpus, with a published reference beside it where there is one,
and the mean minutes per run.

    python experiments/rnn/summarize.py [--store URI_OR_CSV ...] [--save runs.csv]

`--save` writes one line per run (run id, corpus, model, embedding, seed, test accuracy, start
time, minutes) as read from the stores, and a `--store` ending in `.csv` reads such a file back,
so the table can be rebuilt from runs whose MLflow store is no longer at hand (runs.csv in this
folder).
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

# Tai et al. (2015), Table 2: sentence-level test accuracy % with 300-d GloVe vectors tuned and
# training on all phrases (not listed in ../shared/data/README.md). IMDB: Maas et al. (2011),
# full model + unlabelled data + BoW (a reference level, not an RNN).
PUBLISHED = {
    "lstm": {"sst2": (84.9, "Tai LSTM"), "sst5": (46.4, "Tai LSTM")},
    "bilstm": {"sst2": (87.5, "Tai BiLSTM"), "sst5": (49.1, "Tai BiLSTM")},
}
IMDB_REFERENCE = (88.89, "Maas 2011")
CORPORA = ("sst2", "sst5", "imdb")
RECORD = ["run_id", "corpus", "model", "embedding", "seed", "acc", "started", "minutes"]


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        return pd.read_csv(store, dtype={"seed": str})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'rnn' and attributes.status = 'FINISHED'", tracking_uri=store
    )
    if runs.empty:
        return pd.DataFrame(columns=RECORD)
    runs["corpus"] = runs["tags.dataset"]
    runs["model"] = runs["tags.variant"]
    embedding = runs["params.embedding._target_"].str.rsplit(".", n=1).str[-1]
    runs["embedding"] = embedding.str.replace("_embeddings", "")
    runs["seed"] = runs["params.seed"].astype(str)  # as a CSV reads it back
    runs["acc"] = 100 * runs["metrics.test/acc"]
    runs["started"] = runs["start_time"].dt.strftime("%Y-%m-%d %H:%M")
    runs["minutes"] = ((runs["end_time"] - runs["start_time"]).dt.total_seconds() / 60).round(2)
    return runs[RECORD]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--store",
        action="append",
        help="tracking URI or CSV from --save, repeatable (default: as wordlab.runs)",
    )
    parser.add_argument("--save", help="write the runs read, one line each, to this CSV")
    args = parser.parse_args()
    runs = pd.concat(records(store) for store in args.store or [None])
    runs = runs.drop_duplicates("run_id").reset_index(drop=True)
    if runs.empty:
        raise SystemExit(
            f"no finished runs tagged study=rnn in {args.store or 'the default store'}"
        )
    if args.save:
        runs.sort_values(["corpus", "model", "embedding", "seed"]).to_csv(args.save, index=False)
    print("| model | embedding | " + " | ".join(CORPORA) + " | minutes per run |")
    print("|" + "---|" * (len(CORPORA) + 3))
    for (variant, embedding), group in runs.groupby(["model", "embedding"]):
        cells = []
        for corpus in CORPORA:
            acc = group.loc[group["corpus"] == corpus, "acc"]
            if acc.empty:
                cells.append("-")
                continue
            spread = f" ± {acc.std():.1f}" if len(acc) > 1 else ""
            cell = f"{acc.mean():.1f}{spread} (n={len(acc)})"
            published = PUBLISHED.get(variant, {}).get(corpus)
            if corpus == "imdb":
                published = IMDB_REFERENCE
            if published is not None:
                cell += f"; {published[1]} {published[0]} ({acc.mean() - published[0]:+.1f})"
            cells.append(cell)
        minutes = group.groupby("corpus")["minutes"].mean()
        cells.append(", ".join(f"{c} {minutes[c]:.1f}" for c in CORPORA if c in minutes))
        print(f"| {variant} | {embedding} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
