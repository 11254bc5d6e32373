import pytest
import torch
from torch import nn

from wordlab.models import BagEncoder
from wordlab.models.bag import NGRAM_HASH, hashed_ngrams


def test_mean_of_word_vectors() -> None:
    words = nn.Embedding(5, 2)
    with torch.no_grad():
        words.weight.copy_(torch.arange(10.0).view(5, 2))
    encoder = BagEncoder(input_dim=2)
    ids, offsets = torch.tensor([1, 2, 3, 4]), torch.tensor([0, 3])  # docs [1,2,3] and [4]
    out = encoder(ids, offsets, words)
    assert out.shape == (2, 2) == (2, encoder.output_dim)
    assert torch.allclose(out, torch.tensor([[4.0, 5.0], [8.0, 9.0]]))


def test_bigrams_stay_inside_documents() -> None:
    ids, offsets = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([0, 2])  # [1,2] and [3,4,5]
    buckets, owners = hashed_ngrams(ids, offsets, ngrams=2, buckets=1000)
    assert owners.tolist() == [0, 1, 1]  # (1,2), (3,4), (4,5); never (2,3)
    assert buckets.tolist() == [(a * NGRAM_HASH + b) % 1000 for a, b in [(1, 2), (3, 4), (4, 5)]]


def test_ngram_vectors_enter_the_mean() -> None:
    words = nn.Embedding(10, 3)
    encoder = BagEncoder(input_dim=3, ngrams=2, buckets=7)
    ids, offsets = torch.tensor([1, 2, 3]), torch.tensor([0])
    bucket_ids, _ = hashed_ngrams(ids, offsets, 2, 7)
    expected = (words(ids).sum(0) + encoder.ngram_embedding(bucket_ids).sum(0)) / 5
    assert torch.allclose(encoder(ids, offsets, words)[0], expected, atol=1e-6)


def test_document_output_does_not_depend_on_its_batch() -> None:
    torch.manual_seed(0)
    words = nn.Embedding(20, 4)
    encoder = BagEncoder(input_dim=4, ngrams=3, buckets=50).eval()
    doc = torch.tensor([3, 4, 5, 6])
    alone = encoder(doc, torch.tensor([0]), words)
    batch = encoder(torch.cat([torch.tensor([7, 8]), doc]), torch.tensor([0, 2]), words)
    assert torch.allclose(batch[1], alone[0], atol=1e-6)


def test_rejects_zero_ngrams() -> None:
    with pytest.raises(ValueError, match="model.ngrams"):
        BagEncoder(input_dim=2, ngrams=0)
