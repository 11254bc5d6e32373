"""The translation study's table from the MLflow runs tagged study=multi30k: test BLEU per
configuration and direction (mean ± std over seeds), greedy and with the beam, with the
published figure beside it.

    python experiments/multi30k/summarize.py [--store URI_OR_CSV ...] [--save runs.csv]

BLEU columns: `tok` is BLEU over the tokenizer's lowercased tokens (torchtext's `bleu_score`,
how the published tutorial scores), `lc` sacreBLEU on detokenized text lowercased, `cased`
sacreBLEU as is (the models write lowercase text, so it is lower), chrF sacreBLEU's.
`--save` writes one line per run as read from the stores; a `--store` ending in `.csv` reads
such a file back, so the table can be rebuilt without the MLflow store (runs.csv here).
"""

from __future__ import annotations

import argparse

import pandas as pd

import wordlab

# bentrevett/pytorch-seq2seq, Multi30k De->En test, greedy, BLEU over spaCy tokens lowercased.
PUBLISHED = {
    ("de-en", "mt/cho2014"): (20.6, 20.6),
    ("de-en", "mt/bahdanau2015"): (28.3, 28.3),
}
RECORD = [
    "run_id", "direction", "preset", "attention", "seed", "tok_greedy", "tok_beam",
    "lc_greedy", "lc_beam", "cased_beam", "chrf_beam", "beam", "epochs", "device", "started",
    "minutes",
]  # fmt: skip


def records(store: str | None) -> pd.DataFrame:
    """The runs of one store (a tracking URI, or a CSV written by --save) as RECORD columns."""
    if store is not None and store.endswith(".csv"):
        return pd.read_csv(store, dtype={"seed": str})[RECORD]
    runs = wordlab.runs(
        filter="tags.study = 'multi30k' and attributes.status = 'FINISHED'", tracking_uri=store
    )
    if runs.empty:
        return pd.DataFrame(columns=RECORD)
    runs["direction"] = runs["params.data.source_field"] + "-" + runs["params.data.target_field"]
    runs["preset"] = runs["tags.overrides"].fillna("").str.extract(r"experiment=(\S+)")[0]
    runs["attention"] = runs["params.system.attention"]
    runs["seed"] = runs["params.seed"].astype(str)
    for name, metric in [
        ("tok_greedy", "bleu_tok_greedy"),
        ("tok_beam", "bleu_tok"),
        ("lc_greedy", "bleu_lc_greedy"),
        ("lc_beam", "bleu_lc"),
        ("cased_beam", "bleu"),
        ("chrf_beam", "chrf"),
    ]:
        runs[name] = runs[f"metrics.test/{metric}"].round(2)
    runs["beam"] = runs["params.system.beam_size"]
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
        raise SystemExit("no finished runs tagged study=multi30k")
    if args.save:
        runs.sort_values(["direction", "preset", "seed"]).to_csv(args.save, index=False)
    print(
        "| direction | preset | attention | seeds | BLEU tok greedy | tok beam | lc greedy "
        "| lc beam | cased beam | chrF beam | goal (tok greedy) | published | epochs "
        "| minutes per epoch | device |"
    )
    print("|" + "---|" * 15)
    for (direction, preset, attention), group in runs.groupby(
        ["direction", "preset", "attention"], dropna=False
    ):
        goal, published = PUBLISHED.get((direction, preset), ("", ""))
        per_epoch = (group["minutes"] / group["epochs"]).mean()
        columns = ["tok_greedy", "tok_beam", "lc_greedy", "lc_beam", "cased_beam", "chrf_beam"]
        print(
            f"| {direction} | {preset} | {attention} | {len(group)} | "
            + " | ".join(cell(group[c]) for c in columns)
            + f" | {goal} | {published} | {cell(group['epochs'])} | {per_epoch:.1f} "
            f"| {', '.join(sorted(set(group['device'])))} |"
        )


if __name__ == "__main__":
    main()
