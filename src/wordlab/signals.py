"""Stopping from outside: Ctrl-C and SIGTERM close the run in MLflow as KILLED, saying which.

By default SIGTERM (``kill``, ``scancel``, a scheduler's time limit) ends Python at once: no
``except``, ``finally`` or at-exit hook runs, so the run and its sweep's parent stay RUNNING in
MLflow. The command-line entry points run under ``run_until_stopped``: SIGTERM then stops the
process as Ctrl-C does, the run is closed as KILLED with the signal named
(``RunRecorder.fail``), a sweep's parent too (``sweeps._close_if_open``), and the exit status is
128 + the signal's number, as a shell reports a process killed by it.

While a Lightning ``Trainer`` runs, SIGTERM is left to Lightning, which stops at the next step
(``SIGTERMException``) rather than wherever the signal lands, e.g. inside an MLflow write to a
SQLite store, whose lock an exception there can leave held.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

# The signal that stopped this process, once one has.
received: str | None = None


def run_until_stopped(entry: Callable[[], object]) -> None:
    """Run a command-line entry point; a stop by SIGINT or SIGTERM exits 128 + its number."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    try:
        entry()
    except BaseException as error:
        name = stopped_by(error)
        if name is None:
            raise
        log.error("stopped by %s", name)
        raise SystemExit(128 + signal.Signals[name]) from None


def _stop(signum: int, frame: FrameType | None) -> None:
    global received
    received = signal.Signals(signum).name
    if signum == signal.SIGTERM and signal.getsignal(signal.SIGTERM) is not _stop:
        return  # a Trainer's handler called this one after its own; it stops at the next step
    raise KeyboardInterrupt(received)


def stopped_by(error: BaseException | None) -> str | None:
    """The signal behind an error if it is a stop from outside, not a failure; else None.

    Lightning turns a ``KeyboardInterrupt`` in ``fit`` into ``sys.exit(1)`` (the interrupt stays
    in the exception's context) and SIGTERM into its ``SIGTERMException``.
    """
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return str(error) or "SIGINT"
        if type(error).__name__ == "SIGTERMException":
            return "SIGTERM"
        error = error.__context__
    return None
