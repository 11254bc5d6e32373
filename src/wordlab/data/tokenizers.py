"""Word-level tokenizers.

A tokenizer is a picklable callable ``str -> list[str]`` with a ``batch`` method that tokenizes
an Arrow column of texts into a ``list<string>`` column with the same tokens. Data preparation
tokenizes through ``batch``: the regex and whitespace tokenizers run ASCII texts through Arrow's
string kernels (RE2 in C++), so no token of those becomes a Python object, and the other texts
through Python (Arrow's Unicode tables and lowercasing differ from Python's in a few places).
On IMDB (90% ASCII reviews) this tokenizes about 1.7x faster than Python's ``re`` alone
(``experiments/bench``, B4), which was in turn about 3x faster than Hugging Face
``tokenizers``' WordLevel model for word-level splitting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A word with an optional clitic ("don't", "n't"), or any single non-space, non-word character.
WORD_PATTERN = r"\w+(?:'\w+)?|[^\w\s]"
# Python's \s on ASCII, for RE2 (whose \s lacks \v and the separators \x1c-\x1f).
_ASCII_SPACE = r"\t\n\x0b\f\r \x1c-\x1f"
TOKENS = pa.list_(pa.string())


class Tokenizer:
    """Base class: ``__call__`` tokenizes one text; ``batch`` a column of them, with ASCII texts
    going through ``ascii_batch`` (Arrow kernels) where a subclass has one."""

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def __call__(self, text: str) -> list[str]:
        raise NotImplementedError

    def ascii_batch(self, texts: pa.Array) -> pa.ListArray:
        """Tokens of ASCII-only texts, computed in Arrow."""
        raise NotImplementedError

    def batch(self, texts: pa.Array) -> pa.ListArray:
        """Tokens of every text as a ``list<string>`` array (a null text has none)."""
        texts = pc.fill_null(texts, "")
        ascii_only = pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
        if ascii_only.all():
            return self.ascii_batch(texts)
        rows = np.flatnonzero(ascii_only), np.flatnonzero(~ascii_only)
        others = [self(text) for text in texts.take(rows[1]).to_pylist()]
        tokens = pa.concat_arrays([self.ascii_batch(texts.take(rows[0])), pa.array(others, TOKENS)])
        position = np.empty(len(texts), np.int64)
        position[np.concatenate(rows)] = np.arange(len(texts))
        return tokens.take(position)

    def __getstate__(self) -> dict:
        return {"lowercase": self.lowercase}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]


def split_whitespace(texts: pa.Array) -> pa.ListArray:
    """Split on white space with no empty tokens, as Python's ``str.split()``."""
    texts = pc.utf8_trim_whitespace(texts)
    tokens = pc.utf8_split_whitespace(texts).cast(TOKENS)
    return pc.if_else(pc.equal(pc.utf8_length(texts), 0), pa.scalar([], TOKENS), tokens)


class RegexTokenizer(Tokenizer):
    """Words, each with at most one inner apostrophe ("don't", "n't"), and single punctuation
    marks: ``re.findall(WORD_PATTERN, text)``."""

    def __init__(self, lowercase: bool = True) -> None:
        super().__init__(lowercase)
        self._findall = re.compile(WORD_PATTERN).findall

    def __call__(self, text: str) -> list[str]:
        return self._findall(text.lower() if self.lowercase else text)

    def ascii_batch(self, texts: pa.Array) -> pa.ListArray:
        # Arrow has no find-all kernel, so: tabs become spaces (both are white space); marks other
        # than the apostrophe are spaced apart; an apostrophe between word characters is marked
        # with a tab (RE2 scans left to right as findall does, so "a'b'c" keeps only the first),
        # the other apostrophes are spaced apart; tabs back to apostrophes; split.
        if self.lowercase:
            texts = pc.ascii_lower(texts)
        texts = pc.replace_substring(texts, "\t", " ")
        texts = pc.replace_substring_regex(texts, rf"([^\w{_ASCII_SPACE}'])", r" \1 ")
        texts = pc.replace_substring_regex(texts, r"(\w+)'(\w+)", "\\1\t\\2")
        texts = pc.replace_substring(texts, "'", " ' ")
        return split_whitespace(pc.replace_substring(texts, "\t", "'"))


class WhitespaceTokenizer(Tokenizer):
    """Split on whitespace only, for corpora that are tokenized already (MR, SUBJ, PTB)."""

    def __call__(self, text: str) -> list[str]:
        return (text.lower() if self.lowercase else text).split()

    def ascii_batch(self, texts: pa.Array) -> pa.ListArray:
        return split_whitespace(pc.ascii_lower(texts) if self.lowercase else texts)


class SpacyTokenizer(Tokenizer):
    """spaCy's rule-based tokenizer of a language (``spacy.blank(language)``: its punctuation,
    abbreviation and contraction rules, no trained pipeline)."""

    def __init__(self, lowercase: bool = True, language: str = "en") -> None:
        try:
            import spacy
        except ImportError as error:
            raise ImportError(
                "data.tokenizer=spacy needs spaCy: pip install 'wordlab[spacy]'"
            ) from error
        super().__init__(lowercase)
        try:
            self._tokenizer = spacy.blank(language).tokenizer
        except ImportError as error:  # spaCy's answer to a code it has no rules for
            raise ValueError(
                f"data.tokenizer=spacy has no language {language!r}: expected a code spaCy knows "
                "(en, de, fr, cs, ..., or xx for rules common to all)"
            ) from error
        self.language = language

    def __call__(self, text: str) -> list[str]:
        tokens = (token.text for token in self._tokenizer(text) if not token.is_space)
        return [t.lower() for t in tokens] if self.lowercase else list(tokens)

    def batch(self, texts: pa.Array) -> pa.ListArray:
        return pa.array([self(text or "") for text in texts.to_pylist()], TOKENS)

    def __getstate__(self) -> dict:
        return {"lowercase": self.lowercase, "language": self.language}


TOKENIZERS: dict[str, Callable[..., Tokenizer]] = {
    "regex": RegexTokenizer,
    "whitespace": WhitespaceTokenizer,
    "spacy": SpacyTokenizer,
}


def make_tokenizer(name: str, lowercase: bool = True, language: str | None = None) -> Tokenizer:
    """Build the tokenizer called ``name`` (``regex``, ``whitespace`` or ``spacy``); ``language``
    chooses spaCy's rules (default English; the other two have none)."""
    if name not in TOKENIZERS:
        raise ValueError(
            f"unknown tokenizer {name!r} (option data.tokenizer); "
            f"expected one of {sorted(TOKENIZERS)}"
        )
    if name == "spacy" and language:
        return SpacyTokenizer(lowercase=lowercase, language=language)
    return TOKENIZERS[name](lowercase=lowercase)
