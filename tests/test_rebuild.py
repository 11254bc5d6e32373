"""A shared run or checkpoint runs no code on the machine that loads it."""

import re
import tempfile
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from wordlab.config import compose, config_dir
from wordlab.embeddings import InitialEmbeddings
from wordlab.evaluate import evaluate
from wordlab.models import CNNEncoder
from wordlab.predict import predict
from wordlab.predictor import load_checkpoint, load_run
from wordlab.rebuild import REBUILDABLE, UntrustedConfigError, rebuild
from wordlab.train import fit


def test_rebuild_calls_only_allowed_classes(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    opener = {"_target_": "builtins.open", "file": str(marker), "mode": "w"}
    cnn = {"_target_": "wordlab.models.CNNEncoder", "num_filters": 4, "kernel_sizes": [2]}
    assert isinstance(rebuild({"model": cnn}, "model", "x.ckpt", input_dim=8), CNNEncoder)
    cases = {
        "model._target_='builtins.open'": {"model": opener},
        "model.num_filters._target_": {"model": {**cnn, "num_filters": opener}},
        "model.kernel_sizes[0]._target_": {"model": {**cnn, "kernel_sizes": [opener]}},
        "model._args_": {"model": {**cnn, "_args_": [1]}},
    }
    for offending, config in cases.items():
        with pytest.raises(UntrustedConfigError, match=re.escape("x.ckpt: refusing " + offending)):
            rebuild(config, "model", "x.ckpt", input_dim=8)
    assert not marker.exists()


def test_the_optimizer_of_a_stored_system_is_not_built(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    opener = {"_target_": "builtins.open", "file": str(marker), "mode": "w"}
    config = {"system": {"_target_": "wordlab.systems.TextClassifier", "optimizer": opener}}
    embeddings = InitialEmbeddings(weight=torch.zeros(5, 8))
    encoder = CNNEncoder(input_dim=8, num_filters=4, kernel_sizes=[2])
    system = rebuild(
        config, "system", "x.ckpt", encoder=encoder, embeddings=embeddings, label_names=["a", "b"]
    )
    assert system.optimizer_factory is None and not marker.exists()
    with pytest.raises(ValueError, match="rebuilt to predict"):
        system.configure_optimizers()


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _loaders(run_id: str, checkpoint: Path, texts: Path, data_only: bool) -> list:
    """Every way a user loads a run; a crafted data section matters only to ``wordlab-eval``."""
    output = texts.with_suffix(".out.jsonl")
    loaders = [lambda: evaluate(compose([f"run_id={run_id}"], config_name="eval"))]
    if not data_only:
        loaders += [
            lambda: predict(
                compose([f"run_id={run_id}", f"input={texts}", f"output={output}"], "predict")
            ),
            lambda: load_checkpoint(checkpoint),
            lambda: load_run(run_id),
        ]
    return loaders


def test_a_crafted_run_runs_no_code_in_eval_predict_or_load(
    train_overrides: list[str], isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # downloads land here
    cfg = compose(train_overrides)
    trained = fit(cfg)
    client = MlflowClient(cfg.logger.tracking_uri)
    checkpoint = torch.load(trained.best_checkpoint, weights_only=True)
    marker = tmp_path / "pwned"
    opener = {"_target_": "builtins.open", "file": str(marker), "mode": "w"}
    texts = tmp_path / "texts.txt"
    texts.write_text("A superb story.\n")
    config = checkpoint["wordlab"]["config"]
    model, system = config["model"], config["system"]
    payloads = {
        "model._target_": {**config, "model": opener},
        "model.num_filters._target_": {**config, "model": {**model, "num_filters": opener}},
        "system.max_norm._target_": {**config, "system": {**system, "max_norm": opener}},
        "data._target_": {**config, "data": {**config["data"], **opener}},
    }
    experiment = client.get_run(trained.run_id).info.experiment_id
    for offending, crafted in payloads.items():
        path = tmp_path / "crafted" / "checkpoints" / "model.ckpt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({**checkpoint, "wordlab": {**checkpoint["wordlab"], "config": crafted}}, path)
        run_id = client.create_run(experiment).info.run_id
        client.log_artifact(run_id, str(path), "checkpoints")
        before = _files(tmp_path)
        data_only = offending == "data._target_"
        if data_only:
            load_run(run_id).predict(["fine"])  # the model itself loads
        for load in _loaders(run_id, path, texts, data_only):
            with pytest.raises(UntrustedConfigError, match=re.escape("refusing " + offending)):
                load()
        assert not marker.exists()
        assert _files(tmp_path) == before  # nothing written: no reports, cache or copy


def test_every_shipped_model_data_and_system_config_can_be_rebuilt() -> None:
    conf = Path(config_dir())
    tasks = sorted(p.stem for p in (conf / "task").glob("*.yaml"))
    for task in tasks:
        for section in ("model", "data"):
            for option in sorted(p.stem for p in (conf / section).glob("[!_]*.yaml")):
                extra = ["data.path=x"] if option == "local" else []
                cfg = compose([f"task={task}", f"{section}={option}", *extra])
                target = cfg[section]._target_
                assert target in REBUILDABLE[section], f"{section}={option}: allow {target}"
        system = compose([f"task={task}"]).system._target_
        assert system in REBUILDABLE["system"], f"task={task}: allow {system}"


def test_a_classifier_saved_before_tasks_were_an_axis_still_loads(
    train_overrides: list[str], tmp_path: Path
) -> None:
    trained = fit(compose(train_overrides))
    checkpoint = torch.load(trained.best_checkpoint, weights_only=True)
    # What such a checkpoint held: the system's old class path, no task, the tables at the top.
    config = checkpoint["wordlab"]["config"]
    config["system"]["_target_"] = "wordlab.systems.TextClassifier"
    del config["task"]
    checkpoint["state_dict"] = {
        key.removeprefix("embedder."): value for key, value in checkpoint["state_dict"].items()
    }
    assert "embedding.weight" in checkpoint["state_dict"]
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    texts = ["a great film", "a dull film"]
    assert load_checkpoint(old).predict(texts) == load_checkpoint(trained.best_checkpoint).predict(
        texts
    )
