"""B4: preparing IMDB (tokenize, vocabulary, numericalize), wordlab against a plain loop.

    python experiments/bench/data_prep.py wordlab --data DIR --cache CACHE [--num-proc 2]
    python experiments/bench/data_prep.py loop --data DIR

``wordlab``: ``TextDataModule.prepare()``: reading the JSON Lines into Arrow with ``datasets``,
the stratified validation cut, tokenization (Arrow string kernels for ASCII texts), the
vocabulary (Arrow ``value_counts``), numericalization (Arrow ``index_in``) and saving the
cache; run it again with the same cache for the cached figure. ``loop``: one process reads the
same files line by line, tokenizes with the same regex, counts with ``collections.Counter``,
and maps tokens to ids. Prints one JSON line (seconds of the preparation itself, imports
excluded).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path


def loop(folder: Path) -> dict:
    from wordlab.data.tokenizers import RegexTokenizer

    tokenize = RegexTokenizer(lowercase=True)
    started = time.perf_counter()
    splits = {}
    for path in sorted(folder.glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        splits[path.name.split(".")[0]] = [(tokenize(r["text"])[:400], r["label"]) for r in rows]
    counts = Counter(token for tokens, _ in splits["train"] for token in tokens)
    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", *(t for t, _ in counts.most_common())])}
    ids = {
        name: [[vocab.get(t, 1) for t in tokens] for tokens, _ in rows]
        for name, rows in splits.items()
    }
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "vocab": len(vocab), "tokens": sum(len(r) for r in ids["train"])}


def wordlab(folder: Path, cache: Path, num_proc: int | None) -> dict:
    import datasets

    from wordlab.data import TextDataModule

    datasets.disable_progress_bars()
    data = TextDataModule(path=str(folder), cache_dir=str(cache), max_length=400, num_proc=num_proc)
    started = time.perf_counter()
    data.prepare()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "vocab": len(data.vocab), "tokens": data.stats["train_tokens"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["wordlab", "loop"])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--num-proc", type=int)
    args = parser.parse_args()
    if args.what == "loop":
        print(json.dumps(loop(args.data)))
    else:
        print(json.dumps(wordlab(args.data, args.cache, args.num_proc)))


if __name__ == "__main__":
    main()
