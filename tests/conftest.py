"""Shared fixtures: every cache and store in a temporary folder, no network, tiny corpora."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

POSITIVE = ["good", "great", "fine", "lovely", "superb"]
NEGATIVE = ["bad", "awful", "poor", "dull", "terrible"]
FILLER = ["the", "movie", "plot", "was", "a", "story", "actors", "and", "very", "quite", "it"]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HF caches, the wordlab output folder and MLflow at a temporary folder, offline."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("WORDLAB_ROOT", str(root))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf" / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf" / "datasets")
    datasets.disable_progress_bars()
    return root


def sentence(rng: random.Random, label: str) -> str:
    """A short review whose label is decided by one sentiment word."""
    words = rng.sample(FILLER, 5)
    cue = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
    words.insert(rng.randrange(len(words) + 1), cue)
    return " ".join(words).capitalize() + "."


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    labels = ["positive", "negative"] * (n // 2)
    return [
        {"text": sentence(rng, label), "label": label, "fold": i % 5}
        for i, label in enumerate(labels)
    ]


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A folder with train/validation/test JSON Lines of a one-word sentiment task."""
    folder = tmp_path / "tiny"
    write_jsonl(folder / "train.jsonl", make_rows(200, 1))
    write_jsonl(folder / "validation.jsonl", make_rows(40, 2))
    write_jsonl(folder / "test.jsonl", make_rows(40, 3))
    return folder


@pytest.fixture
def train_overrides(tiny_corpus: Path) -> list[str]:
    """Overrides for a quick real training run on the tiny corpus."""
    return [
        "data=local",
        f"data.path={tiny_corpus}",
        "data.batch_size=16",
        "embedding.embedding_dim=16",
        "model.num_filters=8",
        "trainer=cpu",
        "trainer.max_epochs=3",
        "trainer.enable_model_summary=false",
        "callbacks.progress_bar=null",
        "system.optimizer.lr=0.01",
    ]


PEOPLE = ["Anna", "Bruno", "Chen", "Dara", "Emil", "Fatima"]
SURNAMES = ["Smith", "Okafor", "Rossi", "Tanaka"]
PLACES = ["Paris", "Lagos", "Lima", "Oslo", "Kyoto"]
VERBS = ["visited", "left", "saw", "loves", "reached"]


def make_tagged_rows(n: int, seed: int) -> list[dict]:
    """Sentences like ``Anna Rossi visited Paris .`` with IOB2 entity tags (PER, LOC)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        person = [rng.choice(PEOPLE)] + ([rng.choice(SURNAMES)] if rng.random() < 0.5 else [])
        tokens = [*person, rng.choice(VERBS), rng.choice(PLACES), "."]
        tags = ["B-PER"] + ["I-PER"] * (len(person) - 1) + ["O", "B-LOC", "O"]
        if rng.random() < 0.3:
            tokens, tags = ["Yesterday", ",", *tokens], ["O", "O", *tags]
        rows.append({"tokens": tokens, "ner_tags": tags})
    return rows


@pytest.fixture
def tagged_corpus(tmp_path: Path) -> Path:
    """A folder with train/validation/test JSON Lines of token and tag lists."""
    folder = tmp_path / "tagged"
    write_jsonl(folder / "train.jsonl", make_tagged_rows(120, 1))
    write_jsonl(folder / "validation.jsonl", make_tagged_rows(30, 2))
    write_jsonl(folder / "test.jsonl", make_tagged_rows(30, 3))
    return folder


@pytest.fixture
def tagging_overrides(tagged_corpus: Path) -> list[str]:
    """Overrides for a quick real tagging run (BiLSTM, char CNN, CRF) on the tiny corpus."""
    return [
        "task=tagging",
        "data=local",
        f"data.path={tagged_corpus}",
        "data.label_field=ner_tags",
        "data.batch_size=8",
        "model=rnn",
        "model.hidden_dim=16",
        "embedding.embedding_dim=16",
        "system.char_options={char_dim: 8, num_filters: 8}",
        "trainer=cpu",
        "trainer.max_epochs=4",
        "trainer.enable_model_summary=false",
        "callbacks.progress_bar=null",
        "system.optimizer.lr=0.01",
    ]


ANIMALS = ["cat", "dog", "bird", "fox"]
ACTIONS = ["sat on", "ran to", "looked at"]
THINGS = ["the mat", "the park", "a tree"]


def make_lines(n: int, seed: int) -> list[str]:
    """Lines of a tiny language (``the cat sat on the mat .``), some blank, as a corpus file
    holds them (leading space, as in PTB)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        if rng.random() < 0.1:
            lines.append("")
            continue
        words = ["the", rng.choice(ANIMALS), rng.choice(ACTIONS), rng.choice(THINGS), "."]
        lines.append(" " + " ".join(words) + " ")
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def text_corpus(tmp_path: Path) -> Path:
    """A folder with train/validation/test.txt of the tiny language, one line per row."""
    folder = tmp_path / "text"
    write_lines(folder / "train.txt", make_lines(300, 1))
    write_lines(folder / "validation.txt", make_lines(40, 2))
    write_lines(folder / "test.txt", make_lines(40, 3))
    return folder


