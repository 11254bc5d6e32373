"""What the terminal shows: wordlab's own lines, and the warnings and errors of libraries.

A run's INFO lines from Lightning, ``datasets``, gensim and MLflow (device banners, tips,
progress of gensim's training), Python warnings (deprecations inside the libraries), and the
progress bars of ``datasets`` and of MLflow's downloads stay out of the terminal; the run
folder's log file (Hydra's ``<command>.log``) still gets every log line and warning.
``verbose=true`` shows everything on the terminal too.
"""

from __future__ import annotations

import logging
import os
import sys

# Loggers whose INFO lines are the libraries' chatter (their warnings and errors still show).
LIBRARIES = (
    "pytorch_lightning",
    "lightning",
    "lightning_fabric",
    "datasets",
    "gensim",
    "mlflow",
    "alembic",
    "urllib3",
    "filelock",
    "fsspec",
    "huggingface_hub",
)


class LibraryChatter(logging.Filter):
    """Drop, on the handler it is attached to, the libraries' records below WARNING and every
    Python warning (``logging.captureWarnings`` logs them as ``py.warnings``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "py.warnings":
            return False
        if record.name.split(".", 1)[0] in LIBRARIES:
            return record.levelno >= logging.WARNING
        return True


def quiet_terminal(verbose: bool = False) -> None:
    """Keep the libraries' chatter off the terminal (not out of the log file), unless
    ``verbose``. Call after Hydra has set up logging: it filters the handlers writing to the
    terminal."""
    if verbose:
        return
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    logging.captureWarnings(True)
    chatter = LibraryChatter()
    for handler in logging.getLogger().handlers:
        terminal = isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        )
        if terminal and not any(isinstance(f, LibraryChatter) for f in handler.filters):
            handler.addFilter(chatter)


def interactive() -> bool:
    """Whether standard output is a terminal (not a log file or a cluster job's output)."""
    return sys.stdout.isatty()
