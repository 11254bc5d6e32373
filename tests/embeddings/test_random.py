import pytest
import torch

from wordlab.data import Vocabulary
from wordlab.embeddings import random_embeddings

VOCAB = Vocabulary(["<pad>", "<unk>", "a", "b"])


def test_shape_scale_and_zero_padding_row() -> None:
    table = random_embeddings(VOCAB, embedding_dim=8, init="uniform", scale=0.25)
    assert table.weight.shape == (4, 8) and table.embedding_dim == 8
    assert table.weight[0].abs().sum() == 0
    assert table.weight.abs().max() <= 0.25
    normal = random_embeddings(VOCAB, embedding_dim=2000, init="normal", scale=2.0)
    assert normal.weight[1:].std().item() == pytest.approx(2.0, rel=0.05)


def test_seeded() -> None:
    assert torch.equal(
        random_embeddings(VOCAB, seed=1).weight, random_embeddings(VOCAB, seed=1).weight
    )
    assert not torch.equal(
        random_embeddings(VOCAB, seed=1).weight, random_embeddings(VOCAB, seed=2).weight
    )


def test_unknown_init_names_option() -> None:
    with pytest.raises(ValueError, match="embedding.init"):
        random_embeddings(VOCAB, init="xavier")
