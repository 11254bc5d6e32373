#!/usr/bin/env bash
# Does a language model pretrained on IMDB's reviews help an LSTM classifier on MR and SST-2?
# 1. A one-layer LSTM language model (150 hidden units, 300-d vectors: the sizes of
#    experiment=rnn/lstm) on the text of IMDB's 25,000 training reviews (its train file, 10% cut
#    out for validation and 10% for test), tokenized and lowercased as the classifiers are, the
#    20,000 most frequent words, one epoch (about an hour on one core of a 2-core machine).
# 2. experiment=rnn/lstm on MR and SST-2, seeds 1-3, from random vectors and from the language
#    model (init_from: its LSTM and the vectors of the words both vocabularies share).
#   bash experiments/lm/pretrain_study.sh [DATA_DIR] && python experiments/lm/pretrain_summary.py
set -euo pipefail
D=${1:-${WORDLAB_DATA:-../shared/data}}
TAGS=(tags.study=imdb_pretraining)
P=callbacks.progress_bar=null
if [ -z "${LM:-}" ]; then
  wordlab-train task=language_model model=rnn data=local "data.path=$D/imdb" \
    "data.data_files={train: $D/imdb/train.jsonl.gz}" data.tokenizer=regex data.lowercase=true \
    data.max_size=20000 data.batch_size=64 model.num_layers=1 model.hidden_dim=150 \
    embedding.embedding_dim=300 trainer.max_epochs=1 seed=1 $P "+${TAGS[0]}" +tags.variant=lm
  LM=$(python -c "import wordlab; r = wordlab.runs(filter=\"tags.study = 'imdb_pretraining' \
and tags.variant = 'lm' and attributes.status = 'FINISHED'\"); print(r.run_id.iloc[-1])")
fi
for corpus in mr/split_seed13 sst2; do
  wordlab-train --multirun experiment=rnn/lstm data=local "data.path=$D/$corpus" seed=1,2,3 \
    "init_from=null,$LM" "${TAGS[@]}" tags.variant=lstm $P "sweep_name=imdb pretraining $corpus"
done
