#!/usr/bin/env bash
# Does word2vec help the CNN? Random vs word2vec (static and non-static) on MR and SST-2.
#
#   bash experiments/embeddings/run_study.sh && python experiments/embeddings/summarize.py
#
# word2vec: skip-gram, 300-d, trained by the embedding group on each corpus's training text plus
# IMDB's 25,000 training reviews (unlabelled); cached, so it is trained once per corpus.
set -euo pipefail
D=${DATA:-../shared/data}
COMMON=(trainer=cpu callbacks.progress_bar=null embedding.embedding_dim=300 seed=1,2,3 +tags.study=embeddings)
for corpus in mr/split_seed13 sst2; do
  wordlab-train --multirun data=local "data.path=$D/$corpus" embedding=random "${COMMON[@]}" \
    "sweep_name=embeddings $corpus random"
  wordlab-train --multirun data=local "data.path=$D/$corpus" embedding=word2vec \
    "embedding.extra_text=[$D/imdb/train.jsonl.gz]" embedding.freeze=true,false "${COMMON[@]}" \
    "sweep_name=embeddings $corpus word2vec"
done
