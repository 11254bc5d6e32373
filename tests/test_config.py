"""Every option of every config group composes, and builds what it names."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from wordlab.config import compose, config_dir, dataset_name
from wordlab.tasks import get_task

CONF = Path(config_dir())


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml") if not p.stem.startswith("_"))


def test_default_run_composes_and_names_itself() -> None:
    cfg = compose()
    assert cfg.run_name == "cnn-bbc_news-random"
    assert cfg.logger.experiment_name == "bbc_news"
    assert cfg.logger.tracking_uri.endswith("/outputs/mlflow.db")
    assert Path(cfg.data.path).is_dir()  # the installed package's folder


@pytest.mark.parametrize("option", options("data"))
def test_data_options(option: str, tiny_corpus: Path) -> None:
    extra = [f"data.path={tiny_corpus}"] if option == "local" else []
    cfg = compose([f"data={option}", *extra])
    data = instantiate(cfg.data)
    assert data.name == cfg.data.name and data.name


@pytest.mark.parametrize("option", options("model"))
def test_model_options(option: str) -> None:
    encoder = instantiate(compose([f"model={option}"]).model, input_dim=12)
    assert encoder.output_dim > 0 and encoder.input_layout in ("padded", "flat")


@pytest.mark.parametrize("option", options("embedding"))
def test_embedding_options(option: str, tiny_corpus: Path, tmp_path: Path) -> None:
    from wordlab.data import TextDataModule

    data = TextDataModule(path=str(tiny_corpus))
    data.prepare()
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("good 0.1 0.2\nbad -0.1 0.3\n")
    extra = {"pretrained": [f"embedding.path={vectors}"], "word2vec": ["embedding.epochs=1"]}
    cfg = compose([f"embedding={option}", *extra.get(option, [])])
    table = instantiate(cfg.embedding)(vocab=data.vocab, source=data)
    assert table.weight.shape[0] == len(data.vocab)


@pytest.mark.parametrize("option", options("trainer"))
def test_trainer_options(option: str) -> None:
    cfg = compose([f"trainer={option}"])
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert instantiate(cfg.trainer, logger=False).max_epochs >= 1


@pytest.mark.parametrize("option", options("logger"))
def test_logger_options(option: str) -> None:
    node = compose([f"logger={option}"]).get("logger")
    assert (instantiate(node) if node else None) is not None or option == "none"


@pytest.mark.parametrize("option", options("callbacks"))
def test_callback_options(option: str) -> None:
    callbacks = compose([f"callbacks={option}"]).get("callbacks") or {}
    assert all(instantiate(c) is not None for c in callbacks.values())


@pytest.mark.parametrize("group", ["experiment", "debug"])
def test_presets_compose(group: str) -> None:
    for option in options(group):
        cfg = compose([f"{group}={option}"])
        OmegaConf.to_container(cfg, resolve=True)


def test_overrides_reach_the_built_objects() -> None:
    cfg = compose(["model=rnn", "model.hidden_dim=32", "seed=3"])
    assert instantiate(cfg.model, input_dim=4).output_dim == 64
    assert cfg.data.seed == 3 and cfg.run_name == "rnn-bbc_news-random"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("../data/mr/split_seed13", "mr-split_seed13"),
        ("/x/trec/", "trec"),
        ("a/reviews.jsonl", "reviews"),
    ],
)
def test_dataset_names(path: str, name: str) -> None:
    assert dataset_name(path) == name


@pytest.mark.parametrize("option", options("optimizer"))
def test_optimizer_options(option: str) -> None:
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = instantiate(compose([f"optimizer={option}"]).system.optimizer)(params=[weight])
    weight.sum().backward()
    optimizer.step()
    assert (weight < 1).all()


@pytest.mark.parametrize("option", options("scheduler"))
def test_scheduler_options(option: str) -> None:
    system = compose([f"scheduler={option}"]).system
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    extra = {"total_steps": 10} if option == "linear_decay" else {}
    scheduler = instantiate(system.scheduler)(optimizer=optimizer, **extra)
    assert system.scheduler_interval in ("step", "epoch") and scheduler.optimizer is optimizer


def test_a_corpus_can_choose_its_task_and_a_task_its_model_settings() -> None:
    cfg = compose(["data=ptb", "model=rnn"])
    assert cfg.task.name == "language_model" and cfg.task.monitor == "val/ppl"
    assert cfg.model._target_ == "wordlab.models.RNNEncoder" and not cfg.model.bidirectional
    assert cfg.data.tokenizer == "whitespace" and cfg.data.lowercase is False
    assert cfg.optimized_metric == "val/ppl_best" and cfg.callbacks.early_stopping.mode == "min"
    task = get_task("language_model")
    with pytest.raises(ValueError, match="add model=rnn"):
        task.build_system(compose(["data=ptb"]), None, None)  # type: ignore[arg-type]
    default = compose()
    assert default.task.name == "classification" and default.model.pooling == "max"
    assert default.data.tokenizer == "regex" and default.data.batch_size == 32  # bbc_news's


def test_configs_composed_one_after_the_other_keep_their_own_run_folder_and_name() -> None:
    first = compose(["model=rnn"])
    second = compose(["model=cnn"])
    assert first.run_name == "rnn-bbc_news-random" and second.run_name.startswith("cnn-")
    assert first.paths.run_dir != second.paths.run_dir
    assert first.trainer.default_root_dir == first.paths.run_dir


def test_multi30k_selects_translation_with_its_encoder_and_monitor() -> None:
    cfg = compose(["data=multi30k", "model=rnn"])
    assert cfg.task.name == "translation" and cfg.task.monitor == "val/bleu_lc"
    assert cfg.model.bidirectional and cfg.model.pooling is None and cfg.model.cell == "gru"
    assert cfg.data.source_field == "de" and cfg.data.target_field == "en"
    assert cfg.data.text_field == "de" and cfg.data.min_freq == 2  # what wordlab-predict reads
    assert cfg.trainer.gradient_clip_val == 1.0 and cfg.optimized_metric == "val/bleu_lc_best"
    with pytest.raises(ValueError, match="add model=rnn"):
        get_task("translation").build_system(compose(["data=multi30k"]), None, None)  # type: ignore[arg-type]
