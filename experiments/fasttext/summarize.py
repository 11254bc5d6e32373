"""The fastText study's table from the MLflow runs tagged study=fasttext: test accuracy (mean ±
std over seeds) of the bag model and of fastText, each with and without bigrams, and of TF-IDF +
logistic regression, per corpus; the bag model's difference from fastText beside each cell.

    python experiments/fasttext/summarize.py [--store URI]
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

COLUMNS = ("bag", "bag + bigrams", "fastText", "fastText + bigrams", "TF-IDF + LR")


def system(run: pd.Series) -> str:
    if run["tags.model"] == "tfidf_lr":
        return "TF-IDF + LR"
    name = "fastText" if run["tags.model"] == "fasttext" else "bag"
    return name + (" + bigrams" if str(run["params.model.ngrams"]) == "2" else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="tracking URI (default: as wordlab.runs)")
    args = parser.parse_args()
    runs = wordlab.runs(
        filter="tags.study = 'fasttext' and attributes.status = 'FINISHED'", tracking_uri=args.store
    )
    if runs.empty:
        raise SystemExit(
            f"no finished runs tagged study=fasttext in {args.store or 'the default store'}"
        )
    runs["system"] = runs.apply(system, axis=1)
    runs["acc"] = 100 * runs["metrics.test/acc"]
    table = runs.groupby(["tags.dataset", "system"])["acc"].agg(["mean", "std", "count"])
    print("| corpus | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 1))
    for corpus in sorted(runs["tags.dataset"].unique()):
        cells = []
        for column in COLUMNS:
            if (corpus, column) not in table.index:
                cells.append("-")
                continue
            mean, std, count = table.loc[(corpus, column)]
            cell = f"{mean:.1f} ± {std:.1f} (n={count:.0f})" if count > 1 else f"{mean:.1f} (n=1)"
            reference = column.replace("bag", "fastText")
            if column.startswith("bag") and (corpus, reference) in table.index:
                cell += f" ({mean - table.loc[(corpus, reference), 'mean']:+.1f} vs fastText)"
            cells.append(cell)
        print(f"| {corpus} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
