#!/usr/bin/env bash
# The CoNLL-2003 study: NER with BiLSTM + char CNN + CRF and three kinds of word vectors, the
# ablations (softmax vs CRF, chars or not), part of speech and chunking; then the table.
# Each line is a multirun: launched again (after a stop or a time limit) it trains only the
# jobs that have not finished. On 2 CPU cores a NER run takes about 1-2 hours; a GPU is
# much faster (trainer=gpu).
#
#   bash experiments/conll2003/run_study.sh && python experiments/conll2003/summarize.py
set -euo pipefail
D=${WORDLAB_DATA:-../shared/data}
P="experiment=conll2003/bilstm_cnn_crf callbacks.progress_bar=null"
# Without GloVe, a word seen only outside training has no vector to bring: it reads <unk>
# (data.vocab_splits=[train]) instead of a random row that training never moves.
W2V="embedding=word2vec embedding.embedding_dim=100 embedding.extra_text=[$D/wikitext2/train.txt] data.vocab_splits=[train]"
wordlab-train --multirun $P seed=1,2,3 "sweep_name=conll2003 glove"
wordlab-train --multirun $P $W2V seed=1,2,3 "sweep_name=conll2003 word2vec"
wordlab-train --multirun $P embedding=random embedding.embedding_dim=100 data.vocab_splits=[train] seed=1,2,3 \
  "sweep_name=conll2003 random"
wordlab-train --multirun $P system.head=softmax,crf system.chars=null,cnn seed=1 \
  "sweep_name=conll2003 ablation"
wordlab-train --multirun $P data.label_field=pos_tags data.tag_scheme=null task.monitor=val/acc \
  optimized_metric=val/acc_best seed=1 "sweep_name=conll2003 pos"
wordlab-train --multirun $P data.label_field=chunk_tags seed=1 "sweep_name=conll2003 chunking"
