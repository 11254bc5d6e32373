import itertools

import pytest
import torch

from wordlab.models.crf import CRF
from wordlab.models.crf import SMALL_BATCH as CRF_SMALL_BATCH


@torch.no_grad()
def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> dict[tuple[int, ...], float]:
    """The score of every tag path of one sequence (K ** length of them)."""
    transitions, start, end = crf._scores()
    scores = {}
    for path in itertools.product(range(crf.num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]]
        score = score + sum(emissions[t, tag] for t, tag in enumerate(path))
        score = score + sum(transitions[a, b] for a, b in itertools.pairwise(path))
        scores[path] = float(score)
    return scores


def test_likelihood_and_viterbi_match_enumerating_every_path() -> None:
    torch.manual_seed(0)
    crf = CRF(3)
    torch.nn.init.normal_(crf.start), torch.nn.init.normal_(crf.end)
    emissions = torch.randn(3, 4, 3)  # (B, T, K)
    lengths = [4, 2, 1]
    mask = torch.arange(4).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)  # (B, T)
    tags = torch.randint(0, 3, (3, 4))
    likelihood = crf.log_likelihood(emissions, tags, mask).detach()
    decoded = crf.decode(emissions, mask)
    for row, length in enumerate(lengths):
        scores = brute_force(crf, emissions[row], length)
        partition = torch.logsumexp(torch.tensor(list(scores.values())), 0)
        gold = scores[tuple(tags[row, :length].tolist())]
        assert float(likelihood[row]) == pytest.approx(gold - float(partition), abs=1e-4)
        assert tuple(decoded[row]) == max(scores, key=scores.get)


def test_forbidden_transitions_are_never_decoded() -> None:
    torch.manual_seed(1)
    allowed = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 1, 1]], dtype=torch.bool)  # no 0 -> 2
    crf = CRF(3, allowed=allowed, allowed_start=torch.tensor([True, True, False]))
    emissions = torch.randn(8, 6, 3)
    emissions[:, :, 2] += 3  # tag 2 is tempting everywhere
    emissions[:, ::2, 0] += 6  # and tag 0 at every other step
    mask = torch.ones(8, 6, dtype=torch.bool)
    for path in crf.decode(emissions, mask):
        assert path[0] != 2
        assert all((a, b) != (0, 2) for a, b in itertools.pairwise(path))
    # Viterbi's path is the best of all paths, where a forbidden step scores FORBIDDEN
    scores = brute_force(crf, emissions[0], 6)
    best = max(scores, key=scores.get)
    assert tuple(crf.decode(emissions[:1], mask[:1])[0]) == best


def test_training_raises_the_gold_path_likelihood() -> None:
    torch.manual_seed(2)
    crf = CRF(4)
    emissions = torch.randn(2, 5, 4, requires_grad=True)
    tags = torch.tensor([[0, 1, 1, 2, 3], [3, 3, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    optimizer = torch.optim.Adam([*crf.parameters(), emissions], lr=0.1)
    before = float(crf.log_likelihood(emissions, tags, mask).sum().detach())
    for _ in range(50):
        optimizer.zero_grad()
        (-crf.log_likelihood(emissions, tags, mask).sum()).backward()
        optimizer.step()
    assert float(crf.log_likelihood(emissions, tags, mask).sum().detach()) > before + 1
    assert crf.decode(emissions, mask) == [[0, 1, 1, 2, 3], [3, 3, 0]]


def test_bad_shapes_are_named() -> None:
    crf = CRF(3)
    with pytest.raises(ValueError, match=r"emissions: expected \(B, T, 3\)"):
        crf.decode(torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="must start with a real token"):
        crf.decode(torch.zeros(1, 2, 3), torch.tensor([[False, True]]))
    with pytest.raises(ValueError, match=r"expected shape \(3, 3\)"):
        CRF(3, allowed=torch.ones(2, 2, dtype=torch.bool))


def test_large_batches_decode_as_each_sequence_alone() -> None:
    torch.manual_seed(3)
    crf = CRF(5)
    lengths = torch.randint(1, 12, (CRF_SMALL_BATCH + 8,))  # above the Python-lists limit
    mask = torch.arange(11).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    emissions = torch.randn(len(lengths), 11, 5)
    alone = [
        crf.decode(emissions[i : i + 1, :n], mask[i : i + 1, :n])[0]
        for i, n in enumerate(lengths.tolist())
    ]
    assert crf.decode(emissions, mask) == alone
