from functools import partial

import pytest
import torch

from wordlab.data import Vocabulary
from wordlab.data.batching import TokenizedSplit
from wordlab.embeddings import InitialEmbeddings, random_embeddings
from wordlab.models import BagEncoder, CNNEncoder, RNNEncoder
from wordlab.systems.optimizers import RowwiseAdagrad
from wordlab.tasks.classification import TextClassifier

VOCAB = Vocabulary(["<pad>", "<unk>"] + [f"w{i}" for i in range(20)])
ROWS = [[2, 3, 4], [5], [6, 7, 8, 9, 10], [11, 12]]


def system(encoder, freeze: bool = False) -> TextClassifier:
    return TextClassifier(
        encoder=encoder,
        embeddings=random_embeddings(VOCAB, embedding_dim=6, freeze=freeze),
        label_names=["a", "b", "c"],
        optimizer=partial(torch.optim.SGD, lr=0.1),
    )


@pytest.mark.parametrize(
    "encoder",
    [
        CNNEncoder(6, num_filters=4, kernel_sizes=[2]),
        RNNEncoder(6, hidden_dim=3),
        BagEncoder(6, ngrams=2, buckets=11),
    ],
    ids=["cnn", "rnn", "bag"],
)
def test_logits_for_each_encoder_layout(encoder) -> None:
    model = system(encoder).eval()
    batch = TokenizedSplit.from_lists(ROWS, encoder.input_layout).__getitems__([0, 1, 2, 3])
    logits = model(batch)
    assert logits.shape == (4, 3)
    single = TokenizedSplit.from_lists(ROWS[2:3], encoder.input_layout).__getitems__([0])
    assert torch.allclose(model(single)[0], logits[2], atol=1e-5)


def test_frozen_embeddings_do_not_move() -> None:
    model = system(CNNEncoder(6, num_filters=4, kernel_sizes=[2]), freeze=True)
    optimizer = model.configure_optimizers()
    before = model.embedder.embedding.weight.clone()
    batch = TokenizedSplit.from_lists(ROWS, "padded").__getitems__([0, 1, 2, 3])
    loss = torch.nn.functional.cross_entropy(model(batch), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    optimizer.step()
    assert torch.equal(model.embedder.embedding.weight, before)
    assert all(
        p is not model.embedder.embedding.weight
        for g in optimizer.param_groups
        for p in g["params"]
    )


@pytest.mark.parametrize("optimizer_class", [RowwiseAdagrad, torch.optim.Adagrad])
def test_sparse_bag_updates_only_the_rows_it_saw(optimizer_class: type) -> None:
    model = TextClassifier(
        encoder=BagEncoder(6, ngrams=2, buckets=11, sparse=True),
        embeddings=random_embeddings(VOCAB, embedding_dim=6),
        label_names=["a", "b", "c"],
        optimizer=partial(optimizer_class, lr=0.5),
    )
    optimizer = model.configure_optimizers()
    before = model.embedder.embedding.weight.clone()
    batch = TokenizedSplit.from_lists(ROWS[:2], "flat").__getitems__([0, 1])  # ids 2, 3, 4, 5
    torch.nn.functional.cross_entropy(model(batch), torch.tensor([0, 1])).backward()
    assert model.embedder.embedding.weight.grad.is_sparse
    optimizer.step()
    moved = (model.embedder.embedding.weight != before).any(dim=1).nonzero().flatten().tolist()
    assert moved == [2, 3, 4, 5]


def test_sparse_gradients_need_a_sparse_optimizer() -> None:
    model = TextClassifier(
        encoder=BagEncoder(6, sparse=True),
        embeddings=random_embeddings(VOCAB, embedding_dim=6),
        label_names=["a", "b"],
        optimizer=partial(torch.optim.Adam, lr=0.1),
    )
    with pytest.raises(ValueError, match="optimizer=rowwise_adagrad"):
        model.configure_optimizers()


def test_an_encoder_without_pooling_is_refused() -> None:
    encoder = CNNEncoder(input_dim=4, num_filters=2, kernel_sizes=[2], pooling=None)
    with pytest.raises(ValueError, match="model.pooling=null gives one vector per token"):
        TextClassifier(encoder, InitialEmbeddings(weight=torch.zeros(5, 4)), ["a", "b"])
