"""word2vec training speed: wordlab's embedding group against gensim called directly.

Both train skip-gram (300-d, window 5, 5 negatives, 5 epochs, all cores) on the same corpus,
IMDB's 25,000 training reviews, alternating A and B for several repetitions in one process.

    python experiments/embeddings/word2vec_speed.py --data ../shared/data/imdb --repeats 3

A (wordlab): ``word2vec_embeddings`` without a cache: tokenizing the training split, training,
and filling the table. B (gensim): ``Word2Vec`` on the same token lists, tokenized beforehand.
Prints words/s of the training call itself and of A's whole build.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import datasets
import gensim
from gensim.models import Word2Vec

from wordlab.data import TextDataModule
from wordlab.embeddings import word2vec_embeddings

SETTINGS = {"vector_size": 300, "sg": 1, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 1}
EPOCHS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/imdb")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    workers = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as cache:
        data = TextDataModule(path=args.data, cache_dir=cache, validation_fraction=0.0001)
        data.prepare()
        sentences = data.training_tokens()
        tokens = sum(len(s) for s in sentences)
        print(f"corpus: {len(sentences)} reviews, {tokens} tokens; {workers} workers")

        a_total, a_train, b_train = [], [], []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            table = word2vec_embeddings(
                data.vocab, data, embedding_dim=300, workers=workers, epochs=EPOCHS,
                output_dir=os.path.join(cache, "out"), log_vectors=False, seed=repeat,
            )  # fmt: skip
            a_total.append(tokens * EPOCHS / (time.perf_counter() - started))
            a_train.append(table.metrics["embedding/word2vec_words_per_second"])

            model = Word2Vec(workers=workers, seed=repeat, **SETTINGS)
            model.build_vocab(sentences)
            started = time.perf_counter()
            model.train(sentences, total_examples=model.corpus_count, epochs=EPOCHS)
            b_train.append(model.corpus_total_words * EPOCHS / (time.perf_counter() - started))
            print(
                f"repeat {repeat}: A train {a_train[-1]:,.0f} w/s, "
                f"A whole build {a_total[-1]:,.0f} w/s, B {b_train[-1]:,.0f} w/s"
            )

    def summary(values: list[float]) -> str:
        return f"{statistics.median(values):,.0f} (min {min(values):,.0f}, max {max(values):,.0f})"

    machine = platform.processor() or platform.machine()
    print(f"\nmachine: {machine}, {workers} cores; gensim {gensim.__version__}")
    print(f"A wordlab, training call:  {summary(a_train)} words/s")
    print(f"A wordlab, whole build:    {summary(a_total)} words/s")
    print(f"B gensim, training call:   {summary(b_train)} words/s")
    print(f"B / A (training call): {statistics.median(b_train) / statistics.median(a_train):.2f}")
    print(f"B / A (whole build):   {statistics.median(b_train) / statistics.median(a_total):.2f}")


if __name__ == "__main__":
    main()
