import json
from pathlib import Path

import pytest
import torch

from wordlab.tasks.classification.reports import (
    confusion_figure,
    per_class_scores,
    write_predictions,
)


def test_per_class_scores_by_hand() -> None:
    # gold x predicted: class a: 3 right, 1 called b; class b: 2 right; class c never predicted
    confusion = torch.tensor([[3, 1, 0], [0, 2, 0], [1, 0, 0]])
    table = per_class_scores(confusion, ["a", "b", "c"]).set_index("label")
    assert table.loc["a", "precision"] == pytest.approx(0.75)
    assert table.loc["a", "recall"] == pytest.approx(0.75)
    assert table.loc["b", "precision"] == pytest.approx(0.6667, abs=1e-4)
    assert table.loc["b", "f1"] == pytest.approx(0.8)
    assert table.loc["c", "f1"] == 0 and table.loc["c", "support"] == 1


def test_figure_and_predictions(tmp_path: Path) -> None:
    png = confusion_figure(torch.tensor([[2, 0], [1, 1]]), ["neg", "pos"], tmp_path / "cm.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    probs = torch.tensor([[0.9, 0.1], [0.3, 0.7]])
    write_predictions(tmp_path / "p.jsonl", ["bad", "good?"], [0, 0], probs, ["neg", "pos"])
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert rows[1] == {
        "text": "good?",
        "gold": "neg",
        "predicted": "pos",
        "correct": False,
        "probabilities": {"neg": 0.3, "pos": 0.7},
    }
