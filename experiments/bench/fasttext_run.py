"""B1 baseline: fastText's supervised classifier (``fasttext-numpy2`` wheel) on prepared files.

Run once per process: fastText reuses uninitialised memory when it trains twice in one process.
The training file is shuffled beforehand (fastText reads it in order and IMDB is sorted by
label). Prints one JSON line.

    python experiments/bench/fasttext_run.py --train train.txt --test test.txt --epoch 10
        [--valid valid.txt] [--lr 0.1] [--seed 13] [--dim 100] [--word-ngrams 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--valid", help="also report accuracy on this file")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epoch", type=int, default=10)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--word-ngrams", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    import fasttext

    model = fasttext.train_supervised(
        input=args.train, epoch=args.epoch, dim=args.dim, wordNgrams=args.word_ngrams,
        thread=args.threads, bucket=2_000_000, lr=args.lr, verbose=0, seed=args.seed,
    )  # fmt: skip
    trained = time.perf_counter() - started
    count, precision, _ = model.test(args.test)
    result = {"test_acc": precision, "test_size": count, "train_seconds": trained}
    if args.valid:
        result["valid_acc"] = model.test(args.valid)[1]
    print(json.dumps(result | {"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
