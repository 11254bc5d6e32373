"""``init_from``: a classifier starts from a language model's encoder and word vectors."""

from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from wordlab.config import compose
from wordlab.data.vocab import Vocabulary
from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models import RNNEncoder
from wordlab.tasks.classification import TextClassifier
from wordlab.tasks.language_model import LanguageModel
from wordlab.train import fit
from wordlab.transfer import transfer

LM_WORDS = ["<pad>", "<unk>", "<eos>", "good", "bad", "plot"]


def language_model_checkpoint() -> dict:
    torch.manual_seed(0)
    encoder = RNNEncoder(4, 6, bidirectional=False, pooling=None)
    system = LanguageModel(encoder, InitialEmbeddings(weight=torch.randn(6, 4)), LM_WORDS)
    return {"state_dict": system.state_dict(), "wordlab": {"vocab": LM_WORDS}}


def classifier(hidden: int = 6) -> TextClassifier:
    encoder = RNNEncoder(4, hidden, bidirectional=True, pooling="max")
    return TextClassifier(encoder, InitialEmbeddings(weight=torch.zeros(5, 4)), ["neg", "pos"])


def test_the_forward_direction_and_shared_words_are_copied() -> None:
    checkpoint = language_model_checkpoint()
    state = checkpoint["state_dict"]
    system = classifier()
    vocab = Vocabulary(["<pad>", "<unk>", "plot", "movie", "good"])
    figures = transfer(system, checkpoint, vocab, "test")
    rnn = system.encoder.rnn
    assert torch.equal(rnn.weight_hh_l0, state["encoder.rnn.weight_hh_l0"])
    assert not torch.equal(rnn.weight_hh_l0_reverse[:4], state["encoder.rnn.weight_hh_l0"][:4])
    table = system.embedder.embedding.weight
    assert torch.equal(table[2], state["embedder.embedding.weight"][5])  # plot
    assert torch.equal(table[4], state["embedder.embedding.weight"][3])  # good
    assert not table[3].any()  # "movie": the language model never saw it
    assert figures == {"init/encoder_tensors": 4.0, "init/words_found": pytest.approx(2 / 3)}
    assert float(system.embedder.drift()) == 0.0  # drift counts from the copied vectors


def test_nothing_that_fits_is_an_error_naming_the_option() -> None:
    with pytest.raises(ValueError, match="none of its encoder's weights fit"):
        transfer(classifier(hidden=5), language_model_checkpoint(), Vocabulary(LM_WORDS), "x")


@pytest.mark.slow
def test_a_classifier_trains_from_a_language_model_run(
    tiny_corpus: Path, train_overrides: list[str]
) -> None:
    small = ["model.hidden_dim=16", "model.num_layers=1", "embedding.embedding_dim=16"]
    lm = fit(
        compose(
            [
                "task=language_model",
                "model=rnn",
                "data=local",
                f"data.path={tiny_corpus}",
                "data.tokenizer=regex",
                "data.lowercase=true",
                "data.bptt=8",
                "data.batch_size=4",
                "trainer.max_epochs=1",
                "callbacks.progress_bar=null",
                *small,
            ]
        )
    )
    overrides = [o for o in train_overrides if not o.startswith("model.")]
    cfg = compose([*overrides, "model=rnn", *small, f"init_from={lm.run_id}"])
    result = fit(cfg)
    run = MlflowClient(cfg.logger.tracking_uri).get_run(result.run_id)
    assert run.data.params["init_from"] == lm.run_id
    assert run.data.metrics["init/encoder_tensors"] == 4.0
    assert run.data.metrics["init/words_found"] == 1.0  # the same texts, the same words
    with pytest.raises(ValueError, match="init_from=nosuchrun"):
        fit(compose([*overrides, "model=rnn", *small, "init_from=nosuchrun"]))
