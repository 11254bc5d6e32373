"""The terminal shows wordlab's lines and the libraries' warnings; their chatter goes to the log."""

import logging

from wordlab.console import LibraryChatter


def record(name: str, level: int) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, "message", None, None)


def test_library_info_lines_and_python_warnings_stay_off_the_terminal() -> None:
    chatter = LibraryChatter()
    assert not chatter.filter(record("pytorch_lightning.utilities.rank_zero", logging.INFO))
    assert not chatter.filter(record("gensim.models.word2vec", logging.INFO))
    assert not chatter.filter(record("py.warnings", logging.WARNING))
    assert chatter.filter(record("pytorch_lightning.trainer", logging.WARNING))
    assert chatter.filter(record("wordlab.train", logging.INFO))
    assert chatter.filter(record("datasets_extra", logging.INFO))  # not the datasets package
