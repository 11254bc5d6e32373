"""Test-set reports written as run artifacts: per-class scores, confusion matrix, predictions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from wordlab.plots import count_heatmap


def per_class_scores(confusion: torch.Tensor, label_names: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class from a (gold x predicted) confusion matrix."""
    matrix = confusion.double().numpy()
    true_positive = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(true_positive / predicted)
        recall = np.nan_to_num(true_positive / support)
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return pd.DataFrame(
        {
            "label": list(label_names),
            "precision": precision.round(4),
            "recall": recall.round(4),
            "f1": f1.round(4),
            "support": support.astype(int),
        }
    )


def confusion_figure(confusion: torch.Tensor, label_names: Sequence[str], path: Path) -> Path:
    """Save the confusion matrix as a PNG heat map with counts in the cells."""
    return count_heatmap(confusion.numpy(), label_names, label_names, path)


def write_predictions(
    path: Path,
    texts: Sequence[str],
    gold: Sequence[int],
    probabilities: torch.Tensor,
    label_names: Sequence[str],
) -> Path:
    """One JSON line per example: text, gold and predicted label names, probabilities."""
    predicted = probabilities.argmax(dim=1).tolist()
    rows = probabilities.tolist()
    with path.open("w", encoding="utf-8") as handle:
        for text, label, guess, probs in zip(texts, gold, predicted, rows, strict=True):
            record = {
                "text": text,
                "gold": label_names[label],
                "predicted": label_names[guess],
                "correct": label == guess,
                "probabilities": {n: round(p, 5) for n, p in zip(label_names, probs, strict=True)},
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
