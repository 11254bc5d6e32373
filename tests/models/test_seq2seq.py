import itertools
import math

import pytest
import torch
from torch import nn

from wordlab.models import RNNEncoder
from wordlab.models.seq2seq import (
    ATTENTIONS,
    Attention,
    AttentionDecoder,
    Memory,
    beam_search,
    greedy_decode,
)

PAD, BOS, EOS = 0, 1, 2
FORBIDDEN = (PAD, BOS)
LENGTHS = [5, 2, 4]  # source lengths of the test batch


def source(encoder_dim: int = 6, lengths: list[int] = LENGTHS) -> tuple[torch.Tensor, ...]:
    """Random encoder outputs (B, S, E), zero at padding, the mask (B, S) and a summary (B, E)."""
    mask = torch.arange(max(lengths)).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    outputs = torch.randn(len(lengths), max(lengths), encoder_dim) * mask.unsqueeze(-1)
    return outputs, mask, torch.randn(len(lengths), encoder_dim)


def make(
    attention: str = "additive", cell: str = "gru", num_layers: int = 1, vocab: int = 7
) -> tuple[AttentionDecoder, nn.Embedding]:
    decoder = AttentionDecoder(
        embedding_dim=4,
        hidden_dim=6 if attention == "dot" else 5,
        encoder_dim=6,
        vocab_size=vocab,
        cell=cell,
        attention=attention,
        num_layers=num_layers,
        dropout=0.2,
    ).eval()
    return decoder, nn.Embedding(vocab, 4)


def one(memory: Memory, row: int) -> Memory:
    """Sentence ``row`` alone, without its padding."""
    n = int(memory.mask[row].sum())
    keys = None if memory.keys is None else memory.keys[row : row + 1, :n]
    return Memory(
        memory.outputs[row : row + 1, :n],
        memory.mask[row : row + 1, :n],
        memory.summary[row : row + 1],
        keys,
    )


