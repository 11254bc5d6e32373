"""Summaries of a sweep from its MLflow child runs: job table, best job, seed statistics, plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

# Overrides that repeat a configuration rather than change it: averaged over in summaries.
REPEAT_KEYS = ("seed", "data.fold")
JOB_OVERRIDES_TAG = "wordlab.job_overrides"


def key_metrics(columns: Sequence[str], metric: str) -> list[str]:
    """The optimized metric, then the test split's overall figures (``test/loss`` and whatever
    else the task logged, without per-class or per-type ones)."""
    overall = sorted(c for c in columns if c.startswith("test/") and c.count("/") == 1)
    return [m for m in dict.fromkeys([metric, *overall]) if m in columns]


def parse_overrides(text: str) -> dict[str, str]:
    """``"model=cnn seed=2"`` to ``{"model": "cnn", "seed": "2"}`` (leading ``+``/``~`` dropped)."""
    pairs = {}
    for item in text.split():
        if "=" in item:
            key, value = item.split("=", 1)
            pairs[key.lstrip("+~")] = value
    return pairs


def job_table(client: MlflowClient, experiment_id: str, parent_run_id: str) -> pd.DataFrame:
    """One row per child run: job number, overrides, status, error and every metric."""
    runs = client.search_runs(
        [experiment_id], f"tags.mlflow.parentRunId = '{parent_run_id}'", max_results=50_000
    )
    rows = []
    for run in runs:
        tags = run.data.tags
        overrides = parse_overrides(tags.get(JOB_OVERRIDES_TAG, ""))
        rows.append(
            {
                "job": int(tags.get("wordlab.job_num", -1)),
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "status": run.info.status,
                "overrides": tags.get("wordlab.job_label") or tags.get(JOB_OVERRIDES_TAG, ""),
                **{f"override.{k}": v for k, v in overrides.items()},
                **run.data.metrics,
                "reused_run_id": tags.get("wordlab.reused_run_id"),
                "error": tags.get("error"),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("job").reset_index(drop=True) if rows else table


def swept_keys(table: pd.DataFrame) -> list[str]:
    """Override keys whose value differs between jobs."""
    columns = [c for c in table.columns if c.startswith("override.")]
    return [c.removeprefix("override.") for c in columns if table[c].nunique(dropna=False) > 1]


def repeat_statistics(
    table: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]
) -> pd.DataFrame:
    """Mean, standard deviation and count of each metric over seeds and folds, per configuration.

    Jobs that differ only in ``seed`` or ``data.fold`` form one configuration.
    """
    finished = table[table["status"] == "FINISHED"]
    metrics = [m for m in metrics if m in finished.columns]
    if finished.empty or not metrics:
        return pd.DataFrame()
    groups = [f"override.{k}" for k in keys if k not in REPEAT_KEYS]
    grouped = (
        finished.groupby(groups, dropna=False) if groups else finished.groupby(lambda _: "all")
    )
    stats = grouped[metrics].agg(["mean", "std", "count"])
    stats.columns = [f"{metric} {stat}" for metric, stat in stats.columns]
    return stats.reset_index().rename(columns=lambda c: str(c).removeprefix("override."))


def best_job(table: pd.DataFrame, metric: str, maximize: bool) -> pd.Series | None:
    finished = table[(table["status"] == "FINISHED")]
    if metric not in finished.columns or finished[metric].isna().all():
        return None
    return finished.loc[finished[metric].idxmax() if maximize else finished[metric].idxmin()]


def plot_metric(table: pd.DataFrame, keys: Sequence[str], metric: str, path: Path) -> Path | None:
    """Save ``metric_figure`` as a PNG at ``path`` (None: nothing to plot)."""
    fig = metric_figure(table, keys, metric)
    if fig is None:
        return None
    fig.savefig(path, dpi=110)
    return path


def metric_figure(table: pd.DataFrame, keys: Sequence[str], metric: str) -> Any:
    """A matplotlib figure with one panel per swept key but seeds and folds: the metric's mean
    ± standard deviation over the repetitions (seeds, folds) against the key's values, one line
    per setting of the other swept keys (a learning curve per model, say), the jobs as faint
    points. Numbers are an axis (logarithmic when they span more than a factor 50), other
    values categories."""
    finished = table[table["status"] == "FINISHED"]
    shown = [k for k in keys if k not in REPEAT_KEYS]
    if not shown or metric not in finished.columns or finished[metric].isna().all():
        return None
    from matplotlib.figure import Figure

    repeats = [k for k in keys if k in REPEAT_KEYS]
    fig = Figure(figsize=(4.5 * len(shown), 3.4))
    axes = fig.subplots(1, len(shown), squeeze=False)
    for ax, key in zip(axes[0], shown, strict=True):
        values = finished[f"override.{key}"].astype(str)
        numeric = pd.to_numeric(values, errors="coerce")
        is_number = bool(numeric.notna().all())
        categories = sorted(values.unique())
        where = numeric if is_number else values.map(categories.index)
        others = [f"override.{k}" for k in shown if k != key]
        lines = finished.groupby(others, dropna=False) if others else [("", finished)]
        for setting, jobs in lines:
            stats = jobs[metric].groupby(where[jobs.index]).agg(["mean", "std"]).sort_index()
            label = " ".join(str(v) for v in np.atleast_1d(setting)) if others else None
            ax.errorbar(
                stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=3,
                label=label,
            )  # fmt: skip
            ax.scatter(where[jobs.index], jobs[metric], alpha=0.25, s=12, color="grey")
        if not is_number:
            ax.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
        elif numeric.min() > 0 and numeric.max() / numeric.min() > 50:
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        if repeats:
            ax.set_title(f"mean ± std over {', '.join(repeats)}", fontsize=9)
        if others and len(lines) > 1:  # type: ignore[arg-type]
            ax.legend(title=" ".join(o.removeprefix("override.") for o in others), fontsize=8)
    fig.tight_layout()
    return fig


def clean(value: object) -> float | None:
    """A metric value MLflow accepts, or None for NaN."""
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
