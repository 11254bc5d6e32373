import pytest
import torch

from wordlab.models import RNNEncoder


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_output_shape(cell: str, bidirectional: bool) -> None:
    encoder = RNNEncoder(input_dim=6, hidden_dim=5, cell=cell, bidirectional=bidirectional)
    out = encoder(torch.randn(3, 7, 6), torch.ones(3, 7, dtype=torch.bool))
    assert out.shape == (3, 10 if bidirectional else 5) == (3, encoder.output_dim)


@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
def test_padding_does_not_change_output(pooling: str) -> None:
    torch.manual_seed(0)
    encoder = RNNEncoder(input_dim=4, hidden_dim=3, num_layers=2, pooling=pooling).eval()
    short, long = torch.randn(1, 3, 4), torch.randn(1, 6, 4)
    batch = torch.cat([torch.cat([short, torch.randn(1, 3, 4)], dim=1), long])  # (2, 6, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    together = encoder(batch, mask)
    assert torch.allclose(together[0], encoder(short, mask[:1, :3])[0], atol=1e-6)
    assert torch.allclose(together[1], encoder(long, mask[1:])[0], atol=1e-6)


def test_mean_pooling_by_hand() -> None:
    encoder = RNNEncoder(input_dim=1, hidden_dim=1, bidirectional=False, cell="gru", pooling="mean")
    tokens = torch.randn(1, 4, 1)
    mask = torch.ones(1, 4, dtype=torch.bool)
    outputs, _ = encoder.rnn(tokens)
    assert torch.allclose(encoder.eval()(tokens, mask), outputs.mean(dim=1), atol=1e-6)


def test_unknown_options_are_named() -> None:
    with pytest.raises(ValueError, match="model.cell"):
        RNNEncoder(input_dim=2, cell="transformer")
    with pytest.raises(ValueError, match="model.pooling"):
        RNNEncoder(input_dim=2, pooling="attention")


def test_per_token_states_without_pooling() -> None:
    torch.manual_seed(0)
    per_token = RNNEncoder(input_dim=4, hidden_dim=3, num_layers=2, pooling=None).eval()
    pooled = RNNEncoder(input_dim=4, hidden_dim=3, num_layers=2, pooling="max").eval()
    pooled.load_state_dict(per_token.state_dict())
    short, long = torch.randn(1, 3, 4), torch.randn(1, 6, 4)
    batch = torch.cat([torch.cat([short, torch.randn(1, 3, 4)], dim=1), long])  # (2, 6, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    states = per_token(batch, mask)
    assert states.shape == (2, 6, per_token.output_dim) == (2, 6, 6)
    assert torch.all(states[0, 3:] == 0)  # padding
    assert torch.allclose(states[0, :3], per_token(short, mask[:1, :3])[0], atol=1e-6)
    assert torch.allclose(states[1], per_token(long, mask[1:])[0], atol=1e-6)
    assert torch.allclose(states[0, :3].max(0).values, pooled(batch, mask)[0], atol=1e-6)
