"""A linear-chain conditional random field over per-token tag scores (Lafferty et al. 2001).

The output layer of BiLSTM-CRF taggers (Huang et al. 2015; Lample et al. 2016): the score of a
tag path is the sum of its per-token emission scores and of the transition scores between
neighbouring tags (plus a score for the first and the last tag). Transitions a tagging scheme
forbids (``I-PER`` after ``O`` in BIO) can be ruled out: they score ``FORBIDDEN``, in training and
in Viterbi decoding alike, so no decoded path ever takes one.
"""

from __future__ import annotations

import torch
from torch import nn

FORBIDDEN = -1e4  # a transition score no path can make up for (finite: no NaN in gradients)


# Up to this many sequences, Viterbi backtracks in Python lists; above it, with one gather per
# step for the whole batch (experiments/bench: B9).
SMALL_BATCH = 32


class CRF(nn.Module):
    """Transition scores between ``num_tags`` tags, the path likelihood, and Viterbi decoding.

    Args:
        num_tags: Number of tags K.
        allowed: Which transitions may occur, ``(K, K)`` bool (row: from, column: to), or None
            for all.
        allowed_start: Which tags may begin a sequence, ``(K,)`` bool, or None for all.
        allowed_end: Which tags may end a sequence, ``(K,)`` bool, or None for all.
    """

    allowed: torch.Tensor  # buffers, set by register_buffer
    allowed_start: torch.Tensor
    allowed_end: torch.Tensor

    def __init__(
        self,
        num_tags: int,
        allowed: torch.Tensor | None = None,
        allowed_start: torch.Tensor | None = None,
        allowed_end: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # (K, K): from, to
        self.start = nn.Parameter(torch.zeros(num_tags))  # (K,)
        self.end = nn.Parameter(torch.zeros(num_tags))  # (K,)
        nn.init.uniform_(self.transitions, -0.1, 0.1)
        ones = torch.ones(num_tags, dtype=torch.bool)
        self.register_buffer("allowed", _bool(allowed, (num_tags, num_tags)))
        self.register_buffer("allowed_start", _bool(allowed_start, (num_tags,), ones))
        self.register_buffer("allowed_end", _bool(allowed_end, (num_tags,), ones))

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores with the forbidden ones set to ``FORBIDDEN``."""
        forbidden = torch.tensor(FORBIDDEN, device=self.transitions.device)
        return (
            torch.where(self.allowed, self.transitions, forbidden),  # (K, K)
            torch.where(self.allowed_start, self.start, forbidden),  # (K,)
            torch.where(self.allowed_end, self.end, forbidden),  # (K,)
        )

    def log_likelihood(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Log-probability of each gold path.

        Args:
            emissions: Per-token tag scores, (B, T, K).
            tags: Gold tag ids, (B, T); padding positions are ignored.
            mask: True on real tokens, (B, T); each sequence starts with a real token.

        Returns:
            (B,) log p(tags | emissions).
        """
        _check(emissions, mask, self.num_tags)
        return self._path_score(emissions, tags, mask) - self._log_partition(emissions, mask)

    def _path_score(
        self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        transitions, start, end = self._scores()
        tags = tags.masked_fill(~mask, 0)  # padding: any valid index, masked out below
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        steps = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T - 1)
        score = start[tags[:, 0]] + (emitted * mask).sum(1)  # (B,)
        score = score + (steps * mask[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1)).squeeze(1)  # (B,)
        return score + end[last]

    def _log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        transitions, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (B, K): log-sum of paths ending in each tag
        for t in range(1, emissions.size(1)):
            # (B, K_from, 1) + (K_from, K_to) + (B, 1, K_to) -> (B, K_to)
            step = torch.logsumexp(
                alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1
            )
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)  # (B,)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The highest-scoring path of each sequence (Viterbi), as many tags as real tokens."""
        _check(emissions, mask, self.num_tags)
        transitions, start, end = self._scores()
        best = start + emissions[:, 0]  # (B, K): best path score ending in each tag
        pointers = []
        for t in range(1, emissions.size(1)):
            candidates = best.unsqueeze(2) + transitions  # (B, K_from, K_to)
            step, pointer = candidates.max(dim=1)  # (B, K_to) each
            pointers.append(pointer)
            best = torch.where(mask[:, t : t + 1], step + emissions[:, t], best)
        lengths = mask.sum(1)  # (B,)
        tag = (best + end).argmax(1)  # (B,): the best last tag
        if len(lengths) <= SMALL_BATCH and pointers:  # a few rows: backtrack in Python lists
            back = torch.stack(pointers).tolist()  # (T - 1, B, K)
            found = []
            for row, (length, last) in enumerate(zip(lengths.tolist(), tag.tolist(), strict=True)):
                path = [last]
                for position in range(length - 2, -1, -1):
                    path.append(back[position][row][path[-1]])
                found.append(path[::-1])
            return found
        # Many rows: backtrack all at once, one gather per time step from each sequence's end.
        paths = torch.zeros_like(mask, dtype=torch.long)  # (B, T)
        rows = torch.arange(len(lengths), device=lengths.device)
        paths[rows, lengths - 1] = tag
        for t in range(emissions.size(1) - 1, 0, -1):
            inside = t < lengths  # (B,): position t is a real token, so t - 1 is too
            tag = torch.where(inside, pointers[t - 1].gather(1, tag.unsqueeze(1)).squeeze(1), tag)
            paths[:, t - 1] = torch.where(inside, tag, paths[:, t - 1])
        return [row[:n] for row, n in zip(paths.tolist(), lengths.tolist(), strict=True)]


def _bool(
    value: torch.Tensor | None, shape: tuple[int, ...], default: torch.Tensor | None = None
) -> torch.Tensor:
    if value is None:
        return torch.ones(shape, dtype=torch.bool) if default is None else default
    if tuple(value.shape) != shape:
        raise ValueError(f"allowed transitions: expected shape {shape}, got {tuple(value.shape)}")
    return value.to(torch.bool)


def _check(emissions: torch.Tensor, mask: torch.Tensor, num_tags: int) -> None:
    if emissions.dim() != 3 or emissions.size(2) != num_tags:
        raise ValueError(f"emissions: expected (B, T, {num_tags}), got {tuple(emissions.shape)}")
    if mask.shape != emissions.shape[:2]:
        raise ValueError(f"mask: expected {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}")
    if not bool(mask[:, 0].all()):
        raise ValueError("mask: every sequence must start with a real token (mask[:, 0] all True)")
