"""Every notebook in ``notebooks/`` runs top to bottom on a tiny corpus, offline."""

from __future__ import annotations

import random
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import make_pairs, make_rows, make_tagged_rows, write_jsonl

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def noisy_rows(count: int, seed: int, flipped: float) -> list[dict]:
    """Tiny-corpus rows with a share of labels flipped, so that runs make some errors."""
    rng = random.Random(seed)
    rows = make_rows(count, seed)
    for row in rng.sample(rows, int(flipped * count)):
        row["label"] = "negative" if row["label"] == "positive" else "positive"
    return rows


SUBJECTS = ["the company", "the bank", "the firm", "the group", "its chairman"]
VERBS = ["said", "reported", "expects", "announced"]
NEWS = ["profit rose", "sales fell", "the shares rose", "costs were flat", "the deal closed"]
WHEN = ["in the quarter", "last year", "this week", "on monday"]


def news_lines(count: int, seed: int) -> list[str]:
    """Lines like ``the company said sales fell in the quarter``, of one to three such clauses
    joined by ``and`` (so that the lines fall in several length buckets)."""
    rng = random.Random(seed)
    return [
        " and ".join(
            " ".join([rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(NEWS), rng.choice(WHEN)])
            for _ in range(rng.choice([1, 1, 2, 3]))
        )
        for _ in range(count)
    ]


@pytest.fixture
def notebook_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "notebook-corpus"
    write_jsonl(folder / "train.jsonl", noisy_rows(160, 1, 0.05))
    write_jsonl(folder / "validation.jsonl", noisy_rows(40, 2, 0.1))
    write_jsonl(folder / "test.jsonl", noisy_rows(40, 3, 0.15))
    return folder


@pytest.fixture
def notebook_tagged_corpus(tmp_path: Path) -> Path:
    """Token and NER tag lists for the tagging notebook (06_named_entities)."""
    folder = tmp_path / "notebook-tagged-corpus"
    write_jsonl(folder / "train.jsonl", make_tagged_rows(120, 1))
    write_jsonl(folder / "validation.jsonl", make_tagged_rows(30, 2))
    write_jsonl(folder / "test.jsonl", make_tagged_rows(30, 3))
    return folder


@pytest.fixture
def notebook_text_corpus(tmp_path: Path) -> Path:
    """Plain text for the language-model notebook (07_language_model): one line a row."""
    folder = tmp_path / "notebook-text-corpus"
    folder.mkdir()
    for split, count, seed in [("train", 200, 1), ("validation", 40, 2), ("test", 40, 3)]:
        text = "".join(line + "\n" for line in news_lines(count, seed))
        (folder / f"{split}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def notebook_pair_corpus(tmp_path: Path) -> Path:
    """German and English pairs (``de``, ``en``) for the translation notebook (08_translation)."""
    folder = tmp_path / "notebook-pair-corpus"
    write_jsonl(folder / "train.jsonl", make_pairs(300, 1))
    write_jsonl(folder / "validation.jsonl", make_pairs(30, 2))
    write_jsonl(folder / "test.jsonl", make_pairs(30, 3))
    return folder


def test_there_are_notebooks() -> None:
    assert [p.name[:3] for p in NOTEBOOKS] == [f"{n:02d}_" for n in range(1, 9)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(
    path: Path,
    notebook_corpus: Path,
    notebook_tagged_corpus: Path,
    notebook_text_corpus: Path,
    notebook_pair_corpus: Path,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel inherits this environment, with the isolated stores of the autouse fixture.
    monkeypatch.setenv("WORDLAB_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("WORDLAB_NOTEBOOK_DATA", str(notebook_corpus))
    monkeypatch.setenv("WORDLAB_NOTEBOOK_TAGGED_DATA", str(notebook_tagged_corpus))
    monkeypatch.setenv("WORDLAB_NOTEBOOK_TEXT_DATA", str(notebook_text_corpus))
    monkeypatch.setenv("WORDLAB_NOTEBOOK_PAIR_DATA", str(notebook_pair_corpus))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    assert (isolated / "outputs" / "mlflow.db").is_file()  # the runs went to the tmp store
