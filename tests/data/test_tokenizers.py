import pickle

import pytest

from wordlab.data.tokenizers import make_tokenizer


def test_regex_keeps_clitics_and_splits_punctuation() -> None:
    tokenize = make_tokenizer("regex")
    assert tokenize("Don't stop, it's GREAT!") == ["don't", "stop", ",", "it's", "great", "!"]
    assert tokenize("does n't work") == ["does", "n't", "work"]


def test_lowercase_off_keeps_case() -> None:
    assert make_tokenizer("regex", lowercase=False)("Who is Bob?") == ["Who", "is", "Bob", "?"]


def test_whitespace() -> None:
    assert make_tokenizer("whitespace")("A  b\tC") == ["a", "b", "c"]


def test_spacy_blank_english() -> None:
    pytest.importorskip("spacy")
    tokenize = make_tokenizer("spacy")
    assert tokenize("Don't  stop.") == ["do", "n't", "stop", "."]


@pytest.mark.parametrize("name", ["regex", "whitespace"])
def test_tokenizers_pickle(name: str) -> None:
    tokenize = make_tokenizer(name)
    assert pickle.loads(pickle.dumps(tokenize))("A b.") == tokenize("A b.")


def test_unknown_tokenizer_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"data.tokenizer.*regex"):
        make_tokenizer("bpe")
