"""The Kim (2014) table from the MLflow runs tagged study=kim2014: mean ± std of test
accuracy over folds or seeds per corpus and variant, next to Kim's numbers. Runs with another
optimizer than Kim's Adadelta, or without Kim's wide convolution (model.padding=0, or logged
before the option existed), get their own row; SST runs trained on phrases (data=sst2_phrases,
sst5_phrases; Kim's setting) their own column.

    python experiments/kim2014/summarize.py [--store URI [--store URI ...]]
"""

from __future__ import annotations

import argparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--store", action="append", help="tracking URI, repeatable (default: as wordlab.runs)"
    )
    args = parser.parse_args()
    runs = pd.concat(
        wordlab.runs(
            filter="tags.study = 'kim2014' and attributes.status = 'FINISHED'", tracking_uri=store
        )
        for store in args.store or [None]
    )
    if runs.empty:
        raise SystemExit(
            f"no finished runs tagged study=kim2014 in {args.store or 'the default store'}"
        )
    runs = runs.reset_index(drop=True)
    runs["corpus"] = runs["tags.dataset"].str.split("-").str[0]
    phrases = runs.get("params.data.phrase_labels.4", pd.Series(None, index=runs.index))
    runs.loc[phrases.notna(), "corpus"] += " phrases"
    runs["variant"] = runs["tags.variant"].fillna("tfidf_lr (baseline)")
    optimizer = runs.get("params.system.optimizer._target_", pd.Series(None, index=runs.index))
    other = optimizer.notna() & (optimizer != "torch.optim.Adadelta")
    notes = pd.Series("", index=runs.index)
    notes[other] = optimizer[other].str.rsplit(".", n=1).str[-1]
    padding = runs.get("params.model.padding", pd.Series(None, index=runs.index))
    narrow = runs["tags.variant"].notna() & padding.fillna(0).astype(int).eq(0)
    notes[narrow] = (notes[narrow] + ", no padding").str.lstrip(", ")
    runs.loc[notes != "", "variant"] += " (" + notes[notes != ""] + ")"
    header = "| variant | " + " | ".join(CORPORA) + " |"
    print(header)
    print("|" + "---|" * (len(CORPORA) + 1))
    order = [*PUBLISHED, "tfidf_lr"]  # Kim's row order, the baseline last

    def rank(variant: str) -> tuple[int, str]:
        return order.index(variant.split(" ")[0]), variant

    for variant in sorted(runs["variant"].unique(), key=rank):
        group = runs[runs["variant"] == variant]
        cells = []
        for corpus in CORPORA:
            acc = 100 * group.loc[group["corpus"] == corpus, "metrics.test/acc"]
            if acc.empty:
                cells.append("-")
                continue
            spread = f" ± {acc.std():.1f}" if len(acc) > 1 else ""
            cell = f"{acc.mean():.1f}{spread} (n={len(acc)})"
            published = PUBLISHED.get(variant.split(" ")[0], {}).get(corpus.split(" ")[0])
            if published is not None:
                cell += f"; Kim {published} ({acc.mean() - published:+.1f})"
            cells.append(cell)
        print(f"| {variant} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
