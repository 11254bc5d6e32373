"""Runs of the MLflow store as a pandas table, to compare them in code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wordlab.tracking.store import default_tracking_uri

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.entities import Experiment, Run

PARENT_TAG = "mlflow.parentRunId"
PAGE_SIZE = 1000
INFO_COLUMNS = [
    "run_id",
    "run_name",
    "experiment",
    "status",
    "parent_run_id",
    "start_time",
    "end_time",
    "experiment_id",
    "artifact_uri",
]


def runs(
    experiment: str | Sequence[str] | None = None,
    filter: str = "",
    tracking_uri: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> pd.DataFrame:
    """One row per run, with its parameters, metrics and tags, sweep parents and children alike.

    The columns are those of ``mlflow.search_runs`` (``run_id``, ``status``, ``start_time``,
    ``params.<key>``, ``metrics.<key>``, ``tags.<key>``, ...) plus ``run_name``, ``experiment``
    (the name) and ``parent_run_id`` (the sweep run a job belongs to; None for other runs).
    Parameters whose values are all numbers are numbers (whole numbers as ``Int64``).

    Args:
        experiment: An experiment name (the data name, e.g. ``bbc_news``), several, or None for
            every experiment.
        filter: An MLflow search filter, e.g. ``"metrics.`test/loss` < 0.3"`` or
            ``"params.seed = '3'"``.
        tracking_uri: The store; defaults to ``MLFLOW_TRACKING_URI``, else the project's store
            ``outputs/mlflow.db`` (as ``wordlab.load_run``).
        order_by: MLflow ordering clauses (default: oldest first).
        max_results: At most this many runs.
    """
    from mlflow.tracking import MlflowClient

    client = MlflowClient(default_tracking_uri(tracking_uri))
    experiments = _experiments(client, experiment)
    names = {e.experiment_id: e.name for e in experiments}
    found: list[Run] = []
    token = None
    while names and (max_results is None or len(found) < max_results):
        size = PAGE_SIZE if max_results is None else min(PAGE_SIZE, max_results - len(found))
        page = client.search_runs(
            list(names),
            filter_string=filter,
            max_results=size,
            order_by=list(order_by or ["attributes.start_time ASC"]),
            page_token=token,
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    return _table(found, names)


def _experiments(client: Any, experiment: str | Sequence[str] | None) -> list[Experiment]:
    available = client.search_experiments()
    if experiment is None:
        return list(available)
    wanted = [experiment] if isinstance(experiment, str) else list(experiment)
    by_name = {e.name: e for e in available}
    missing = [name for name in wanted if name not in by_name]
    if missing:
        raise ValueError(
            f"no experiment named {missing} in the MLflow store; available: {sorted(by_name)}"
        )
    return [by_name[name] for name in wanted]


def _table(found: list[Run], names: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for run in found:
        info, data = run.info, run.data
        row: dict[str, Any] = {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment": names.get(info.experiment_id),
            "status": info.status,
            "parent_run_id": data.tags.get(PARENT_TAG),
            "start_time": pd.to_datetime(info.start_time, unit="ms", utc=True),
            "end_time": pd.to_datetime(info.end_time, unit="ms", utc=True),
            "experiment_id": info.experiment_id,
            "artifact_uri": info.artifact_uri,
        }
        row |= {f"params.{k}": v for k, v in data.params.items()}
        row |= {f"metrics.{k}": v for k, v in data.metrics.items()}
        row |= {f"tags.{k}": v for k, v in data.tags.items()}
        rows.append(row)
    table = pd.DataFrame(rows, columns=INFO_COLUMNS if not rows else None)
    extra = sorted(c for c in table.columns if c not in INFO_COLUMNS)
    table = table[INFO_COLUMNS + extra]
    for column in [c for c in extra if c.startswith("params.")]:
        table[column] = _numbers(table[column])
    return table


def _numbers(values: pd.Series) -> pd.Series:
    """The column as numbers if every non-empty value is one, else unchanged."""
    import pandas as pd

    present = values.dropna()
    try:
        converted = pd.to_numeric(present)
    except (ValueError, TypeError):
        return values
    if converted.dtype.kind in "iu":  # whole numbers stay whole next to missing values
        converted = converted.astype("Int64")
    return converted.reindex(values.index)


def sweep_plot(
    parent_run_id: str, metric: str | None = None, tracking_uri: str | None = None
) -> Any:
    """The figure of a sweep's summary (``summary/metric_vs_parameters.png``), from its runs:
    the metric's mean ± std over seeds and folds against each swept key, one line per setting
    of the other keys; a sweep over ``data.train_fraction`` gives learning curves.

    Args:
        parent_run_id: The sweep's parent run.
        metric: A metric of the jobs (default: the sweep's, as its summary ranks jobs by).
        tracking_uri: The store (as ``wordlab.runs``).
    """
    from mlflow.tracking import MlflowClient

    from wordlab.tracking import summary

    client = MlflowClient(default_tracking_uri(tracking_uri))
    parent = client.get_run(parent_run_id)
    if metric is None:
        ranked = [k.removeprefix("best/") for k in parent.data.metrics if k.startswith("best/")]
        metric = ranked[0] if ranked else "test/loss"
    table = summary.job_table(client, parent.info.experiment_id, parent_run_id)
    if table.empty:
        raise ValueError(f"run {parent_run_id} has no jobs (is it a sweep's parent run?)")
    figure = summary.metric_figure(table, summary.swept_keys(table), metric)
    if figure is None:
        raise ValueError(
            f"nothing to plot for sweep {parent_run_id}: {metric!r} of its finished jobs against "
            f"keys other than seeds and folds (swept: {summary.swept_keys(table)})"
        )
    return figure
