"""Table of the embedding study from its MLflow runs (tag study=embeddings): mean ± std of
test accuracy over seeds, per corpus and embedding, next to Kim's (2014) CNN numbers.

    python experiments/embeddings/summarize.py [--store URI]
"""

from __future__ import annotations

import argparse

import wordlab

# Kim (2014), Table 2: CNN-rand, CNN-static, CNN-non-static (GoogleNews word2vec).
KIM = {"mr": (76.1, 81.0, 81.5), "sst2": (82.7, 86.8, 87.2)}
VARIANTS = ("random", "word2vec static", "word2vec non-static")


def variant(row) -> str:
    if row["params.embedding._target_"].endswith("random_embeddings"):
        return "random"
    return "word2vec static" if row["params.embedding.freeze"] == "True" else "word2vec non-static"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="tracking URI (default: as wordlab.runs)")
    args = parser.parse_args()
    runs = wordlab.runs(
        filter="tags.study = 'embeddings' and attributes.status = 'FINISHED'",
        tracking_uri=args.store,
    )
    runs["variant"] = runs.apply(variant, axis=1)
    runs["corpus"] = runs["tags.dataset"].str.split("-").str[0]
    print("| corpus | embedding | test acc % (mean ± std) | seeds | Kim 2014 | w2v vocab coverage |")
    print("|---|---|---|---|---|---|")
    for corpus, group in runs.groupby("corpus"):
        for index, name in enumerate(VARIANTS):
            rows = group[group["variant"] == name]
            if rows.empty:
                continue
            acc = 100 * rows["metrics.test/acc"]
            coverage = rows.get("metrics.embedding/vocab_coverage")
            cover = "" if coverage is None or coverage.isna().all() else f"{100 * coverage.mean():.1f}%"
            kim = KIM.get(corpus, ("",) * 3)[index]
            print(f"| {corpus} | {name} | {acc.mean():.1f} ± {acc.std():.1f} | {len(rows)} | {kim} | {cover} |")


if __name__ == "__main__":
    main()
