"""Token streams: lines with <eos>, the vocabulary of the data's own tokens, windows, bad input."""

from pathlib import Path

import pytest
import torch

from conftest import make_rows, write_jsonl, write_lines
from wordlab.data.errors import DataError
from wordlab.data.vocab import UNK_ID
from wordlab.tasks.language_model.data import EOS, IGNORE, StreamDataModule, StreamWindows


def stream_data(folder: Path, **options: object) -> StreamDataModule:
    data = StreamDataModule(path=str(folder), **options)  # type: ignore[arg-type]
    data.prepare()
    return data


def test_each_line_gives_its_tokens_and_eos_and_the_vocabulary_is_the_datas_own(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "text"
    write_lines(folder / "train.txt", [" The cat <unk> N ", "", " the Cat sat "])
    write_lines(folder / "validation.txt", [" the dog "])
    write_lines(folder / "test.txt", [" the cat "])
    data = stream_data(folder)
    vocab = data.vocab
    assert vocab is not None
    words = [vocab.tokens[i] for i in data.stream("train").tolist()]
    # no lowercasing, blank lines keep their <eos>, the corpus's <unk> is the unknown word
    assert words == ["The", "cat", "<unk>", "N", EOS, EOS, "the", "Cat", "sat", EOS]
    assert vocab.index["<unk>"] == UNK_ID and EOS in vocab and "The" in vocab
    assert data.line_ends("train").tolist() == [5, 6, 10]
    assert data.stats["train_tokens"] == 10 and data.stats["train_lines"] == 3
    assert data.stats["validation_unknown"] == 1  # "dog" is not in the training text


def test_the_text_column_of_any_corpus_is_a_stream(tiny_corpus: Path) -> None:
    data = StreamDataModule(path=str(tiny_corpus), tokenizer="regex", lowercase=True)
    data.prepare()
    assert data.stats["train_lines"] == 200 and data.stats["test_lines"] == 40
    assert data.vocab is not None and "movie" in data.vocab and "." in data.vocab
    half = StreamDataModule(path=str(tiny_corpus), train_fraction=0.5)  # of the lines
    half.prepare()
    assert half.stats["train_lines"] == 100 and half.stats["test_lines"] == 40


def test_training_windows_read_each_stream_in_order_with_the_targets_one_token_ahead() -> None:
    stream = torch.arange(2, 45)  # 43 tokens
    windows = list(StreamWindows(stream, batch_size=3, bptt=5, epoch=lambda: 0))
    assert [w["first"] for w in windows] == [True, False, False]
    rows = torch.cat([w["input_ids"] for w in windows], dim=1)
    targets = torch.cat([w["targets"] for w in windows], dim=1)
    assert rows.shape == (3, 13)  # 43 // 3 = 14 tokens per stream, 13 of them read
    assert torch.equal(rows[1], torch.arange(16, 29)) and torch.equal(targets, rows + 1)
    assert [w["input_ids"].size(1) for w in windows] == [5, 5, 3]


@pytest.mark.parametrize("batch_size", [1, 3, 7, 100])
def test_evaluation_predicts_every_token_after_the_first_exactly_once(batch_size: int) -> None:
    stream = torch.randint(2, 50, (41,))
    positions, targets = [], []
    for window in StreamWindows(stream, batch_size=batch_size, bptt=4):
        real = window["targets"] != IGNORE
        positions.append(window["positions"][real])
        targets.append(window["targets"][real])
        # each input is the token just before its target
        inputs = window["input_ids"][real]
        assert torch.equal(inputs, stream[window["positions"][real] - 1])
    assert sorted(torch.cat(positions).tolist()) == list(range(1, 41))
    assert torch.equal(torch.cat(targets), stream[torch.cat(positions)])


def test_variable_windows_cover_the_stream_and_change_with_the_epoch() -> None:
    stream = torch.arange(2, 2002)
    epoch = [0]
    windows = StreamWindows(stream, 4, bptt=20, epoch=lambda: epoch[0], variable_length=True)
    first = windows.lengths()
    assert sum(first) == 499 and min(first[:-1]) >= 5 and first == windows.lengths()
    epoch[0] = 1
    assert windows.lengths() != first and sum(windows.lengths()) == 499
    assert [w["scale"] for w in list(windows)[:2]] == [n / 20 for n in windows.lengths()[:2]]
    with pytest.raises(TypeError):
        len(windows)  # Lightning reads the count as unknown


def test_a_split_without_words_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "text"
    write_lines(folder / "train.txt", [" a b c "] * 50)
    write_lines(folder / "validation.txt", ["", "  "])
    write_lines(folder / "test.txt", [" a "])
    with pytest.raises(DataError, match=r"validation.txt: no rows \(the file is nothing but white"):
        stream_data(folder)
    rows = tmp_path / "rows"
    write_jsonl(rows / "train.jsonl", [{"text": "a b c"}] * 50)
    write_jsonl(rows / "validation.jsonl", [{"text": ""}, {"text": None}])
    write_jsonl(rows / "test.jsonl", [{"text": "a"}])
    with pytest.raises(DataError, match=r"split validation holds no words \(2 empty lines"):
        stream_data(rows)


def test_a_training_stream_shorter_than_one_window_says_how_long_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "text"
    write_lines(folder / "train.txt", [" a b c d "] * 4)  # 20 tokens with <eos>
    write_lines(folder / "validation.txt", [" a "])
    write_lines(folder / "test.txt", [" b "])
    data = stream_data(folder, bptt=10, batch_size=4)
    with pytest.raises(
        DataError, match=r"has 20 tokens .* 4 streams \(data.batch_size\) that is 5"
    ):
        data.dataloader("train", train=True)
    assert len(list(data.dataloader("validation"))) == 1  # evaluation reads any length


def test_a_missing_text_column_names_the_option(tmp_path: Path) -> None:
    folder = tmp_path / "rows"
    for split in ("train", "validation", "test"):
        write_jsonl(folder / f"{split}.jsonl", make_rows(10, 1))
    with pytest.raises(DataError, match=r"no column 'body' \(data.text_field\)"):
        stream_data(folder, text_field="body")


def test_another_file_is_scored_whole_with_the_run_vocabulary(tmp_path: Path) -> None:
    folder = tmp_path / "text"
    write_lines(folder / "train.txt", [" a b c "] * 20)
    data = stream_data(folder)
    other = write_lines(tmp_path / "other.txt", [" a z ", " b c "])
    scored = StreamDataModule(path=str(other), vocab=data.vocab)
    scored.prepare()
    assert len(scored.stream("test")) == 6  # every line of the file, not a cut of it
    assert scored.stats["test_unknown"] == 1 and UNK_ID in scored.stream("test").tolist()


def test_classification_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data.fold is for classification"):
        StreamDataModule(path=str(tmp_path), fold=1)
    with pytest.raises(ValueError, match="data.bptt=1"):
        StreamDataModule(path=str(tmp_path), bptt=1)


def test_word2vec_trains_on_the_stream_with_its_eos(text_corpus: Path) -> None:
    from wordlab.embeddings import word2vec_embeddings

    data = stream_data(text_corpus)
    assert data.training_tokens()[0][-1] == EOS
    table = word2vec_embeddings(
        data.vocab, data, embedding_dim=8, epochs=1, output_dir=str(text_corpus.parent / "vectors")
    )
    assert data.vocab is not None and table.weight.shape == (len(data.vocab), 8)
    assert table.weight[data.vocab.index[EOS]].abs().sum() > 0  # <eos> has a trained vector
