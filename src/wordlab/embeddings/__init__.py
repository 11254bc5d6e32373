"""Initial word-vector tables for a vocabulary."""

from wordlab.embeddings.base import InitialEmbeddings
from wordlab.embeddings.random import random_embeddings

__all__ = ["InitialEmbeddings", "random_embeddings"]
