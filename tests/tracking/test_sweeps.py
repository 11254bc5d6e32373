"""Multirun sweeps through the real entry point: launchers, parent/child runs, summaries."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import wordlab

# Every test here runs whole sweeps through the command line.
pytestmark = pytest.mark.slow

BASE = [
    "data=local",
    "data.batch_size=16",
    "embedding.embedding_dim=16",
    "trainer=cpu",
    "trainer.max_epochs=2",
    "trainer.enable_model_summary=false",
    "callbacks.progress_bar=null",
]


def wordlab_train(
    *args: str, cwd: Path, timeout: int = 600, entry: str = "wordlab-train"
) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / entry
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def store(root: Path) -> MlflowClient:
    return MlflowClient(f"sqlite:///{root / 'outputs' / 'mlflow.db'}")


def sweeps(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name("tiny")
    return client.search_runs(
        [experiment.experiment_id],
        "tags.`wordlab.sweep` = 'true'",
        order_by=["attributes.start_time ASC"],
    )


def children(client: MlflowClient, parent) -> list:
    return client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )


def summary_file(client: MlflowClient, parent, name: str) -> Path:
    return Path(client.download_artifacts(parent.info.run_id, f"summary/{name}"))


def test_basic_sweep_parent_children_and_summary(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    result = wordlab_train(
        "--multirun", *BASE, f"data.path={tiny_corpus}", "model=cnn,bag", "seed=1,2", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(isolated)
    [parent] = sweeps(client)
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "sweep model=cnn,bag seed=1,2"
    assert (
        parent.data.params["sweep.model"] == "cnn,bag" and parent.data.params["sweep.seed"] == "1,2"
    )
    runs = children(client, parent)
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.info.run_name for r in runs)[0] == "bag-tiny-random model=bag seed=1"

    jobs = pd.read_csv(summary_file(client, parent, "jobs.csv"))
    assert len(jobs) == 4 and set(jobs["override.model"]) == {"cnn", "bag"}
    by_config = pd.read_csv(summary_file(client, parent, "by_configuration.csv")).set_index("model")
    cnn = [
        r.data.metrics["test/acc"]
        for r in runs
        if r.data.params["model._target_"].endswith("CNNEncoder")
    ]
    assert by_config.loc["cnn", "test/acc mean"] == pytest.approx(sum(cnn) / 2)
    assert by_config.loc["cnn", "test/acc std"] == pytest.approx(pd.Series(cnn).std())
    assert by_config.loc["cnn", "test/acc count"] == 2
    best = max(runs, key=lambda r: r.data.metrics["val/acc_best"])
    assert parent.data.metrics["best/val/acc_best"] == pytest.approx(
        best.data.metrics["val/acc_best"]
    )
    assert client.get_run(parent.info.run_id).data.tags["best.run_id"] in {
        r.info.run_id for r in runs
    }
    assert summary_file(client, parent, "metric_vs_parameters.png").read_bytes()[:4] == b"\x89PNG"
    uri = f"sqlite:///{isolated / 'outputs' / 'mlflow.db'}"
    [panel] = wordlab.sweep_plot(parent.info.run_id, tracking_uri=uri).axes  # not the seeds
    assert panel.get_ylabel() == "val/acc_best" and "over seed" in panel.get_title()


def test_failed_job_relaunch_and_seed_statistics(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    args = [
        "--multirun",
        *BASE,
        f"data.path={tiny_corpus}",
        "trainer.max_epochs=1",
        "data.text_field=text,review",
    ]
    first = wordlab_train(*args, cwd=tmp_path)
    assert first.returncode != 0  # the sweep reports the failure...
    assert "1 job(s) of the sweep failed" in first.stderr
    client = store(isolated)
    [parent] = sweeps(client)
    runs = {r.data.params["data.text_field"]: r for r in children(client, parent)}
    assert runs["text"].info.status == "FINISHED"  # ...after the other job finished
    assert runs["review"].info.status == "FAILED"
    assert "no column 'review'" in runs["review"].data.tags["error"]
    parent = client.get_run(parent.info.run_id)
    assert parent.data.metrics["sweep/failed"] == 1 and parent.info.status == "FINISHED"
    assert "no column 'review'" in summary_file(client, parent, "summary.md").read_text()

    again = wordlab_train(*args[:-1], "data.text_field=text", "seed=13,14", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    latest = sweeps(client)[-1]
    reran = {r.data.params["seed"]: r for r in children(client, latest)}
    assert reran["13"].data.tags["wordlab.reused_run_id"] == runs["text"].info.run_id
    assert reran["13"].data.metrics["test/acc"] == runs["text"].data.metrics["test/acc"]
    assert "wordlab.reused_run_id" not in reran["14"].data.tags  # new config: trained
    latest = client.get_run(latest.info.run_id)
    accs = [r.data.metrics["test/acc"] for r in reran.values()]
    assert latest.data.metrics["mean/test/acc"] == pytest.approx(sum(accs) / 2)
    assert latest.data.metrics["std/test/acc"] == pytest.approx(pd.Series(accs).std())


@pytest.mark.slow
def test_relaunch_after_the_data_changed_trains_again(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    from conftest import make_rows, write_jsonl

    args = ["--multirun", *BASE, f"data.path={tiny_corpus}", "trainer.max_epochs=1", "seed=1,2"]
    first = wordlab_train(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    write_jsonl(tiny_corpus / "test.jsonl", make_rows(60, 3))  # 20 rows more
    again = wordlab_train(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (again.stdout + again.stderr).count("finished with the same config on other data") == 2
    client = store(isolated)
    before, after = (children(client, parent) for parent in sweeps(client))
    assert all("wordlab.reused_run_id" not in run.data.tags for run in after)
    assert {r.data.metrics["data/test_size"] for r in before} == {40}
    assert {r.data.metrics["data/test_size"] for r in after} == {60}
    third = wordlab_train(*args, cwd=tmp_path)  # the same data again: both reused
    assert third.returncode == 0, third.stderr[-3000:]
    assert (third.stdout + third.stderr).count("finished with the same config and data") == 2
    reused = children(client, sweeps(client)[-1])
    assert {r.data.tags["wordlab.reused_run_id"] for r in reused} == {r.info.run_id for r in after}


def test_four_parallel_jobs_write_to_one_sqlite_store(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    result = wordlab_train(
        "--multirun", *BASE, f"data.path={tiny_corpus}", "trainer.max_epochs=3",
        "hydra/launcher=local_parallel", "hydra.launcher.n_jobs=4", "seed=1,2,3,4", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(isolated)
    [parent] = sweeps(client)
    runs = children(client, parent)
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    for run in runs:
        assert len(client.get_metric_history(run.info.run_id, "val/acc")) == 3
        assert {"test/acc", "test/f1_macro", "val/acc_best", "data/vocab_size"} <= set(
            run.data.metrics
        )


def test_sweep_over_datasets_needs_sweep_experiment_for_a_parent(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(tiny_corpus, other)
    datasets = f"data.path={tiny_corpus},{other}"
    # A fresh store and two parallel jobs: the store is created once, before the jobs start.
    result = wordlab_train(
        "--multirun", *BASE, datasets, "hydra/launcher=local_parallel", "hydra.launcher.n_jobs=2",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Set sweep_experiment=NAME" in result.stdout + result.stderr
    client = store(isolated)
    for name in ("tiny", "other"):
        [run] = client.search_runs([client.get_experiment_by_name(name).experiment_id])
        assert run.info.status == "FINISHED" and "mlflow.parentRunId" not in run.data.tags

    result = wordlab_train("--multirun", *BASE, datasets, "sweep_experiment=both", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    experiment = client.get_experiment_by_name("both")
    [parent] = client.search_runs([experiment.experiment_id], "tags.`wordlab.sweep` = 'true'")
    runs = children(client, parent)
    assert {r.data.params["data.path"] for r in runs} == {str(tiny_corpus), str(other)}
    assert {r.info.status for r in runs} == {"FINISHED"}


def test_baseline_jobs_are_children_of_the_sweep(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    result = wordlab_train(
        "--multirun", "data=local", f"data.path={tiny_corpus}", "seed=1,2", cwd=tmp_path,
        entry="wordlab-baseline",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(isolated)
    [parent] = sweeps(client)
    runs = children(client, parent)
    assert sorted(r.info.run_name for r in runs) == ["tfidf_lr-tiny seed=1", "tfidf_lr-tiny seed=2"]
    assert parent.data.metrics["sweep/jobs"] == 2
    best = max(r.data.metrics["val/acc_best"] for r in runs)
    assert parent.data.metrics["best/val/acc_best"] == pytest.approx(best)


def test_submitit_local_launcher(tiny_corpus: Path, isolated: Path, tmp_path: Path) -> None:
    result = wordlab_train(
        "--multirun", *BASE, f"data.path={tiny_corpus}", "trainer.max_epochs=1",
        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10", "seed=1,2", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(isolated)
    [parent] = sweeps(client)
    assert sorted(r.info.status for r in children(client, parent)) == ["FINISHED", "FINISHED"]


def test_optuna_study_is_stored_and_resumed(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    import optuna

    search = [
        "--multirun",
        "hparams_search=cnn_sst2",
        *BASE,
        f"data.path={tiny_corpus}",
        "trainer.max_epochs=1",
    ]
    first = wordlab_train(*search, "hydra.sweeper.n_trials=2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    second = wordlab_train(*search, "hydra.sweeper.n_trials=3", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    study = optuna.load_study(
        study_name="cnn_sst2", storage=f"sqlite:///{isolated / 'outputs' / 'optuna.db'}"
    )
    assert len(study.trials) == 3 and all(t.value is not None for t in study.trials)
    client = store(isolated)
    parents = sweeps(client)
    assert [len(children(client, p)) for p in parents] == [2, 1]
    trial_runs = [r for p in parents for r in children(client, p)]
    assert sorted(t.value for t in study.trials) == pytest.approx(
        sorted(r.data.metrics["val/acc_best"] for r in trial_runs)
    )
    assert parents[0].data.params["search.model.num_filters"] == "choice(50, 100, 200)"


def test_ddp_on_two_cpu_processes_makes_one_run(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    result = wordlab_train(
        *BASE, f"data.path={tiny_corpus}", "trainer=ddp", "trainer.accelerator=cpu", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    client = store(isolated)
    experiment = client.get_experiment_by_name("tiny")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["trainer.strategy"] == "ddp" and "test/acc" in run.data.metrics
    assert len(client.get_metric_history(run.info.run_id, "val/acc")) == 2


LONG_EPOCHS = 12


def start_and_wait_for_epoch_two(
    *overrides: str, root: Path, cwd: Path, jobs: int = 1, epochs: int = LONG_EPOCHS
) -> subprocess.Popen:
    """Start wordlab-train long enough that it cannot finish between its 2nd epoch and a kill;
    return once `jobs` runs (the jobs running at once in a sweep) have ended their 2nd epoch."""
    script = Path(sys.executable).parent / "wordlab-train"
    args = [
        *overrides,  # first, as --multirun must be
        *BASE,
        f"trainer.max_epochs={epochs}",
        "data.batch_size=4",
        "callbacks.early_stopping=null",
        "+callbacks.model_checkpoint.save_top_k=-1",  # epoch_001.ckpt stays, best or not
    ]
    process = subprocess.Popen(
        [str(script), *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        # runs/ and multiruns/ only: the cache's staging folders come and go during a scan
        if len(list((root / "outputs").glob("*runs/**/checkpoints/epoch_001.ckpt"))) >= jobs:
            return process
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"not {jobs} checkpoint(s) after the second epoch")


@pytest.mark.parametrize("parallel", [False, True], ids=["in process", "parallel workers"])
def test_sigterm_closes_the_sweep_and_its_running_jobs_as_killed(
    parallel: bool, tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    launcher = ["hydra/launcher=local_parallel", "hydra.launcher.n_jobs=2"] if parallel else []
    # both parallel workers must be training when the signal comes; stopped, no job runs long
    process = start_and_wait_for_epoch_two(
        "--multirun",
        f"data.path={tiny_corpus}",
        "seed=1,2",
        *launcher,
        root=isolated,
        cwd=tmp_path,
        jobs=2 if parallel else 1,
        epochs=100,
    )
    process.send_signal(signal.SIGTERM)  # to the launcher alone, as `kill PID` does
    assert process.wait(timeout=120) == 128 + signal.SIGTERM  # as a shell reports a kill
    client = store(isolated)
    [parent] = sweeps(client)
    assert parent.info.status == "KILLED"
    assert parent.data.tags["error"] == "the sweep was stopped by SIGTERM"
    jobs = children(client, parent)
    assert {job.info.status for job in jobs} == {"KILLED"}
    if parallel:  # the launcher's workers died with it, mid-step; it closed their runs
        assert len(jobs) == 2
        assert all(
            job.data.tags["error"].endswith("the sweep was stopped by SIGTERM") for job in jobs
        )
    else:  # the job stopped itself at the end of a step; the second job never started
        assert [job.data.tags["error"] for job in jobs] == ["stopped by SIGTERM"]


def test_sigkill_mid_training_mark_killed_then_resume(
    tiny_corpus: Path, isolated: Path, tmp_path: Path
) -> None:
    epochs = LONG_EPOCHS
    process = start_and_wait_for_epoch_two(f"data.path={tiny_corpus}", root=isolated, cwd=tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    client = store(isolated)
    experiment = client.get_experiment_by_name("tiny")
    [killed] = client.search_runs([experiment.experiment_id])
    epochs_before = len(client.get_metric_history(killed.info.run_id, "val/acc"))
    assert 2 <= epochs_before < epochs
    assert killed.info.status == "RUNNING"  # nothing in the process could close it
    marked = wordlab_train(cwd=tmp_path, entry="wordlab-mark-killed")
    assert marked.returncode == 0, marked.stderr[-3000:]
    assert client.get_run(killed.info.run_id).info.status == "KILLED", marked.stdout

    resumed = wordlab_train(f"resume={killed.info.run_id}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    run = client.get_run(killed.info.run_id)
    assert run.info.status == "FINISHED"
    history = client.get_metric_history(run.info.run_id, "val/acc")
    assert len(history) == epochs  # every epoch once: none lost, none repeated
    assert len({m.step for m in history}) == epochs
    assert "test/acc" in run.data.metrics
    assert len(client.search_runs([experiment.experiment_id])) == 1
