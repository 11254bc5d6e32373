"""An RNN decoder with attention over the source, and greedy and beam-search decoding.

The decoder of RNN encoder-decoder translation models: at every step it reads the previous
target token and a context vector of the source, either an attention-weighted sum of the
encoder's per-token states (Bahdanau et al. 2015; Luong et al. 2015) or, with no attention,
the encoder's summary vector at every step (Cho et al. 2014).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

ATTENTIONS = ("additive", "dot", "general", "none")
CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}

Embed = Callable[[torch.Tensor], torch.Tensor]  # token ids (B,) or (B, T) -> vectors (..., D)


@dataclass
class Memory:
    """What the decoder reads of the source: per-token outputs, mask, summary, projected keys.

    Args:
        outputs: Encoder outputs, (B, S, E), E the encoder's output size.
        mask: True at real source tokens, (B, S) bool; every row needs at least one.
        summary: One vector per sentence, (B, E).
        keys: The attention's key projection of ``outputs``, (B, S, A), computed once per
            batch (additive: U h; general: W h), or None (dot product, no attention).
    """

    outputs: torch.Tensor
    mask: torch.Tensor
    summary: torch.Tensor
    keys: torch.Tensor | None = None

    def index_select(self, index: torch.Tensor) -> Memory:
        """The rows ``index`` (long, (N,)) of every field: to repeat sentences for beams."""
        return Memory(
            outputs=self.outputs.index_select(0, index),
            mask=self.mask.index_select(0, index),
            summary=self.summary.index_select(0, index),
            keys=None if self.keys is None else self.keys.index_select(0, index),
        )


class Attention(nn.Module):
    """Scores of a query against the source positions, masked softmax, context.

    Args:
        kind: ``additive`` (Bahdanau et al. 2015: v^T tanh(W q + U k)), ``dot`` (Luong et al.
            2015: q . k, needs ``query_dim == key_dim``) or ``general`` (Luong et al. 2015:
            q^T W k).
        query_dim: Size of a query (the decoder's hidden state).
        key_dim: Size of a source position's vector (the encoder's output).
        attention_dim: Size of the additive attention's hidden layer (default: ``query_dim``);
            the other kinds have none.
    """

    def __init__(
        self, kind: str, query_dim: int, key_dim: int, attention_dim: int | None = None
    ) -> None:
        super().__init__()
        if kind not in ATTENTIONS or kind == "none":
            kinds = [name for name in ATTENTIONS if name != "none"]
            raise ValueError(f"unknown system.attention {kind!r}; expected one of {kinds}")
        if kind == "dot" and query_dim != key_dim:
            raise ValueError(
                f"system.attention='dot' needs the decoder's hidden size ({query_dim}) to equal "
                f"the encoder's output size ({key_dim}); use 'general' or 'additive'"
            )
        self.kind = kind
        self.key_projection: nn.Linear | None = None
        self.query_projection: nn.Linear | None = None
        self.v: nn.Linear | None = None
        if kind == "additive":
            attention_dim = attention_dim or query_dim
            self.key_projection = nn.Linear(key_dim, attention_dim)  # U (and the bias)
            self.query_projection = nn.Linear(query_dim, attention_dim, bias=False)  # W
            self.v = nn.Linear(attention_dim, 1, bias=False)
        elif kind == "general":
            self.key_projection = nn.Linear(key_dim, query_dim, bias=False)  # W

    def keys(self, outputs: torch.Tensor) -> torch.Tensor | None:
        """The key projection of encoder outputs (B, S, E): (B, S, A), or None for ``dot``."""
        if self.key_projection is None:
            return None
        return self.key_projection(outputs)

    def forward(self, query: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from one query per sentence.

        Args:
            query: Decoder states, (B, Q).
            memory: The source; its keys are computed here if ``memory.keys`` is None.

        Returns:
            The context, (B, E), and the attention weights, (B, S): they sum to 1 over the
            real source positions and are exactly 0 at padding.
        """
        keys = memory.keys
        if keys is None:
            keys = memory.outputs if self.key_projection is None else self.keys(memory.outputs)
            assert keys is not None
        if self.kind == "additive":
            assert self.query_projection is not None and self.v is not None
            energy = torch.tanh(keys + self.query_projection(query).unsqueeze(1))  # (B, S, A)
            scores = self.v(energy).squeeze(2)  # (B, S)
        else:  # dot and general: q . k and q . (W h)
            scores = torch.bmm(keys, query.unsqueeze(2)).squeeze(2)  # (B, S)
        scores = scores.masked_fill(~memory.mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (B, S), exact zeros at padding
        context = torch.bmm(weights.unsqueeze(1), memory.outputs).squeeze(1)  # (B, E)
        return context, weights


class AttentionDecoder(nn.Module):
    """A GRU or LSTM decoder reading the previous target token's vector and a source context.

    At step t (Bahdanau et al. 2015, as in bentrevett/pytorch-seq2seq's third tutorial) the
    query is the previous top-layer hidden state s_{t-1}; the context c_t is the attention's
    sum of the source states (with ``attention='none'``, c_t is ``memory.summary`` at every
    step: Cho et al. 2014); the recurrence reads [dropout(e(y_{t-1})); c_t] and the output
    layer maps [s_t; c_t; dropout(e(y_{t-1}))] to the vocabulary. The initial hidden state of
    every layer is tanh(Linear(summary)); an LSTM's initial cell state is zero.

    Args:
        embedding_dim: Size of a target token vector D.
        hidden_dim: Decoder hidden size H.
        encoder_dim: Size of the encoder's per-token outputs and summary E.
        vocab_size: Target vocabulary size V.
        cell: ``gru`` or ``lstm``.
        attention: One of ``ATTENTIONS``.
        num_layers: Stacked recurrent layers.
        dropout: Dropout on the target token vectors and between recurrent layers.
        attention_dim: Hidden size of the additive attention (default: ``hidden_dim``).
    """

    def __init__(
        self,
        embedding_dim: int,
        hidden_dim: int,
        encoder_dim: int,
        vocab_size: int,
        cell: str = "gru",
        attention: str = "additive",
        num_layers: int = 1,
        dropout: float = 0.0,
        attention_dim: int | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(
                f"unknown system.decoder_cell {cell!r}; expected one of {sorted(CELLS)}"
            )
        if attention not in ATTENTIONS:
            raise ValueError(
                f"unknown system.attention {attention!r}; expected one of {ATTENTIONS}"
            )
        self.cell = cell
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.vocab_size = vocab_size
        self.attention = (
            None
            if attention == "none"
            else Attention(attention, hidden_dim, encoder_dim, attention_dim)
        )
        self.bridge = nn.Linear(encoder_dim, num_layers * hidden_dim)  # summary -> h0
        self.rnn = CELLS[cell](
            embedding_dim + encoder_dim,
            hidden_dim,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim + encoder_dim + embedding_dim, vocab_size)

    def memory(self, outputs: torch.Tensor, mask: torch.Tensor, summary: torch.Tensor) -> Memory:
        """Wrap the encoder's outputs (B, S, E), mask (B, S) and summary (B, E), keys projected."""
        keys = None if self.attention is None else self.attention.keys(outputs)
        return Memory(outputs=outputs, mask=mask, summary=summary, keys=keys)

    def init_state(self, memory: Memory) -> Any:
        """The state before the first step: h (L, B, H) for a GRU, (h, c) for an LSTM."""
        batch = memory.summary.size(0)
        hidden = torch.tanh(self.bridge(memory.summary))  # (B, L * H)
        hidden = hidden.view(batch, self.num_layers, self.hidden_dim).transpose(0, 1)
        hidden = hidden.contiguous()  # (L, B, H)
        if self.cell == "lstm":
            return hidden, torch.zeros_like(hidden)
        return hidden

    def step(
        self, embedded: torch.Tensor, state: Any, memory: Memory
    ) -> tuple[torch.Tensor, Any, torch.Tensor | None]:
        """One decoding step.

        Args:
            embedded: The previous target tokens' vectors, (B, D).
            state: The decoder state after the previous step (``init_state`` before the first).
            memory: The source.

        Returns:
            Logits over the target vocabulary, (B, V), the new state, and the attention
            weights, (B, S) (None with ``attention='none'``).
        """
        embedded = self.dropout(embedded)  # (B, D)
        hidden = state[0] if isinstance(state, tuple) else state  # (L, B, H)
        weights = None
        if self.attention is None:
            context = memory.summary  # (B, E)
        else:
            context, weights = self.attention(hidden[-1], memory)  # (B, E), (B, S)
        inputs = torch.cat([embedded, context], dim=1).unsqueeze(1)  # (B, 1, D + E)
        outputs, state = self.rnn(inputs, state)  # (B, 1, H)
        features = torch.cat([outputs.squeeze(1), context, embedded], dim=1)  # (B, H + E + D)
        return self.output(features), state, weights

    def forward(
        self,
        embed: Embed,
        inputs: torch.Tensor,
        memory: Memory,
        teacher_forcing: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decode a batch of target prefixes.

        Args:
            embed: Maps token ids, (B,) or (B, T), to vectors, (B, D) or (B, T, D).
            inputs: ``<bos>`` then the target tokens, (B, T) long (teacher forcing's inputs).
            memory: The source.
            teacher_forcing: Probability, drawn once per step for the whole batch (after the
                first step), of reading ``inputs[:, t]`` rather than the argmax of the previous
                step's logits.
            generator: The random generator of those draws (None: the global one).

        Returns:
            Logits, (B, T, V), and attention weights, (B, T, S) (None with ``attention='none'``).
        """
        state = self.init_state(memory)
        steps = inputs.size(1)
        logits: list[torch.Tensor] = []
        weights: list[torch.Tensor] = []
        embedded = embed(inputs) if teacher_forcing >= 1.0 else None  # (B, T, D)
        for t in range(steps):
            if embedded is not None:
                vectors = embedded[:, t]  # (B, D)
            else:
                tokens = inputs[:, t]  # (B,)
                if t > 0:
                    device = generator.device if generator is not None else None
                    draw = float(torch.rand(1, generator=generator, device=device))
                    if draw >= teacher_forcing:
                        tokens = logits[-1].detach().argmax(dim=1)  # (B,)
                vectors = embed(tokens)  # (B, D)
            step_logits, state, step_weights = self.step(vectors, state, memory)
            logits.append(step_logits)
            if step_weights is not None:
                weights.append(step_weights)
        return torch.stack(logits, dim=1), (torch.stack(weights, dim=1) if weights else None)


def _select_state(state: Any, index: torch.Tensor) -> Any:
    """The batch rows ``index`` of a decoder state (h (L, B, H), or (h, c))."""
    if isinstance(state, tuple):
        return tuple(part.index_select(1, index) for part in state)
    return state.index_select(1, index)


def _log_probs(logits: torch.Tensor, forbidden: Sequence[int]) -> torch.Tensor:
    """Log-probabilities (N, V) with the ``forbidden`` ids at -inf (not renormalized)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    if forbidden:
        log_probs[:, list(forbidden)] = float("-inf")
    return log_probs


def _per_sentence(
    memory: Memory, tokens: list[list[int]], weights: list[torch.Tensor | None], eos_id: int
) -> tuple[list[list[int]], list[torch.Tensor]]:
    """Strip a final eos; keep each sentence's attention columns at real source positions."""
    found, attention = [], []
    for row, (sentence, rows) in enumerate(zip(tokens, weights, strict=True)):
        real = memory.mask[row]  # (S,)
        if rows is None:
            rows = memory.outputs.new_zeros(0, memory.mask.size(1))
        attention.append(rows[:, real].cpu())  # (T_i, S_i)
        found.append(sentence[:-1] if sentence and sentence[-1] == eos_id else sentence)
    return found, attention


@torch.no_grad()
def greedy_decode(
    decoder: AttentionDecoder,
    embed: Embed,
    memory: Memory,
    bos_id: int,
    eos_id: int,
    max_lengths: torch.Tensor,
    forbidden: Sequence[int] = (),
) -> tuple[list[list[int]], list[torch.Tensor]]:
    """Decode a batch, taking the most probable token at every step.

    Args:
        decoder: The decoder.
        embed: Maps token ids (B,) to vectors (B, D).
        memory: The source, B sentences.
        bos_id: The first input token.
        eos_id: The token that ends a sentence.
        max_lengths: Most tokens generated per sentence, eos included, (B,) long.
        forbidden: Ids never generated (e.g. padding, bos).

    Returns:
        Per sentence, the generated ids without bos and eos, and the attention weights,
        (T_i, S_i): one row per generated token (the eos step included), one column per real
        source position; (0, S_i) with ``attention='none'``.
    """
    batch = memory.outputs.size(0)
    device = memory.outputs.device
    limits = max_lengths.to(device)
    done = limits <= 0  # (B,)
    tokens = torch.full((batch,), bos_id, dtype=torch.long, device=device)
    state = decoder.init_state(memory)
    history: list[torch.Tensor] = []  # (B,) per step
    alive: list[torch.Tensor] = []  # (B,) per step: the sentence was still being decoded
    attention: list[torch.Tensor] = []  # (B, S) per step
    for t in range(int(limits.max()) if batch else 0):
        if bool(done.all()):
            break
        logits, state, weights = decoder.step(embed(tokens), state, memory)
        if forbidden:  # the argmax of the logits is the log-probabilities' (no softmax)
            logits = logits.clone()
            logits[:, list(forbidden)] = float("-inf")
        tokens = logits.argmax(dim=1)  # (B,)
        history.append(tokens)
        alive.append(~done)
        if weights is not None:
            attention.append(weights)
        done = done | (tokens == eos_id) | (t + 1 >= limits)
    if not history:
        return _per_sentence(memory, [[] for _ in range(batch)], [None] * batch, eos_id)
    generated = torch.stack(history, dim=1).tolist()  # (B, T)
    keep = torch.stack(alive, dim=1)  # (B, T)
    lengths = keep.sum(dim=1).tolist()  # (B,): each sentence's steps are a prefix
    stacked = torch.stack(attention, dim=1) if attention else None  # (B, T, S)
    weights_per_row: list[torch.Tensor | None] = [
        None if stacked is None else stacked[row, :n] for row, n in enumerate(lengths)
    ]
    sentences = [row[:n] for row, n in zip(generated, lengths, strict=True)]
    return _per_sentence(memory, sentences, weights_per_row, eos_id)


def length_penalty_of(length: int, alpha: float) -> float:
    """GNMT's length penalty ((5 + length) / 6) ** alpha (Wu et al. 2016); 1 for alpha = 0."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    decoder: AttentionDecoder,
    embed: Embed,
    memory: Memory,
    bos_id: int,
    eos_id: int,
    max_lengths: torch.Tensor,
    beam_size: int = 5,
    length_penalty: float = 1.0,
    forbidden: Sequence[int] = (),
) -> tuple[list[list[int]], list[torch.Tensor]]:
    """Decode a batch with beam search, all sentences and beams at once (B * K rows).

    A hypothesis scores the sum of its tokens' log-probabilities. At every step each
    sentence's candidates (its K beams times V tokens) are ranked by score; among the best K,
    those ending in eos, and all of them at the sentence's max length, are finished,
    normalized by GNMT's length penalty (score / ((5 + n) / 6) ** length_penalty, n the
    tokens generated, eos included; Wu et al. 2016); the best K candidates not ending in eos
    go on. A sentence keeps its best finished hypothesis and is done when K hypotheses have
    finished, when no live beam can reach a better normalized score (log-probabilities only
    fall, so a live beam's score s bounds its future: s / lp at the most favourable length
    still allowed), when no beam is left, or at its max length.
    ``beam_size=1`` with ``length_penalty=0`` is greedy decoding.

    Args:
        decoder: The decoder.
        embed: Maps token ids (N,) to vectors (N, D).
        memory: The source, B sentences.
        bos_id: The first input token.
        eos_id: The token that ends a sentence.
        max_lengths: Most tokens generated per sentence, eos included, (B,) long.
        beam_size: Live hypotheses per sentence K.
        length_penalty: GNMT's alpha; 0 ranks by the raw sum of log-probabilities.
        forbidden: Ids never generated (e.g. padding, bos).

    Returns:
        As ``greedy_decode``: per sentence the best hypothesis's ids without bos and eos, and
        its attention weights, (T_i, S_i), gathered along its back-pointers.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    batch, k = memory.outputs.size(0), beam_size
    device = memory.outputs.device
    vocab = decoder.vocab_size
    limits = max_lengths.to(device)
    rows = torch.arange(batch, device=device)
    memory = memory.index_select(rows.repeat_interleave(k))  # (B * K, ...)
    state = decoder.init_state(memory)
    tokens = torch.full((batch * k,), bos_id, dtype=torch.long, device=device)
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # (B, K): the K copies of bos are one hypothesis
    done = limits <= 0  # (B,)
    scores[done] = float("-inf")
    finished = torch.zeros(batch, dtype=torch.long, device=device)  # (B,) finished hypotheses
    best = torch.full((batch,), float("-inf"), device=device)  # best normalized score
    best_step = torch.full((batch,), -1, dtype=torch.long, device=device)
    best_beam = torch.zeros(batch, dtype=torch.long, device=device)  # its last input beam
    best_token = torch.zeros(batch, dtype=torch.long, device=device)  # its last token
    parents: list[torch.Tensor] = []  # (B, K) per step: the input beam each new beam extends
    chosen: list[torch.Tensor] = []  # (B, K) per step: the token each new beam added
    attention: list[torch.Tensor] = []  # (B, K, S) per step, by input beam
    candidate_token = torch.arange(k * vocab, device=device) % vocab  # (K * V,)
    max_steps = int(limits.max()) if batch else 0
    for t in range(max_steps):
        if bool(done.all()):
            break
        logits, state, weights = decoder.step(embed(tokens), state, memory)
        log_probs = _log_probs(logits, forbidden).view(batch, k, vocab)
        if weights is not None:
            attention.append(weights.view(batch, k, -1))
        candidates = (scores.unsqueeze(2) + log_probs).view(batch, k * vocab)  # (B, K * V)
        length = t + 1
        at_limit = (length >= limits).unsqueeze(1)  # (B, 1)
        # Finished: among the best K candidates, those ending in eos or at the max length.
        top, top_index = candidates.topk(k, dim=1)  # (B, K)
        ends = (candidate_token[top_index] == eos_id) | at_limit
        ends = ends & torch.isfinite(top) & ~done.unsqueeze(1)
        normalized = torch.where(
            ends, top / length_penalty_of(length, length_penalty), float("-inf")
        )
        step_best, position = normalized.max(dim=1)  # (B,)
        better = step_best > best
        best = torch.where(better, step_best, best)
        best_step = torch.where(better, torch.full_like(best_step, t), best_step)
        index = top_index.gather(1, position.unsqueeze(1)).squeeze(1)  # (B,)
        best_beam = torch.where(better, index // vocab, best_beam)
        best_token = torch.where(better, index % vocab, best_token)
        finished = finished + ends.sum(dim=1)
        # Live: the best K candidates that do not end.
        going = (candidate_token != eos_id).unsqueeze(0) & ~at_limit & ~done.unsqueeze(1)
        scores, live_index = torch.where(going, candidates, float("-inf")).topk(k, dim=1)
        beam, token = live_index // vocab, live_index % vocab  # (B, K) each
        parents.append(beam)
        chosen.append(token)
        # The most a live beam can still reach: its score (only falling) over the largest
        # penalty of a length still allowed, the next one or the max length (lp is monotone).
        largest = _penalties(limits, length_penalty).clamp(
            min=length_penalty_of(length + 1, length_penalty)
        )  # (B,)
        bound = scores.max(dim=1).values / largest  # (B,)
        done = done | at_limit.squeeze(1) | (finished >= k) | (best >= bound)
        scores = scores.masked_fill(done.unsqueeze(1), float("-inf"))
        flat = (rows * k).unsqueeze(1) + beam  # (B, K) rows of the input beams
        state = _select_state(state, flat.view(-1))
        tokens = token.view(-1)
    return _backtrack(
        memory, batch, k, eos_id, parents, chosen, attention, best_step, best_beam, best_token
    )


def _penalties(limits: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's length penalty at each sentence's max length, (B,) float."""
    return ((5.0 + limits.float()) / 6.0) ** alpha


def _backtrack(
    memory: Memory,
    batch: int,
    k: int,
    eos_id: int,
    parents: list[torch.Tensor],
    chosen: list[torch.Tensor],
    attention: list[torch.Tensor],
    best_step: torch.Tensor,
    best_beam: torch.Tensor,
    best_token: torch.Tensor,
) -> tuple[list[list[int]], list[torch.Tensor]]:
    """Follow each sentence's best hypothesis back to bos: its tokens and attention rows."""
    sentences: list[list[int]] = []
    weights: list[torch.Tensor | None] = []
    if not parents:
        sentences = [[] for _ in range(batch)]
        weights = [None] * batch
    else:
        back = torch.stack(parents).tolist()  # (T, B, K)
        added = torch.stack(chosen).tolist()  # (T, B, K)
        stacked = torch.stack(attention) if attention else None  # (T, B, K, S)
        steps, beams, tokens = best_step.tolist(), best_beam.tolist(), best_token.tolist()
        for row in range(batch):
            t, beam = steps[row], beams[row]
            if t < 0:  # nothing finished (max length 0)
                sentences.append([])
                weights.append(None)
                continue
            path, inputs = [tokens[row]], [beam]  # the input beam of each step, backwards
            for previous in range(t - 1, -1, -1):
                path.append(added[previous][row][beam])
                beam = back[previous][row][beam]
                inputs.append(beam)
            path.reverse()
            inputs.reverse()
            sentences.append(path)
            if stacked is None:
                weights.append(None)
            else:
                index = torch.tensor(inputs, device=stacked.device)
                weights.append(stacked[torch.arange(t + 1, device=stacked.device), row, index])
    source = Memory(outputs=memory.outputs[::k], mask=memory.mask[::k], summary=memory.summary[::k])
    return _per_sentence(source, sentences, weights, eos_id)
