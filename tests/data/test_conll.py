import gzip
from pathlib import Path

import pytest

from wordlab.data.conll import read_conll
from wordlab.data.corpus import load_raw
from wordlab.data.errors import DataError

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER


"""


def test_sentences_become_rows_of_token_and_tag_lists(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text(CONLL)
    rows = read_conll(path).to_list()
    assert rows == [
        {
            "tokens": ["EU", "rejects", "German", "call"],
            "pos_tags": ["NNP", "VBZ", "JJ", "NN"],
            "chunk_tags": ["B-NP", "B-VP", "B-NP", "I-NP"],
            "ner_tags": ["B-ORG", "O", "B-MISC", "O"],
        },
        {
            "tokens": ["Peter", "Blackburn"],
            "pos_tags": ["NNP", "NNP"],
            "chunk_tags": ["B-NP", "I-NP"],
            "ner_tags": ["B-PER", "I-PER"],
        },
    ]
    two = tmp_path / "two.conll"
    two.write_text("Peter B-PER\nBlackburn I-PER\n")
    assert read_conll(two).to_list() == [
        {"tokens": ["Peter", "Blackburn"], "tags": ["B-PER", "I-PER"]}
    ]


def test_a_folder_of_conll_files_loads_like_any_corpus(tmp_path: Path) -> None:
    (tmp_path / "train.conll").write_text(CONLL)
    with gzip.open(tmp_path / "test.conll.gz", "wt") as handle:
        handle.write(CONLL)
    splits = load_raw(str(tmp_path))
    assert sorted(splits) == ["test", "train"]
    assert splits["test"][1]["ner_tags"] == ["B-PER", "I-PER"]


def test_a_line_with_other_columns_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ O\n")
    with pytest.raises(DataError, match=f"{path}: line 2 has 3 columns, expected 4"):
        read_conll(path)
    path.write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(DataError, match="no sentences"):
        read_conll(path)
