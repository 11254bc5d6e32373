import torch

from wordlab.models import ClassificationHead


def test_max_norm_caps_each_class_row() -> None:
    head = ClassificationHead(input_dim=4, num_classes=3, max_norm=1.0)
    with torch.no_grad():
        head.linear.weight.copy_(torch.tensor([[3.0, 4, 0, 0], [0.1, 0, 0, 0], [0, 0, 0, 2]]))
    head.apply_max_norm()
    norms = head.linear.weight.norm(dim=1)
    assert torch.allclose(norms, torch.tensor([1.0, 0.1, 1.0]), atol=1e-5)
    assert head(torch.zeros(2, 4)).shape == (2, 3)
