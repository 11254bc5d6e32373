"""Figures that several tasks' reports share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def count_heatmap(
    matrix: np.ndarray, rows: Sequence[str], columns: Sequence[str], path: Path
) -> Path:
    """Save a table of counts (rows: gold, columns: predicted) as a PNG heat map with the counts
    in the cells."""
    from matplotlib.figure import Figure

    size = max(4.0, 0.6 * max(len(rows), len(columns)) + 2)
    # A Figure without pyplot draws off-screen and leaves the caller's (notebook's) backend alone.
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(columns)), list(columns), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if count > threshold else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=color, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def attention_map(weights: Any, source: Sequence[str], target: Sequence[str]) -> Any:
    """A matplotlib figure of attention weights (rows: target tokens, columns: source tokens),
    as in Bahdanau et al.'s (2015) alignment plots."""
    from matplotlib.figure import Figure

    matrix = np.asarray(weights, dtype=float)
    if matrix.size == 0:
        raise ValueError("this model has no attention weights to show (system.attention=none)")
    fig = Figure(figsize=(max(3.0, 0.4 * len(source) + 1.5), max(3.0, 0.4 * len(target) + 1)))
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), list(source), rotation=60, ha="right")
    ax.set_yticks(range(len(target)), list(target))
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.tight_layout()
    return fig
