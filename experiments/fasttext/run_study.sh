#!/usr/bin/env bash
# The bag model with and without bigrams against fastText itself and TF-IDF + logistic
# regression, on the same splits and tokens, 5 seeds each; then the table from MLflow.
#
#   bash experiments/fasttext/run_study.sh && python experiments/fasttext/summarize.py
set -euo pipefail
D=${WORDLAB_DATA:-../shared/data}
HERE=$(dirname "$0")
for corpus in imdb sst2 trec mr/split_seed13; do
  wordlab-train --multirun experiment=fasttext/bag model.ngrams=1,2 seed=1,2,3,4,5 data=local \
    "data.path=$D/$corpus" callbacks.progress_bar=null "sweep_name=fasttext $corpus"
  for ngrams in 1 2; do
    for seed in 1 2 3 4 5; do
      python "$HERE/run_fasttext.py" data=local "data.path=$D/$corpus" --word-ngrams "$ngrams" \
        --seed "$seed" || echo "fastText run failed (recorded in MLflow): $corpus ngrams=$ngrams seed=$seed"
    done
  done
  wordlab-baseline data=local "data.path=$D/$corpus" +tags.study=fasttext
done
