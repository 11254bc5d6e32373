"""Static, non-static and multichannel embeddings inside the classifier."""

from functools import partial

import pytest
import torch

from wordlab.data import Vocabulary
from wordlab.data.batching import TokenizedSplit
from wordlab.embeddings import InitialEmbeddings
from wordlab.models import BagEncoder, CNNEncoder
from wordlab.tasks.classification import TextClassifier

VOCAB = Vocabulary(["<pad>", "<unk>"] + [f"w{i}" for i in range(10)])
BATCH = TokenizedSplit.from_lists([[2, 3, 4], [5, 6]], "padded").__getitems__([0, 1])


def classifier(freeze: bool, multichannel: bool) -> TextClassifier:
    torch.manual_seed(0)
    weight = torch.randn(len(VOCAB), 4)
    weight[0] = 0
    table = InitialEmbeddings(weight, freeze=freeze, multichannel=multichannel)
    encoder = CNNEncoder(table.output_dim, num_filters=3, kernel_sizes=[2])
    return TextClassifier(encoder, table, ["a", "b"], partial(torch.optim.SGD, lr=1.0))


def step(model: TextClassifier) -> None:
    optimizer = model.configure_optimizers()
    torch.nn.functional.cross_entropy(model(BATCH), torch.tensor([0, 1])).backward()
    optimizer.step()


def test_multichannel_concatenates_a_frozen_and_a_tuned_copy() -> None:
    model = classifier(freeze=False, multichannel=True)
    assert model.embedder(BATCH["input_ids"]).shape == (2, 3, 8)
    static, tuned = (
        model.embedder.static_embedding.weight.clone(),
        model.embedder.embedding.weight.clone(),
    )
    step(model)
    assert torch.equal(model.embedder.static_embedding.weight, static)
    assert not torch.equal(model.embedder.embedding.weight[2:7], tuned[2:7])
    assert model.embedder.initial is not None


@pytest.mark.parametrize(("freeze", "moves"), [(True, False), (False, True)])
def test_static_and_non_static(freeze: bool, moves: bool) -> None:
    model = classifier(freeze=freeze, multichannel=False)
    before = model.embedder.embedding.weight.clone()
    step(model)
    assert torch.equal(model.embedder.embedding.weight, before) != moves
    assert (model.embedder.initial is None) == freeze


def test_multichannel_needs_a_padded_encoder() -> None:
    table = InitialEmbeddings(torch.zeros(len(VOCAB), 4), multichannel=True)
    with pytest.raises(ValueError, match="embedding.multichannel"):
        TextClassifier(BagEncoder(4), table, ["a", "b"], partial(torch.optim.SGD, lr=1.0))