# The encoder's source reading


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_encode_source_matches_each_sentence_alone(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    encoder = RNNEncoder(
        input_dim=4, hidden_dim=3, num_layers=2, bidirectional=bidirectional, cell=cell
    ).eval()
    lengths = [4, 2, 5]
    embedded = torch.randn(3, 5, 4)
    mask = torch.arange(5).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    outputs, summary = encoder.encode_source(embedded, mask)
    directions = 2 if bidirectional else 1
    assert outputs.shape == (3, 5, 3 * directions) and summary.shape == (3, 3 * directions)
    assert torch.all(outputs[~mask] == 0)
    for row, n in enumerate(lengths):
        alone, state = encoder.rnn(embedded[row : row + 1, :n])  # no packing, no padding
        hidden = state[0] if cell == "lstm" else state  # (L * dirs, 1, H)
        assert torch.allclose(outputs[row, :n], alone[0], atol=1e-6)
        assert torch.allclose(summary[row], torch.cat(list(hidden[-directions:, 0])), atol=1e-6)
    last = RNNEncoder(4, 3, 2, bidirectional, cell, pooling="last").eval()
    last.load_state_dict(encoder.state_dict())
    assert torch.allclose(summary, last(embedded, mask), atol=1e-6)


def test_encode_source_applies_dropout() -> None:
    encoder = RNNEncoder(input_dim=4, hidden_dim=3, dropout=0.5).train()
    outputs, summary = encoder.encode_source(torch.randn(2, 3, 4), torch.ones(2, 3, dtype=bool))
    assert (outputs == 0).any() and (summary == 0).any()


# Attention


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_attention_weights_are_a_distribution_over_real_positions(kind: str) -> None:
    torch.manual_seed(0)
    attention = Attention(kind, query_dim=6, key_dim=6, attention_dim=4)
    outputs, mask, summary = source()
    query = torch.randn(3, 6)
    for keys in (attention.keys(outputs), None):  # precomputed, or projected on the spot
        context, weights = attention(query, Memory(outputs, mask, summary, keys))
        assert weights.shape == (3, 5) and context.shape == (3, 6)
        assert torch.allclose(weights.sum(1), torch.ones(3), atol=1e-6)
        assert torch.all(weights[~mask] == 0) and torch.all(weights[mask] > 0)
        assert torch.allclose(context, torch.einsum("bs,bse->be", weights, outputs), atol=1e-6)
    assert (attention.keys(outputs) is None) == (kind == "dot")


def test_attention_options_are_checked() -> None:
    with pytest.raises(ValueError, match=r"system\.attention.*\(5\).*\(6\)"):
        Attention("dot", query_dim=5, key_dim=6)
    with pytest.raises(ValueError, match="system.attention"):
        AttentionDecoder(4, 5, 6, 7, attention="multihead")
    with pytest.raises(ValueError, match="system.decoder_cell"):
        AttentionDecoder(4, 5, 6, 7, cell="transformer")
    with pytest.raises(ValueError, match="system.attention"):
        AttentionDecoder(4, 5, 6, 7, attention="dot")


# The decoder


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", ATTENTIONS)
def test_teacher_forcing_equals_a_loop_of_steps(attention: str, cell: str, num_layers: int) -> None:
    torch.manual_seed(0)
    decoder, embedding = make(attention, cell, num_layers)
    memory = decoder.memory(*source())
    inputs = torch.randint(0, 7, (3, 4))
    logits, weights = decoder(embedding, inputs, memory)
    assert logits.shape == (3, 4, 7)
    state = decoder.init_state(memory)
    hidden = state[0] if cell == "lstm" else state
    assert hidden.shape == (num_layers, 3, decoder.hidden_dim)
    for t in range(4):
        step_logits, state, step_weights = decoder.step(embedding(inputs[:, t]), state, memory)
        assert torch.allclose(logits[:, t], step_logits, atol=1e-6)
        if attention == "none":
            assert weights is None and step_weights is None
        else:
            assert weights is not None and step_weights is not None
            assert torch.allclose(weights[:, t], step_weights, atol=1e-6)
    if weights is not None:
        assert weights.shape == (3, 4, 5) and torch.all(
            weights[~memory.mask.unsqueeze(1).expand(-1, 4, -1)] == 0
        )


@pytest.mark.parametrize("attention", ["additive", "none"])
def test_no_teacher_forcing_feeds_back_the_argmax(attention: str) -> None:
    torch.manual_seed(1)
    decoder, embedding = make(attention, "lstm")
    memory = decoder.memory(*source())
    inputs = torch.randint(0, 7, (3, 5))
    logits, _ = decoder(embedding, inputs, memory, teacher_forcing=0.0)
    state, tokens = decoder.init_state(memory), inputs[:, 0]
    for t in range(5):
        step_logits, state, _ = decoder.step(embedding(tokens), state, memory)
        assert torch.allclose(logits[:, t], step_logits, atol=1e-6)
        tokens = step_logits.argmax(1)
    forced, _ = decoder(embedding, inputs, memory)
    assert not torch.allclose(logits, forced)


def test_partial_teacher_forcing_draws_once_per_step_from_the_generator() -> None:
    torch.manual_seed(2)
    decoder, embedding = make()
    memory = decoder.memory(*source())
    inputs = torch.randint(0, 7, (3, 6))
    logits, _ = decoder(embedding, inputs, memory, 0.5, torch.Generator().manual_seed(3))
    draws = torch.rand(5, generator=torch.Generator().manual_seed(3)).tolist()
    state, tokens = decoder.init_state(memory), inputs[:, 0]
    for t in range(6):
        step_logits, state, _ = decoder.step(embedding(tokens), state, memory)
        assert torch.allclose(logits[:, t], step_logits, atol=1e-6)
        if t < 5:
            tokens = inputs[:, t + 1] if draws[t] < 0.5 else step_logits.argmax(1)
    again, _ = decoder(embedding, inputs, memory, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(logits, again)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_gradients_reach_the_encoder_outputs_and_the_embeddings(attention: str) -> None:
    torch.manual_seed(0)
    decoder, embedding = make(attention, "gru", num_layers=2)
    decoder.train()
    outputs, mask, summary = source()
    outputs.requires_grad_(True)
    summary.requires_grad_(True)
    logits, _ = decoder(
        embedding, torch.randint(0, 7, (3, 4)), decoder.memory(outputs, mask, summary)
    )
    logits.sum().backward()
    assert summary.grad is not None and summary.grad.abs().sum() > 0
    assert embedding.weight.grad is not None and embedding.weight.grad.abs().sum() > 0
    assert all(p.grad is not None for p in decoder.parameters())
    if attention == "none":
        assert outputs.grad is None  # only the summary is read
    else:
        assert outputs.grad is not None and outputs.grad[mask].abs().sum() > 0
        assert torch.all(outputs.grad[~mask] == 0)


# Decoding


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("attention", "cell"), [("additive", "gru"), ("general", "lstm"), ("none", "gru")]
)
def test_greedy_is_beam_search_with_one_beam_and_does_not_see_padding(
    attention: str, cell: str, seed: int
) -> None:
    torch.manual_seed(seed)
    decoder, embedding = make(attention, cell, num_layers=2)
    memory = decoder.memory(*source())
    limits = torch.tensor([6, 3, 8])
    tokens, weights = greedy_decode(decoder, embedding, memory, BOS, EOS, limits, FORBIDDEN)
    beam_tokens, beam_weights = beam_search(
        decoder,
        embedding,
        memory,
        BOS,
        EOS,
        limits,
        beam_size=1,
        length_penalty=0.0,
        forbidden=FORBIDDEN,
    )
    assert tokens == beam_tokens
    for row in range(3):
        assert weights[row].shape == beam_weights[row].shape
        assert torch.allclose(weights[row], beam_weights[row], atol=1e-6)
        alone, alone_weights = greedy_decode(
            decoder, embedding, one(memory, row), BOS, EOS, limits[row : row + 1], FORBIDDEN
        )
        assert alone == [tokens[row]]
        assert torch.allclose(alone_weights[0], weights[row], atol=1e-5)
        steps = len(tokens[row]) + (len(tokens[row]) < int(limits[row]))  # + the eos step
        columns = LENGTHS[row]
        assert weights[row].shape == ((0, columns) if attention == "none" else (steps, columns))
        if attention != "none":
            assert torch.allclose(weights[row].sum(1), torch.ones(steps), atol=1e-5)


def sequence_scores(
    decoder: AttentionDecoder, embedding: nn.Embedding, memory: Memory, limit: int, vocab: int
) -> dict[tuple[int, ...], tuple[float, int]]:
    """Every complete output of one sentence: (sum of log-probabilities, length with eos)."""
    words = [w for w in range(vocab) if w not in (PAD, BOS, EOS)]
    found = {}
    for n in range(1, limit + 1):
        for body in itertools.product(words, repeat=n - 1):
            endings = [EOS, *words] if n == limit else [EOS]
            for last in endings:
                sequence = (*body, last)
                inputs = torch.tensor([[BOS, *sequence[:-1]]])
                logits, _ = decoder(embedding, inputs, memory)
                log_probs = torch.log_softmax(logits[0], dim=-1)  # (n, V)
                score = float(log_probs[torch.arange(n), torch.tensor(sequence)].sum())
                found[sequence[:-1] if last == EOS else sequence] = (score, n)
    return found


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_beam_finds_the_best_of_all_outputs(length_penalty: float) -> None:
    torch.manual_seed(1)
    vocab = 6  # pad, bos, eos and three words
    decoder, embedding = make("additive", "lstm", vocab=vocab)
    with torch.no_grad():  # peakier, longer outputs than a fresh model's
        decoder.output.weight *= 2.0
        decoder.output.bias[EOS] -= 1.0
    memory = decoder.memory(*source())
    limits = torch.tensor([3, 2, 3])
    tokens, weights = beam_search(
        decoder, embedding, memory, BOS, EOS, limits, 16, length_penalty, FORBIDDEN
    )

    def normalized(item: tuple[tuple[int, ...], tuple[float, int]]) -> float:
        score, n = item[1]
        return score / ((5 + n) / 6) ** length_penalty

    for row in range(3):
        alone = one(memory, row)
        with torch.no_grad():
            scores = sequence_scores(decoder, embedding, alone, int(limits[row]), vocab)
        ranked = sorted(scores.items(), key=normalized)
        best, runner_up = ranked[-1], ranked[-2]
        assert not math.isclose(normalized(best), normalized(runner_up))  # no tie decides it
        assert tuple(tokens[row]) == best[0]
        assert weights[row].shape == (best[1][1], LENGTHS[row])
        single, single_weights = beam_search(
            decoder,
            embedding,
            alone,
            BOS,
            EOS,
            limits[row : row + 1],
            16,
            length_penalty,
            FORBIDDEN,
        )
        assert single == [tokens[row]]
        assert torch.allclose(single_weights[0], weights[row], atol=1e-5)
    greedy, _ = greedy_decode(decoder, embedding, memory, BOS, EOS, limits, FORBIDDEN)
    assert greedy != tokens  # the search found something greedy decoding misses
    assert len({len(sentence) for sentence in tokens}) > 1


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_max_lengths_and_forbidden_ids(search: str) -> None:
    torch.manual_seed(0)
    decoder, embedding = make("dot", "gru")
    memory = decoder.memory(*source())
    with torch.no_grad():
        decoder.output.bias[EOS] -= 100.0  # never ends by itself
        decoder.output.bias[PAD] += 100.0  # would win everywhere if allowed
        decoder.output.bias[BOS] += 100.0
    limits = torch.tensor([4, 1, 0])

    def run() -> tuple[list[list[int]], list[torch.Tensor]]:
        if search == "greedy":
            return greedy_decode(decoder, embedding, memory, BOS, EOS, limits, FORBIDDEN)
        return beam_search(decoder, embedding, memory, BOS, EOS, limits, 3, 1.0, FORBIDDEN)

    tokens, weights = run()
    assert [len(sentence) for sentence in tokens] == [4, 1, 0]
    assert all(w not in (PAD, BOS, EOS) for sentence in tokens for w in sentence)
    assert [tuple(w.shape) for w in weights] == [(4, 5), (1, 2), (0, 4)]
    with torch.no_grad():
        decoder.output.bias[EOS] += 300.0  # now ends at once
    tokens, weights = run()
    assert tokens == [[], [], []]
    assert [tuple(w.shape) for w in weights] == [(1, 5), (1, 2), (0, 4)]


def test_beam_size_is_checked() -> None:
    decoder, embedding = make()
    memory = decoder.memory(*source())
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(decoder, embedding, memory, BOS, EOS, torch.tensor([3, 3, 3]), beam_size=0)
