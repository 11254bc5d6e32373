"""Figures that several tasks' reports share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
