import pytest
import torch

from wordlab.systems.optimizers import Adagrad


def model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.EmbeddingBag(500, 8, sparse=True), torch.nn.Linear(8, 3))


@pytest.mark.parametrize(
    "options", [{}, {"lr_decay": 0.05, "initial_accumulator_value": 0.1}, {"maximize": True}]
)
def test_sparse_steps_match_torch_adagrad(options):
    ours, theirs = model(), model()
    optimizers = [
        Adagrad(ours.parameters(), lr=0.3, **options),
        torch.optim.Adagrad(theirs.parameters(), lr=0.3, **options),
    ]
    generator = torch.Generator().manual_seed(1)
    for _ in range(15):
        # repeated ids within and across bags: the gradient has duplicate rows to sum
        ids = torch.randint(0, 40, (16, 30), generator=generator)
        labels = torch.randint(0, 3, (16,), generator=generator)
        for net, optimizer in zip((ours, theirs), optimizers, strict=True):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(ids), labels).backward()
            optimizer.step()
    assert not torch.equal(ours[0].weight, model()[0].weight)  # it trained
    for mine, torch_s in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(mine, torch_s)
    # the same state, so a checkpoint loads into either class
    theirs_state = optimizers[1].state_dict()["state"]
    for index, state in optimizers[0].state_dict()["state"].items():
        assert state["step"] == theirs_state[index]["step"] == 15
        torch.testing.assert_close(state["sum"], theirs_state[index]["sum"])
    torch.optim.Adagrad(theirs.parameters(), lr=0.3).load_state_dict(optimizers[0].state_dict())


def test_the_sparse_gradient_is_left_in_place_and_weight_decay_refused():
    net = model()
    optimizer = Adagrad(net.parameters(), lr=0.1)
    net(torch.tensor([[1, 2, 2]])).sum().backward()
    grad = net[0].weight.grad
    optimizer.step()
    assert net[0].weight.grad is grad and grad.is_sparse
    with pytest.raises(RuntimeError, match="weight_decay"):
        Adagrad(net.parameters(), lr=0.1, weight_decay=0.01).step()
