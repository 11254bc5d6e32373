"""Load a corpus as a ``DatasetDict``, tokenize, build the vocabulary, batch."""

from wordlab.data.datamodule import TextDataModule
from wordlab.data.errors import DataError
from wordlab.data.tokenizers import make_tokenizer
from wordlab.data.vocab import Vocabulary

__all__ = ["DataError", "TextDataModule", "Vocabulary", "make_tokenizer"]
