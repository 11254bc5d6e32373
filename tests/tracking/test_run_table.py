"""``wordlab.runs``: the MLflow store as a table, sweep parents and children included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import wordlab
from wordlab.tracking.store import default_tracking_uri


def record(client: MlflowClient, experiment_id: str, name: str, **data: dict) -> str:
    """A finished run with the given params, metrics and tags."""
    run = client.create_run(experiment_id, run_name=name, tags=data.get("tags", {}))
    for key, value in data.get("params", {}).items():
        client.log_param(run.info.run_id, key, value)
    for key, value in data.get("metrics", {}).items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


@pytest.fixture
def sweep() -> dict[str, str]:
    """A parent run with two children in experiment ``tiny``, and a run in ``other``."""
    client = MlflowClient(default_tracking_uri())
    tiny = client.create_experiment("tiny")
    parent = record(client, tiny, "sweep model=cnn,bag")
    ids = {"parent": parent}
    for model, accuracy in [("cnn", 0.9), ("bag", 0.8)]:
        ids[model] = record(
            client,
            tiny,
            f"{model}-tiny-random",
            params={"model._target_": f"wordlab.models.{model}", "seed": 3, "model.dropout": 0.5},
            metrics={"test/acc": accuracy},
            tags={"mlflow.parentRunId": parent},
        )
    ids["other"] = record(
        client,
        client.create_experiment("other"),
        "cnn-other-random",
        params={"seed": "1", "data.lowercase": "True"},
    )
    return ids


def test_runs_of_an_experiment_with_parent_and_children(sweep: dict[str, str]) -> None:
    table = wordlab.runs("tiny")
    assert list(table.run_id) == [sweep["parent"], sweep["cnn"], sweep["bag"]]  # oldest first
    first = ["run_id", "run_name", "experiment", "status", "parent_run_id"]
    assert list(table.columns[:5]) == first
    assert set(table.experiment) == {"tiny"} and set(table.status) == {"FINISHED"}
    children = table[table.parent_run_id == sweep["parent"]]
    assert list(children.run_name) == ["cnn-tiny-random", "bag-tiny-random"]
    assert pd.isna(table.parent_run_id.iloc[0])
    assert list(children["metrics.test/acc"]) == [0.9, 0.8]
    assert list(children["params.model._target_"]) == ["wordlab.models.cnn", "wordlab.models.bag"]
    assert list(children["params.seed"]) == [3, 3]  # numbers, to sort and plot
    assert str(table["params.seed"].dtype) == "Int64"  # whole, though the parent has none
    assert children["params.model.dropout"].dtype.kind == "f"
    assert "tags.mlflow.runName" in table.columns
    assert table.start_time.dt.tz is not None


def test_filter_order_and_every_experiment(sweep: dict[str, str]) -> None:
    best = wordlab.runs("tiny", filter="metrics.`test/acc` > 0.85")
    assert list(best.run_id) == [sweep["cnn"]]
    ordered = wordlab.runs("tiny", order_by=["metrics.`test/acc` ASC"], max_results=2)
    assert list(ordered.run_id) == [sweep["bag"], sweep["cnn"]]
    everything = wordlab.runs()
    assert len(everything) == 4 and set(everything.experiment) == {"tiny", "other"}
    assert everything.loc[everything.run_id == sweep["other"], "params.data.lowercase"].item() == (
        "True"
    )
    assert len(wordlab.runs(["tiny", "other"], filter="params.seed = '1'")) == 1


def test_unknown_experiment_lists_the_known_ones(sweep: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"no experiment named \['sst2'\].*'other', 'tiny'"):
        wordlab.runs("sst2")


def test_empty_store_gives_an_empty_table(isolated: Path) -> None:
    table = wordlab.runs(tracking_uri=f"sqlite:///{isolated / 'empty.db'}")
    assert table.empty and "parent_run_id" in table.columns


def test_a_trained_run_is_found(train_overrides: list[str]) -> None:
    result = wordlab.fit(wordlab.compose([*train_overrides, "trainer.max_epochs=1", "seed=5"]))
    frame = wordlab.runs("tiny")
    assert list(frame.run_id) == [result.run_id]
    assert (
        frame.run_name.item().startswith("cnn-tiny-random ") and "seed=5" in frame.run_name.item()
    )
    assert frame["params.seed"].item() == 5
    assert frame["metrics.test/acc"].item() == pytest.approx(result.metrics["test/acc"])
    assert frame["params.model._target_"].item() == "wordlab.models.CNNEncoder"


def test_the_runs_table_imports_no_torch() -> None:
    """``wordlab.runs()`` is for notebooks and scripts that only read the store."""
    import subprocess
    import sys

    code = "import sys, wordlab; wordlab.runs; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
