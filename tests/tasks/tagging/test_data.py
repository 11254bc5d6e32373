"""TaggingDataModule: token and tag lists in, schemes read and converted, bad input named."""

from pathlib import Path

import pytest

from conftest import make_tagged_rows, write_jsonl
from wordlab.data.errors import DataError
from wordlab.tasks.tagging import TaggingDataModule
from wordlab.tasks.tagging.schemes import detect_scheme


def module(path: Path, **options) -> TaggingDataModule:
    data = TaggingDataModule(str(path), label_field="ner_tags", **options)
    data.prepare()
    return data


def corpus(folder: Path, train: list[dict], test: list[dict] | None = None) -> Path:
    write_jsonl(folder / "train.jsonl", train)
    write_jsonl(folder / "validation.jsonl", make_tagged_rows(10, 2))
    write_jsonl(folder / "test.jsonl", test or make_tagged_rows(10, 3))
    return folder


def test_detect_scheme() -> None:
    assert detect_scheme([["B-PER", "I-PER", "O", "B-LOC"]]) == "iob2"
    assert detect_scheme([["I-PER", "I-PER", "O", "I-LOC"], ["I-PER", "B-PER"]]) == "iob1"
    assert detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]]) == "bioes"
    assert detect_scheme([["O", "O"]]) == "iob2"


def test_tags_are_converted_to_the_training_scheme_and_batched_with_characters(
    tmp_path: Path,
) -> None:
    data = module(corpus(tmp_path, make_tagged_rows(40, 1)), tag_scheme="bioes")
    assert data.source_scheme == "iob2"
    assert data.label_names[0] == "O" and "S-LOC" in data.label_names
    assert {t for tags in data.tags("train") for t in tags} <= set(data.label_names)
    assert data.tokens("train")[0][0][0].isupper()  # case kept
    batch = next(iter(data.dataloader("train")))
    input_ids, tags, chars = batch["input_ids"], batch["tags"], batch["char_ids"]
    assert tags.shape == input_ids.shape and chars.shape[:2] == input_ids.shape
    assert ((chars[..., 0] != 0) == (input_ids != 0)).all()  # every real word has characters
    assert data.stats["num_tags"] == len(data.label_names)


def test_a_conll_file_in_iob1_is_read_and_scored_in_spans(tmp_path: Path) -> None:
    lines = ["-DOCSTART- O", "", "Anna I-PER", "Rossi I-PER", "left O", "Oslo I-LOC", ". O", ""]
    for split in ("train", "validation", "test"):
        (tmp_path / f"{split}.conll").write_text("\n".join(lines * 3) + "\n")
    data = TaggingDataModule(str(tmp_path), tag_scheme="iob2")
    data.prepare()
    assert data.source_scheme == "iob1"
    assert data.tags("test")[0] == ["B-PER", "I-PER", "O", "B-LOC", "O"]


def test_an_inside_tag_after_outside_is_repaired_and_counted(tmp_path: Path) -> None:
    rows = make_tagged_rows(30, 1)
    rows[0] = {"tokens": ["Anna", "left", "Oslo"], "ner_tags": ["B-PER", "O", "I-LOC"]}
    data = module(corpus(tmp_path, rows), tag_scheme="iob2")
    assert data.stats["train_repaired_tags"] == 1
    assert ["B-PER", "O", "B-LOC"] in data.tags("train")


def test_empty_sentences_are_skipped_and_counted(tmp_path: Path) -> None:
    rows = [*make_tagged_rows(30, 1), {"tokens": [], "ner_tags": []}]
    assert module(corpus(tmp_path, rows)).stats["train_skipped_empty"] == 1


def test_tokens_and_tags_of_different_lengths_are_named(tmp_path: Path) -> None:
    rows = make_tagged_rows(30, 1)
    rows[4]["ner_tags"] = rows[4]["ner_tags"][:-1]
    with pytest.raises(DataError, match=r"split train row 5: \d+ tokens but \d+ tags"):
        module(corpus(tmp_path, rows))


def test_a_test_tag_never_seen_in_training_is_named(tmp_path: Path) -> None:
    test = [{"tokens": ["Acme", "rose"], "ner_tags": ["B-ORG", "O"]}]
    with pytest.raises(DataError, match=r"split test has tags never seen in training: \['S-ORG'\]"):
        module(corpus(tmp_path, make_tagged_rows(30, 1), test))


def test_texts_instead_of_token_lists_are_refused_with_the_option_named(tmp_path: Path) -> None:
    rows = [{"tokens": "Anna left Oslo", "ner_tags": ["B-PER", "O", "B-LOC"]}] * 10
    with pytest.raises(DataError, match="data.text_field 'tokens' holds str"):
        module(corpus(tmp_path, rows))


def test_integer_tags_take_names_from_the_options_or_say_which_are_missing(
    tmp_path: Path,
) -> None:
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    rows = [
        {"tokens": r["tokens"], "ner_tags": [names.index(t) for t in r["ner_tags"]]}
        for r in make_tagged_rows(40, 1)
    ]
    folder = tmp_path / "ints"
    write_jsonl(folder / "train.jsonl", rows)
    with pytest.raises(DataError, match="integers without names; give data.label_names"):
        module(folder)
    data = module(folder, label_names=names, tag_scheme="iob2")
    assert set(data.label_names) == set(names)


def test_an_unknown_scheme_is_refused_with_the_option_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tag_scheme"):
        TaggingDataModule(str(tmp_path), tag_scheme="bilou")


def test_vocab_splits_give_words_of_other_splits_a_row(tmp_path: Path) -> None:
    test = [{"tokens": ["Zoe", "left", "Oslo", "."], "ner_tags": ["B-PER", "O", "B-LOC", "O"]}]
    folder = corpus(tmp_path, make_tagged_rows(30, 1), test)
    assert "Zoe" not in module(folder).vocab
    data = module(folder, vocab_splits=["train", "validation", "test"])
    assert (
        "Zoe" in data.vocab and data.stats["train_tokens"] == module(folder).stats["train_tokens"]
    )
