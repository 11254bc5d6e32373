import pytest
import torch
from torch import nn

from wordlab.models.chars import CharCNN, CharLSTM, make_char_encoder

# Two sentences, three token positions, up to four characters; 0 = padding, 1 = unknown.
CHARS = torch.tensor(
    [
        [[5, 6, 7, 0], [8, 1, 0, 0], [9, 9, 9, 9]],
        [[4, 0, 0, 0], [2, 3, 0, 0], [0, 0, 0, 0]],  # the last position is a padding token
    ]
)


def encoders() -> list[nn.Module]:
    torch.manual_seed(0)
    return [
        CharCNN(num_chars=10, char_dim=4, num_filters=6, kernel_size=3),
        CharCNN(num_chars=10, char_dim=4, num_filters=6, kernel_size=2),  # even width
        CharLSTM(num_chars=10, char_dim=4, hidden_dim=3),
    ]


@pytest.mark.parametrize("index", range(3))
def test_output_shape(index: int) -> None:
    encoder = encoders()[index]
    out = encoder(CHARS)
    assert out.shape == (2, 3, encoder.output_dim) == (2, 3, 6)


def test_default_sizes() -> None:
    assert CharCNN(num_chars=10).output_dim == 30
    assert CharLSTM(num_chars=10).output_dim == 50
    assert CharLSTM(num_chars=10, hidden_dim=7).output_dim == 14


@pytest.mark.parametrize("index", range(3))
def test_padding_chars_and_padding_words_do_not_change_output(index: int) -> None:
    encoder = encoders()[index].eval()
    out = encoder(CHARS)
    more_chars = nn.functional.pad(CHARS, (0, 5))  # (2, 3, 9)
    assert torch.allclose(encoder(more_chars), out, atol=1e-6)
    more_words = nn.functional.pad(CHARS, (0, 0, 0, 2))  # (2, 5, 4)
    assert torch.allclose(encoder(more_words)[:, :3], out, atol=1e-6)
    # Each word alone, without any padding of its own, gives the same vector.
    for b in range(2):
        for t in range(3):
            word = CHARS[b, t][CHARS[b, t] != 0]
            if word.numel():
                alone = encoder(word.view(1, 1, -1))[0, 0]
                assert torch.allclose(out[b, t], alone, atol=1e-6)


@pytest.mark.parametrize("index", range(3))
def test_padding_word_gives_zeros(index: int) -> None:
    encoder = encoders()[index]  # train mode too: dropout must not matter
    out = encoder(CHARS)
    assert torch.all(out[1, 2] == 0)
    assert torch.all(encoder(torch.zeros(2, 3, 4, dtype=torch.long)) == 0)
    assert out[0].abs().sum(dim=-1).gt(0).all()


def test_lstm_matches_plain_lstm_on_each_word() -> None:
    encoder = encoders()[2].eval()
    out = encoder(CHARS)
    for b in range(2):
        for t in range(3):
            word = CHARS[b, t][CHARS[b, t] != 0]
            if not word.numel():
                continue
            _, (hidden, _) = encoder.lstm(encoder.embedding(word).unsqueeze(0))  # (2, 1, H)
            expected = torch.cat([hidden[0, 0], hidden[1, 0]])  # forward, backward
            assert torch.allclose(out[b, t], expected, atol=1e-6)
            outputs, _ = encoder.lstm(encoder.embedding(word).unsqueeze(0))  # (1, L, 2H)
            h = encoder.lstm.hidden_size  # forward ends last, backward ends at the first char
            assert torch.allclose(out[b, t, :h], outputs[0, -1, :h], atol=1e-6)
            assert torch.allclose(out[b, t, h:], outputs[0, 0, h:], atol=1e-6)


def test_cnn_max_ignores_padding() -> None:
    encoder = CharCNN(num_chars=5, char_dim=2, num_filters=3, kernel_size=3, dropout=0.0)
    with torch.no_grad():
        encoder.conv.weight.zero_()
        encoder.conv.bias.fill_(-1.0)  # every window of real characters gives -1
    chars = torch.tensor([[[2, 3, 0, 0, 0], [4, 0, 0, 0, 0]]])
    out = encoder(chars)
    assert torch.allclose(out, torch.full((1, 2, 3), -1.0))


def test_cnn_max_by_hand() -> None:
    encoder = CharCNN(num_chars=6, char_dim=3, num_filters=4, kernel_size=3, dropout=0.0)
    word = torch.tensor([2, 5, 3])
    x = encoder.embedding(word).T.unsqueeze(0)  # (1, C, 3)
    windows = nn.functional.conv1d(x, encoder.conv.weight, encoder.conv.bias, padding=1)
    expected = windows[0].max(dim=1).values  # (F,)
    padded = torch.tensor([[[2, 5, 3, 0, 0, 0]]])
    assert torch.allclose(encoder(padded)[0, 0], expected, atol=1e-6)


@pytest.mark.parametrize("index", range(3))
def test_gradients_reach_char_embedding(index: int) -> None:
    encoder = encoders()[index]
    encoder(CHARS).sum().backward()
    grad = encoder.embedding.weight.grad
    assert grad is not None
    assert grad[1:].abs().sum() > 0
    assert torch.all(grad[0] == 0)  # the padding character is never trained
    assert all(torch.isfinite(p.grad).all() for p in encoder.parameters() if p.grad is not None)


def test_make_char_encoder() -> None:
    assert make_char_encoder(None, 10) is None
    assert make_char_encoder("none", 10) is None
    cnn = make_char_encoder("cnn", 10, num_filters=7)
    assert isinstance(cnn, CharCNN) and cnn.output_dim == 7
    lstm = make_char_encoder("lstm", 10, hidden_dim=4)
    assert isinstance(lstm, CharLSTM) and lstm.output_dim == 8


def test_make_char_encoder_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"model\.chars") as error:
        make_char_encoder("transformer", 10)
    assert "cnn" in str(error.value) and "lstm" in str(error.value)
