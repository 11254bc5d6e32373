import pytest
import torch

from wordlab.models import CNNEncoder


def test_output_shape() -> None:
    encoder = CNNEncoder(input_dim=6, num_filters=4, kernel_sizes=[2, 3])
    out = encoder(torch.randn(3, 7, 6), torch.ones(3, 7, dtype=torch.bool))
    assert out.shape == (3, 8)
    assert encoder.output_dim == 8


@pytest.mark.parametrize("wide", [0, 3])
@pytest.mark.parametrize("length", [1, 2, 5, 9])
def test_padding_does_not_change_output(length: int, wide: int) -> None:
    torch.manual_seed(0)
    encoder = CNNEncoder(5, num_filters=3, kernel_sizes=[2, 3, 4], padding=wide).eval()
    tokens = torch.randn(1, length, 5)
    alone = encoder(tokens, torch.ones(1, length, dtype=torch.bool))
    padded = torch.cat([tokens, torch.randn(1, 6, 5)], dim=1)  # garbage in the padding
    mask = torch.zeros(1, length + 6, dtype=torch.bool)
    mask[:, :length] = True
    assert torch.allclose(encoder(padded, mask), alone, atol=1e-6)


def test_hand_computed_max_over_time() -> None:
    encoder = CNNEncoder(input_dim=1, num_filters=1, kernel_sizes=[2], dropout=0.0)
    with torch.no_grad():
        encoder.convs[0].weight.copy_(torch.tensor([[[1.0, -1.0]]]))  # x[t] - x[t+1]
        encoder.convs[0].bias.zero_()
    tokens = torch.tensor([[[3.0], [1.0], [2.0], [9.0]]])  # windows: 2, -1, -7
    mask = torch.tensor([[True, True, True, False]])  # the 9 is padding: its window is masked
    assert encoder(tokens, mask).item() == pytest.approx(2.0)
    tokens[0, 0, 0] = -3.0  # windows now -4, -1 -> relu 0
    assert encoder(tokens, mask).item() == pytest.approx(0.0)


def test_wide_convolution_sees_words_at_the_edges() -> None:
    encoder = CNNEncoder(input_dim=1, num_filters=1, kernel_sizes=[2], dropout=0.0, padding=1)
    with torch.no_grad():
        encoder.convs[0].weight.copy_(torch.tensor([[[-1.0, 1.0]]]))  # x[t+1] - x[t]
        encoder.convs[0].bias.zero_()
    tokens = torch.tensor([[[3.0], [1.0], [2.0], [9.0]]])
    mask = torch.tensor([[True, True, True, False]])
    # windows over 0 3 1 2 0: 3, -2, 1, -2; the 9 stays masked (a window 2, 9 would give 7)
    assert encoder(tokens, mask).item() == pytest.approx(3.0)
    narrow = CNNEncoder(input_dim=1, num_filters=1, kernel_sizes=[2], dropout=0.0)
    narrow.load_state_dict(encoder.state_dict())
    assert narrow(tokens, mask).item() == pytest.approx(1.0)  # windows -2, 1


def test_rejects_negative_padding() -> None:
    with pytest.raises(ValueError, match="model.padding"):
        CNNEncoder(input_dim=4, padding=-1)


def test_rejects_empty_kernel_list() -> None:
    with pytest.raises(ValueError, match="kernel_sizes"):
        CNNEncoder(input_dim=4, kernel_sizes=[])


@pytest.mark.parametrize("length", [1, 2, 5])
def test_per_token_features_without_pooling(length: int) -> None:
    torch.manual_seed(0)
    encoder = CNNEncoder(5, num_filters=3, kernel_sizes=[2, 3], pooling=None).eval()
    tokens = torch.randn(1, length, 5)
    alone = encoder(tokens, torch.ones(1, length, dtype=torch.bool))
    assert alone.shape == (1, length, encoder.output_dim) == (1, length, 6)
    padded = torch.cat([tokens, torch.randn(1, 4, 5)], dim=1)  # garbage in the padding
    mask = torch.zeros(1, length + 4, dtype=torch.bool)
    mask[:, :length] = True
    together = encoder(padded, mask)
    assert torch.allclose(together[:, :length], alone, atol=1e-6)
    assert torch.all(together[:, length:] == 0)


def test_per_token_windows_are_centred_by_hand() -> None:
    encoder = CNNEncoder(1, num_filters=1, kernel_sizes=[3], dropout=0.0, pooling=None)
    with torch.no_grad():
        encoder.convs[0].weight.copy_(torch.tensor([[[1.0, 0.0, 0.0]]]))  # the token before
        encoder.convs[0].bias.zero_()
    tokens = torch.tensor([[[3.0], [1.0], [2.0]]])
    out = encoder(tokens, torch.ones(1, 3, dtype=torch.bool))
    assert out[0, :, 0].tolist() == [0.0, 3.0, 1.0]  # zero before the first token
    with pytest.raises(ValueError, match="model.pooling"):
        CNNEncoder(1, pooling="mean")