@pytest.fixture
def lm_overrides(text_corpus: Path) -> list[str]:
    """Overrides for a quick real language-model run (LSTM) on the tiny text corpus."""
    return [
        "task=language_model",
        "model=rnn",
        "data=local",
        f"data.path={text_corpus}",
        "data.bptt=8",
        "data.batch_size=4",
        "model.hidden_dim=16",
        "model.num_layers=1",
        "embedding.embedding_dim=16",
        "trainer=cpu",
        "trainer.max_epochs=3",
        "trainer.enable_model_summary=false",
        "callbacks.progress_bar=null",
        "system.optimizer.lr=0.01",
        "system.sample_tokens=5",
    ]


GERMAN = {"hund": "dog", "katze": "cat", "vogel": "bird", "fuchs": "fox", "mann": "man"}
VERBS_DE = {"sieht": "sees", "jagt": "chases", "mag": "likes"}
ADJECTIVES_DE = {"kleine": "small", "große": "big", "alte": "old"}


def make_pairs(n: int, seed: int) -> list[dict]:
    """Pairs of a tiny German and its English (``Der kleine Hund sieht den Fuchs.`` -> ``The
    small dog sees the fox.``): word for word, so a small attention model learns it quickly."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        de, en = [], []
        for article, position in (("der", 0), ("den", 1)):
            noun = rng.choice(list(GERMAN))
            adjective = rng.choice([None, *ADJECTIVES_DE])
            de += [article, *([adjective] if adjective else []), noun]
            en += ["the", *([ADJECTIVES_DE[adjective]] if adjective else []), GERMAN[noun]]
            if position == 0:
                verb = rng.choice(list(VERBS_DE))
                de.append(verb)
                en.append(VERBS_DE[verb])
        rows.append(
            {
                "de": " ".join(de).capitalize() + ".",
                "en": " ".join(en).capitalize() + ".",
            }
        )
    return rows


@pytest.fixture
def pair_corpus(tmp_path: Path) -> Path:
    """A folder with train/validation/test JSON Lines of aligned ``de`` and ``en`` texts."""
    folder = tmp_path / "pairs"
    write_jsonl(folder / "train.jsonl", make_pairs(300, 1))
    write_jsonl(folder / "validation.jsonl", make_pairs(30, 2))
    write_jsonl(folder / "test.jsonl", make_pairs(30, 3))
    return folder


@pytest.fixture
def mt_overrides(pair_corpus: Path) -> list[str]:
    """Overrides for a quick real translation run (BiGRU encoder, GRU decoder with additive
    attention) on the tiny pairs."""
    return [
        "task=translation",
        "model=rnn",
        "data=local",
        f"data.path={pair_corpus}",
        "data.batch_size=16",
        "model.hidden_dim=24",
        "embedding.embedding_dim=16",
        "system.decoder_hidden_dim=32",
        "system.beam_size=3",
        "trainer=cpu",
        "trainer.max_epochs=3",
        "trainer.enable_model_summary=false",
        "callbacks.progress_bar=null",
        "system.optimizer.lr=0.01",
    ]
