"""The RNN study's table from the MLflow runs tagged study=rnn: test accuracy (mean ± std over
seeds) per cell, embedding and corpus, with a published reference beside it where there is one.

    python experiments/rnn/summarize.py [--store URI]
"""

from __future__ import annotations

import argparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="tracking URI (default: as wordlab.runs)")
    args = parser.parse_args()
    runs = wordlab.runs(
        filter="tags.study = 'rnn' and attributes.status = 'FINISHED'", tracking_uri=args.store
    )
    if runs.empty:
        raise SystemExit(
            f"no finished runs tagged study=rnn in {args.store or 'the default store'}"
        )
    runs["embedding"] = runs["params.embedding._target_"].str.rsplit(".", n=1).str[-1]
    runs["embedding"] = runs["embedding"].str.replace("_embeddings", "")
    runs["acc"] = 100 * runs["metrics.test/acc"]
    print("| model | embedding | " + " | ".join(CORPORA) + " |")
    print("|" + "---|" * (len(CORPORA) + 2))
    for (variant, embedding), group in runs.groupby(["tags.variant", "embedding"]):
        cells = []
        for corpus in CORPORA:
            acc = group.loc[group["tags.dataset"] == corpus, "acc"]
            if acc.empty:
                cells.append("-")
                continue
            cell = f"{acc.mean():.1f} ± {acc.std():.1f} (n={len(acc)})"
            published = PUBLISHED.get(variant, {}).get(corpus)
            if corpus == "imdb":
                published = IMDB_REFERENCE
            if published is not None:
                cell += f"; {published[1]} {published[0]} ({acc.mean() - published[0]:+.1f})"
            cells.append(cell)
        print(f"| {variant} | {embedding} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
