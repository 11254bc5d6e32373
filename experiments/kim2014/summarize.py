"""The Kim (2014) table from the MLflow runs tagged study=kim2014: mean ± std of test
accuracy over folds or seeds per corpus and variant, next to Kim's numbers. Runs with another
optimizer than Kim's Adadelta, or without Kim's wide convolution (model.padding=0, or logged
before the option existed), get their own row; SST runs trained on phrases (data=sst2_phrases,
sst5_phrases; Kim's setting) their own column.

    python experiments/kim2014/summarize.py [--store URI_OR_CSV ...] [--save runs.csv]

`--save` writes one line per run (run id, corpus, variant, seed, fold, test accuracy, start time,
minutes) as read from the stores, and a `--store` ending in `.csv` reads such a file back, so the
tables can be rebuilt from runs whose MLflow store is no longer at hand (runs.csv in this folder).
A second table checks the study's goal corpus by corpus: CNN-rand against Kim's number, and each
word2vec variant against CNN-rand and against the baseline on the same folds or seeds. A third
gives the mean minutes per run of each cell.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pandas as pd

import wordlab

# Kim (2014), Table 2 (accuracy %); the baseline row has no published counterpart here.
PUBLISHED = {
    "rand": {"mr": 76.1, "sst5": 45.0, "sst2": 82.7, "subj": 89.6, "trec": 91.2},
    "static": {"mr": 81.0, "sst5": 45.5, "sst2": 86.8, "subj": 93.0, "trec": 92.8},
    "nonstatic": {"mr": 81.5, "sst5": 48.0, "sst2": 87.2, "subj": 93.4, "trec": 93.6},
    "multichannel": {"mr": 81.1, "sst5": 47.4, "sst2": 88.1, "subj": 93.2, "trec": 92.2},
}
CORPORA = ("mr", "subj", "trec", "sst2", "sst2 phrases", "sst5", "sst5 phrases")
RECORD = ["run_id", "corpus", "variant", "seed", "fold", "acc", "started", "minutes"]


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        # as strings, as MLflow logs them: fold "3", or "None" where there are no folds
        runs = pd.read_csv(store, dtype=str, keep_default_na=False)
        return runs.astype({"acc": float, "minutes": float})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'kim2014' and attributes.status = 'FINISHED'", tracking_uri=store
    ).reset_index(drop=True)
    if runs.empty:
        return pd.DataFrame(columns=RECORD)

    def column(name: str) -> pd.Series:
        return runs.get(name, pd.Series(None, index=runs.index, dtype=object))

    runs["corpus"] = runs["tags.dataset"].str.split("-").str[0]
    runs.loc[column("params.data.phrase_labels.4").notna(), "corpus"] += " phrases"
    cnn = column("tags.variant").notna()
    runs["variant"] = column("tags.variant").fillna("tfidf_lr (baseline)")
    optimizer = column("params.system.optimizer._target_")
    other = optimizer.notna() & (optimizer != "torch.optim.Adadelta")
    notes = pd.Series("", index=runs.index)
    notes[other] = optimizer[other].str.rsplit(".", n=1).str[-1]
    narrow = cnn & column("params.model.padding").fillna(0).astype(int).eq(0)
    notes[narrow] = (notes[narrow] + ", no padding").str.lstrip(", ")
    runs.loc[notes != "", "variant"] += " (" + notes[notes != ""] + ")"
    # as strings, as a CSV reads them back (wordlab.runs gives numeric parameters as numbers)
    runs["seed"] = column("params.seed").astype(str)
    runs["fold"] = column("params.data.fold").astype(str)
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
            f"no finished runs tagged study=kim2014 in {args.store or 'the default store'}"
        )
    if args.save:
        runs.sort_values(["corpus", "variant", "seed", "fold"]).to_csv(args.save, index=False)
    order = [*PUBLISHED, "tfidf_lr"]  # Kim's row order, the baseline last

    def rank(variant: str) -> tuple[int, str]:
        return order.index(variant.split(" ")[0]), variant

    def accuracy(variant: str, corpus: str, acc: pd.Series) -> str:
        spread = f" ± {acc.std():.1f}" if len(acc) > 1 else ""
        cell = f"{acc.mean():.1f}{spread} (n={len(acc)})"
        published = PUBLISHED.get(variant.split(" ")[0], {}).get(corpus.split(" ")[0])
        if published is not None:
            cell += f"; Kim {published} ({acc.mean() - published:+.1f})"
        return cell

    variants = sorted(runs["variant"].unique(), key=rank)
    table(runs, variants, "acc", accuracy)
    print("\nThe goal, on the same folds or seeds:\n")
    goal(runs)
    print("\nMinutes per run (mean):\n")
    table(runs, variants, "minutes", lambda variant, corpus, minutes: f"{minutes.mean():.1f}")


def goal(runs: pd.DataFrame) -> None:
    """Per corpus: CNN-rand's difference from Kim, and each word2vec variant's mean difference
    from CNN-rand and from the baseline over the folds (or seeds) both ran, with how many of
    them it is above on. A baseline run without folds is deterministic: it stands for every seed.
    """
    word2vec = [variant for variant in PUBLISHED if variant != "rand"]
    header = " | ".join(f"{v} - rand | {v} - baseline" for v in word2vec)
    print(f"| corpus | rand - Kim | {header} |")
    print("|" + "---|" * (2 + 2 * len(word2vec)))
    for corpus in CORPORA:
        rows = runs[runs["corpus"] == corpus]
        key = "fold" if rows["fold"].ne("None").any() else "seed"
        acc = {variant: group.set_index(key)["acc"] for variant, group in rows.groupby("variant")}
        none = pd.Series(dtype=float)
        rand, baseline = acc.get("rand", none), acc.get("tfidf_lr (baseline)", none)
        published = PUBLISHED["rand"].get(corpus.split(" ")[0])
        cells = [f"{rand.mean() - published:+.1f}" if len(rand) else "-"]
        for variant in word2vec:
            runs_of = acc.get(variant, none)
            cells.append(versus(runs_of, rand))
            cells.append(versus(runs_of, baseline, fixed=key == "seed"))
        print(f"| {corpus} | " + " | ".join(cells) + " |")


def versus(a: pd.Series, b: pd.Series, fixed: bool = False) -> str:
    """Mean of a - b over the keys both have, and on how many a is above (b fixed: b's one
    value stands for every key)."""
    if fixed and len(b) == 1:
        b = pd.Series(b.iloc[0], index=a.index)
    common = a.index.intersection(b.index)
    if common.empty:
        return "-"
    diff = a[common] - b[common]
    return f"{diff.mean():+.1f} ({(diff > 0).sum()}/{len(diff)})"


def table(
    runs: pd.DataFrame, variants: list[str], value: str, cell: Callable[[str, str, pd.Series], str]
) -> None:
    """Print a markdown table of cell(variant, corpus, values) for each variant and corpus."""
    print("| variant | " + " | ".join(CORPORA) + " |")
    print("|" + "---|" * (len(CORPORA) + 1))
    for variant in variants:
        cells = []
        for corpus in CORPORA:
            values = runs.loc[(runs["variant"] == variant) & (runs["corpus"] == corpus), value]
            values = values.dropna()
            cells.append(cell(variant, corpus, values) if len(values) else "-")
        print(f"| {variant} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
