"""``RowwiseAdagrad``: one accumulator per row for sparse gradients, plain Adagrad for dense."""

import io

import pytest
import torch

from wordlab.systems.optimizers import RowwiseAdagrad


def sparse_grad(rows: list[int], values: list[list[float]], shape: tuple[int, int]) -> torch.Tensor:
    return torch.sparse_coo_tensor([rows], torch.tensor(values), shape)


def test_sparse_step_matches_the_formula_and_sums_duplicate_rows() -> None:
    weight = torch.nn.Parameter(torch.ones(4, 2))
    optimizer = RowwiseAdagrad([weight], lr=0.5, eps=0.0)
    # Row 1 appears twice: its gradient is [1, 2] + [2, 2] = [3, 4].
    weight.grad = sparse_grad([1, 3, 1], [[1.0, 2.0], [0.0, 2.0], [2.0, 2.0]], (4, 2))
    optimizer.step()
    accumulator = optimizer.state[weight]["sum"]
    assert accumulator.tolist() == [0.0, 12.5, 0.0, 2.0]  # mean([9, 16]), mean([0, 4])
    expected = torch.ones(4, 2)
    expected[1] -= 0.5 * torch.tensor([3.0, 4.0]) / 12.5**0.5
    expected[3] -= 0.5 * torch.tensor([0.0, 2.0]) / 2.0**0.5
    torch.testing.assert_close(weight.detach(), expected)

    weight.grad = sparse_grad([3], [[2.0, 0.0]], (4, 2))
    optimizer.step()
    assert optimizer.state[weight]["sum"].tolist() == [0.0, 12.5, 0.0, 4.0]
    expected[3] -= 0.5 * torch.tensor([2.0, 0.0]) / 2.0
    torch.testing.assert_close(weight.detach(), expected)


def test_dense_gradients_get_torch_adagrad() -> None:
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    optimizers = [
        RowwiseAdagrad(ours.parameters(), lr=0.3),
        torch.optim.Adagrad(theirs.parameters(), lr=0.3),
    ]
    for _ in range(3):
        x = torch.randn(8, 5)
        for model, optimizer in zip((ours, theirs), optimizers, strict=True):
            optimizer.zero_grad()
            model(x).pow(2).sum().backward()
            optimizer.step()
    torch.testing.assert_close(ours.weight, theirs.weight)
    torch.testing.assert_close(ours.bias, theirs.bias)


def test_embedding_state_is_one_number_per_row_and_survives_a_checkpoint() -> None:
    torch.manual_seed(0)
    table = torch.nn.Embedding(1000, 16, sparse=True)
    optimizer = RowwiseAdagrad(table.parameters(), lr=0.1)
    table(torch.tensor([3, 7, 7, 42])).sum().backward()
    optimizer.step()
    assert optimizer.state[table.weight]["sum"].shape == (1000,)
    assert optimizer.state[table.weight]["sum"].nonzero().flatten().tolist() == [3, 7, 42]

    restored_table = torch.nn.Embedding(1000, 16, sparse=True)
    restored_table.load_state_dict(table.state_dict())
    restored = RowwiseAdagrad(restored_table.parameters(), lr=0.1)
    saved = io.BytesIO()
    torch.save(optimizer.state_dict(), saved)
    saved.seek(0)
    restored.load_state_dict(torch.load(saved))
    for module, opt in ((table, optimizer), (restored_table, restored)):
        opt.zero_grad()
        module(torch.tensor([7, 8])).sum().backward()
        opt.step()
    torch.testing.assert_close(restored_table.weight, table.weight)


def test_learning_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lr must be positive"):
        RowwiseAdagrad([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
