"""Initial word-vector tables for a vocabulary: random, word2vec, pretrained files, GloVe."""

from wordlab.embeddings.base import InitialEmbeddings
from wordlab.embeddings.glove import glove_embeddings
from wordlab.embeddings.pretrained import pretrained_embeddings
from wordlab.embeddings.random import random_embeddings
from wordlab.embeddings.word2vec import word2vec_embeddings

__all__ = [
    "InitialEmbeddings",
    "glove_embeddings",
    "pretrained_embeddings",
    "random_embeddings",
    "word2vec_embeddings",
]
