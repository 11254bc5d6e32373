"""Bag of embeddings with hashed word n-grams (Joulin et al., 2016, "Bag of Tricks for
Efficient Text Classification", the fastText classifier)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

# fastText's multiplier for hashing a word n-gram from its word ids.
NGRAM_HASH = 116_049_371


def hashed_ngrams(
    token_ids: torch.Tensor, offsets: torch.Tensor, ngrams: int, buckets: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hash every word n-gram (2 <= n <= ``ngrams``) of each document into ``buckets``.

    Args:
        token_ids: Word ids of all documents back to back, shape (N,).
        offsets: Start of each document in ``token_ids``, shape (B,).
        ngrams: Longest n-gram; 1 gives no n-grams.
        buckets: Number of hash buckets.

    Returns:
        Bucket ids, shape (M,), and the document each belongs to, shape (M,).
    """
    lengths = torch.diff(offsets, append=offsets.new_tensor([token_ids.numel()]))  # (B,)
    document = torch.repeat_interleave(
        torch.arange(offsets.numel(), device=offsets.device), lengths
    )
    ids, owners = [], []
    for n in range(2, ngrams + 1):
        if token_ids.numel() < n:
            break
        span = token_ids.numel() - n + 1
        same_document = document[:span] == document[n - 1 :]  # (N - n + 1,)
        hashed = token_ids[:span].long()
        for j in range(1, n):
            hashed = hashed * NGRAM_HASH + token_ids[j : j + span]
        ids.append(torch.remainder(hashed[same_document], buckets))
        owners.append(document[:span][same_document])
    if not ids:
        empty = token_ids.new_zeros(0, dtype=torch.long)
        return empty, empty
    return torch.cat(ids), torch.cat(owners)


def ngram_spans(length: int, ngrams: int) -> list[tuple[int, int]]:
    """``(start, n)`` of each n-gram of one document, in the order ``hashed_ngrams`` gives them.

    Args:
        length: Tokens in the document.
        ngrams: Longest n-gram.
    """
    return [(start, n) for n in range(2, ngrams + 1) for start in range(length - n + 1)]


def _bag_sum(ids: torch.Tensor, offsets: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
    """Sum of the rows ``ids`` of ``table`` per document, shape (B, D).

    Each distinct id is looked up once per batch (frequent words repeat many times), so the
    gradient of the table, sparse or not, has one row per distinct id rather than per token.
    """
    distinct, position = torch.unique(ids, return_inverse=True)  # (U,), (N,)
    rows = F.embedding(distinct, table.weight, sparse=table.sparse)  # (U, D)
    return F.embedding_bag(position, rows, offsets, mode="sum")  # (B, D)


class BagEncoder(nn.Module):
    """Mean of the word vectors and hashed n-gram vectors of each document.

    Unlike the CNN and RNN encoders it reads token ids, flat and back to back with offsets
    (no padding), because n-grams are hashed from ids and ``embedding_bag`` is the fast path
    for a mean of rows. Its output feeds the same classification head.

    Args:
        input_dim: Size of the word vectors (and of the n-gram vectors).
        ngrams: Longest word n-gram added to the bag (1: words only; fastText's default 1,
            its text-classification results use 2).
        buckets: Hash buckets for n-grams (fastText: 2,000,000).
        dropout: Dropout on the document vector.
        sparse: Sparse gradients for the word and n-gram tables, so a step touches only the
            rows a batch uses (needs an optimizer that takes them: RowwiseAdagrad, Adagrad, SGD).
    """

    input_layout = "flat"

    def __init__(
        self,
        input_dim: int,
        ngrams: int = 1,
        buckets: int = 2_000_000,
        dropout: float = 0.0,
        sparse: bool = False,
    ) -> None:
        super().__init__()
        if ngrams < 1:
            raise ValueError(f"model.ngrams must be at least 1, got {ngrams}")
        self.ngrams = ngrams
        self.buckets = buckets
        self.sparse = sparse
        self.ngram_embedding: nn.Embedding | None = None
        if ngrams > 1:  # fastText's initialization; filled once (nn.Embedding's own is normal)
            weight = torch.empty(buckets, input_dim).uniform_(-1.0 / input_dim, 1.0 / input_dim)
            self.ngram_embedding = nn.Embedding.from_pretrained(weight, freeze=False, sparse=sparse)
        self.dropout = nn.Dropout(dropout)
        self._output_dim = input_dim

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(
        self, token_ids: torch.Tensor, offsets: torch.Tensor, word_embedding: nn.Embedding
    ) -> torch.Tensor:
        """Encode a batch.

        Args:
            token_ids: Word ids of all documents back to back, shape (N,).
            offsets: Start of each document in ``token_ids``, shape (B,).
            word_embedding: The word vector table, (vocabulary size, input_dim).

        Returns:
            Document vectors, shape (B, input_dim).
        """
        total = _bag_sum(token_ids, offsets, word_embedding)  # (B, D)
        count = torch.diff(offsets, append=offsets.new_tensor([token_ids.numel()])).to(total)
        if self.ngram_embedding is not None:
            ngram_ids, owner = hashed_ngrams(token_ids, offsets, self.ngrams, self.buckets)
            order = torch.argsort(owner, stable=True)  # group each document's n-grams
            per_document = torch.bincount(owner, minlength=offsets.numel())  # (B,)
            starts = torch.cumsum(per_document, 0) - per_document  # (B,)
            total = total + _bag_sum(ngram_ids[order], starts, self.ngram_embedding)  # (B, D)
            count = count + per_document.to(total)
        return self.dropout(total / count.clamp(min=1).unsqueeze(1))  # (B, D)

    def document_ngrams(self, token_ids: torch.Tensor) -> torch.Tensor:
        """The hashed n-gram vectors of one document, in ``ngram_spans`` order.

        Args:
            token_ids: Word ids of the document, shape (T,).

        Returns:
            N-gram vectors, shape (M, input_dim); M is 0 without n-grams.
        """
        if self.ngram_embedding is None:
            return torch.zeros(0, self._output_dim, device=token_ids.device)  # (0, D)
        offsets = token_ids.new_zeros(1)  # (1,)
        ngram_ids, _ = hashed_ngrams(token_ids, offsets, self.ngrams, self.buckets)  # (M,)
        return self.ngram_embedding(ngram_ids)  # (M, D)

    def forward_embedded(
        self,
        word_vectors: torch.Tensor,
        token_ids: torch.Tensor,
        ngram_vectors: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Encode copies of one document from its word vectors, as ``forward`` would.

        Attribution methods vary the vectors of each token (and n-gram) separately, so this
        takes them as tensors rather than looking them up by id.

        Args:
            word_vectors: The document's word vectors, shape (S, T, input_dim), one row per
                copy (for example the steps of integrated gradients).
            token_ids: The document's word ids, shape (T,), for its hashed n-grams.
            ngram_vectors: The document's n-gram vectors, shape (S, M, input_dim); default
                those of ``document_ngrams``.

        Returns:
            Document vectors, shape (S, input_dim).
        """
        if ngram_vectors is None:
            ngrams = self.document_ngrams(token_ids)  # (M, D)
            ngram_vectors = ngrams.unsqueeze(0).expand(word_vectors.size(0), -1, -1)  # (S, M, D)
        total = word_vectors.sum(dim=1) + ngram_vectors.sum(dim=1)  # (S, D)
        count = max(word_vectors.size(1) + ngram_vectors.size(1), 1)
        return self.dropout(total / count)  # (S, D)
