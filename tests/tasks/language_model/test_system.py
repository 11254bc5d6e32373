"""The language model: the state carried across windows, exact split losses, tying, sampling."""

import pytest
import torch
from torch.nn import functional as F

from wordlab.embeddings.base import InitialEmbeddings
from wordlab.models import CNNEncoder, RNNEncoder
from wordlab.tasks.language_model.data import EOS, IGNORE, StreamWindows
from wordlab.tasks.language_model.system import LanguageModel

VOCAB = ["<pad>", "<unk>", EOS, *[f"w{i}" for i in range(17)]]


def model(cell: str = "lstm", hidden: int = 8, dim: int = 8, **options: object) -> LanguageModel:
    torch.manual_seed(0)
    table = InitialEmbeddings(weight=torch.randn(len(VOCAB), dim))
    encoder = RNNEncoder(
        dim, hidden, num_layers=2, bidirectional=False, cell=cell, pooling=None, dropout=0.0
    )
    return LanguageModel(encoder, table, VOCAB, **options).eval()  # type: ignore[arg-type]


def split_loss(system: LanguageModel, stream: torch.Tensor, batch_size: int, bptt: int) -> float:
    """The mean token loss a validation pass computes (the system's own metric)."""
    with torch.no_grad():
        for window in StreamWindows(stream, batch_size, bptt):
            losses, real = system.window_losses(window, "val")
            system.val_nll.update(losses[real])
    return float(system.val_nll.compute())


def full_pass_losses(system: LanguageModel, piece: torch.Tensor) -> torch.Tensor:
    """Token losses of one piece read in a single window from a zero state."""
    with torch.no_grad():
        logits, _ = system(piece[:-1].unsqueeze(0))
    return F.cross_entropy(logits[0], piece[1:], reduction="none")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_windows_carry_the_state_so_a_split_reads_as_one_pass(cell: str) -> None:
    system = model(cell)
    stream = torch.randint(2, len(VOCAB), (61,))
    expected = full_pass_losses(system, stream).mean()
    assert split_loss(system, stream, batch_size=1, bptt=7) == pytest.approx(float(expected))


@pytest.mark.parametrize("batch_size", [2, 4, 9])
def test_the_split_loss_is_the_exact_average_over_every_token_whatever_the_batch_size(
    batch_size: int,
) -> None:
    system = model()
    stream = torch.randint(2, len(VOCAB), (50,))
    # the evaluation cuts the 49 targets into pieces of ceil(49 / B) read in parallel
    piece = -(-49 // batch_size)
    losses = torch.cat(
        [
            full_pass_losses(system, stream[start : start + piece + 1])
            for start in range(0, 49, piece)
        ]
    )
    assert len(losses) == 49
    loss = split_loss(system, stream, batch_size, bptt=5)
    assert loss == pytest.approx(float(losses.mean()), rel=1e-6)
    # and it differs from the batch-size-1 pass only by the pieces starting from a zero state
    assert loss == pytest.approx(split_loss(model(), stream, 1, 5), rel=0.05)


def test_training_windows_carry_a_detached_state_and_reset_at_the_first() -> None:
    system = model().train()
    windows = list(StreamWindows(torch.randint(2, len(VOCAB), (90,)), 3, 6, epoch=lambda: 0))
    system.window_losses(windows[0], "train")
    state = system._states["train"]
    assert all(not s.requires_grad for s in state)
    system.window_losses(windows[1], "train")
    assert not torch.equal(system._states["train"][0], state[0])
    system._states["train"] = tuple(torch.full_like(s, 9.0) for s in state)
    with torch.no_grad():
        first, _ = system.window_losses(windows[0], "train")  # a new epoch: from zeros
    system.eval()
    again, _ = system.window_losses(windows[0], "val")
    assert torch.allclose(first, again)


def test_tied_weights_share_one_table() -> None:
    system = model(tie_weights=True)
    assert system.decoder.weight is system.embedder.embedding.weight
    assert len(list(system.parameters())) == len(set(map(id, system.parameters())))
    with pytest.raises(ValueError, match=r"hidden size \(8, model.hidden_dim\) to equal the word"):
        model(tie_weights=True, dim=6)


def test_a_language_model_refuses_encoders_that_cannot_read_a_stream() -> None:
    table = InitialEmbeddings(weight=torch.randn(len(VOCAB), 8))
    with pytest.raises(ValueError, match="model=rnn, not CNNEncoder"):
        LanguageModel(CNNEncoder(8, pooling=None), table, VOCAB)
    both_ways = RNNEncoder(8, 8, bidirectional=True, pooling=None)
    with pytest.raises(ValueError, match="model.bidirectional=false"):
        LanguageModel(both_ways, table, VOCAB)


def test_generation_is_greedy_at_temperature_zero_and_reproducible_with_a_seed() -> None:
    system = model()
    context = [system.eos_id, 5, 6]
    greedy = system.generate(context, 10, temperature=0, stop_at_eos=False)
    assert system.generate(context, 10, temperature=1.0, top_k=1, stop_at_eos=False) == greedy
    assert len(greedy) == 10 and 0 not in greedy  # never <pad>
    draws = [
        system.generate(context, 10, generator=torch.Generator().manual_seed(3)) for _ in range(2)
    ]
    assert draws[0] == draws[1]
    stopped = system.generate(context, 200, generator=torch.Generator().manual_seed(1))
    assert system.eos_id not in stopped[:-1] and (
        len(stopped) < 200 or stopped[-1] == system.eos_id
    )
    with pytest.raises(ValueError, match="top_k=0"):
        system.generate(context, 3, top_k=0)


def test_padding_is_never_a_target() -> None:
    windows = list(StreamWindows(torch.randint(2, len(VOCAB), (10,)), 4, 5))
    assert all((w["targets"][w["input_ids"] == 0] == IGNORE).all() for w in windows)


def test_test_losses_are_kept_by_position_in_one_growing_buffer() -> None:
    from wordlab.tasks.language_model.system import PositionLosses

    kept = PositionLosses()
    kept.add(torch.tensor([5, 6, 7]), torch.tensor([0.5, 0.6, 0.7]))
    kept.add(torch.tensor([1, 2]), torch.tensor([0.1, 0.2]))
    kept.add(torch.tensor([40]), torch.tensor([4.0]))  # grows past twice its length
    positions, losses = kept.result()
    assert positions.tolist() == [1, 2, 5, 6, 7, 40]
    assert losses.tolist() == pytest.approx([0.1, 0.2, 0.5, 0.6, 0.7, 4.0])
