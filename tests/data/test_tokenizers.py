import pickle

import pyarrow as pa
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


# Every ASCII character between, before and after words and apostrophes, and texts that are not
# ASCII (which batch hands to Python): batch must give the tokens that one call per text gives.
TRICKY = [
    template.format(c=chr(code))
    for code in range(128)
    for template in ("a{c}b", "{c}", "x'{c}", "{c}'y", " {c}{c} ", "{c}'{c}")
] + [
    "Don't stop, it's GREAT!",
    "rock'n'roll 'quoted' o'clock''s",
    "",
    " \t\n ",
    "naïve café, ΣΑΣ İstanbul",
    "non\u00a0breaking\u2003spaces",
    "a_b 3.14 x''y",
]


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("name", ["regex", "whitespace"])
def test_batch_gives_the_tokens_of_one_call_per_text(name: str, lowercase: bool) -> None:
    tokenize = make_tokenizer(name, lowercase)
    tokens = tokenize.batch(pa.array(TRICKY))
    assert tokens.type == pa.list_(pa.string())
    assert tokens.to_pylist() == [tokenize(text) for text in TRICKY]


def test_batch_of_ascii_texts_only_and_nulls() -> None:
    tokenize = make_tokenizer("regex")
    tokens = tokenize.batch(pa.array(["It's 'ok'.", None, "  "]))
    assert tokens.to_pylist() == [["it's", "'", "ok", "'", "."], [], []]


@pytest.mark.parametrize("name", ["regex", "whitespace"])
def test_tokenizers_pickle(name: str) -> None:
    tokenize = make_tokenizer(name)
    assert pickle.loads(pickle.dumps(tokenize))("A b.") == tokenize("A b.")


def test_unknown_tokenizer_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"data.tokenizer.*regex"):
        make_tokenizer("bpe")
