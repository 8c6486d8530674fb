"""SIGINT and SIGTERM end a command cleanly: one line on stderr, no traceback, the run row ended.

Two ways, chosen per command:

- :func:`exiting` (``check``, ``article``, ``stance``, ``import``): SIGINT and SIGTERM raise
  :class:`Interrupted` in the main thread, so every ``finally`` runs (an import's run row ends
  ``interrupted``, an output file is never half-written) and ``main`` prints one line and exits
  128 + the signal's number (130 for SIGINT, 143 for SIGTERM). It is a ``BaseException`` but not a
  ``KeyboardInterrupt``: click would turn that into "Aborted!" after a blank line.
- :func:`graceful` (``ingest``): the first signal only asks the run to stop (:func:`stop_requested`).
  Discovery and fetching stop within a second or two (:func:`until_stopped` cancels what is in flight),
  what was already fetched and extracted is stored, and the run is marked ``interrupted`` with the
  signal as its reason. A second signal stops at once (:class:`Interrupted`).

Handlers can only be set in the main thread; elsewhere both context managers do nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Awaitable, Iterator
from types import FrameType
from typing import TypeVar

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_S = 0.2  # how often in-flight work looks whether a stop was asked for

_stop = threading.Event()
_signals: list[int] = []  # the signals received during the current graceful block, in order
_depth = 0


class Interrupted(BaseException):
    """A command was stopped by a signal: Ctrl-C (SIGINT) or SIGTERM."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(f"interrupted by {signal_name(self.signum)}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_code(exc: BaseException) -> int:
    """The shell's code for a command ended by ``exc`` (a plain KeyboardInterrupt is Ctrl-C: 130)."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def stop_requested() -> bool:
    """Whether a signal asked the current graceful block to stop."""
    return _stop.is_set()


def stop_reason() -> str:
    """``"interrupted by SIGTERM"`` (the first signal received), or "" when none was."""
    return f"interrupted by {signal_name(_signals[0])}" if _signals else ""


def stop_signal() -> int | None:
    return _signals[0] if _signals else None


def request_stop(signum: int = signal.SIGTERM) -> None:
    """What the first signal does in a graceful block (tests call it directly)."""
    _signals.append(int(signum))
    _stop.set()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _ask(signum: int, _frame: FrameType | None) -> None:
    if _stop.is_set():
        raise Interrupted(signum)  # the second signal: stop now
    request_stop(signum)


@contextlib.contextmanager
def _handlers(handler: signal.Handlers | object) -> Iterator[None]:
    if not _main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, handler)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for s, old in saved.items():
            signal.signal(s, old)


@contextlib.contextmanager
def exiting() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread for the ``with`` block."""
    with _handlers(_raise):
        yield


@contextlib.contextmanager
def graceful() -> Iterator[None]:
    """The first SIGINT or SIGTERM asks the work to stop (:func:`stop_requested`); a second raises.

    Blocks nest (the CLI's around the Prefect flow's, which must set them again: Prefect replaces the
    SIGTERM handler while a flow runs); the stop request is cleared when the outermost block starts and
    when it ends, so read :func:`stop_reason` inside it.
    """
    global _depth
    if _depth == 0:
        _stop.clear()
        _signals.clear()
    _depth += 1
    try:
        with _handlers(_ask):
            yield
    finally:
        _depth -= 1
        if _depth == 0:
            _stop.clear()
            _signals.clear()


def graceful_if_active() -> contextlib.AbstractContextManager[None]:
    """:func:`graceful` again when a caller in this process opened one (the CLI's ``ingest``), else nothing:
    a flow run that ``serve`` started keeps Prefect's own handling of SIGTERM (cancellation)."""
    return graceful() if _depth > 0 else contextlib.nullcontext()


async def until_stopped(work: Awaitable[T]) -> T | None:
    """``await work``, or cancel it and return None within :data:`POLL_S` of a stop request."""
    import asyncio  # here: the CLI imports this module at start, and asyncio is not needed to start

    task = asyncio.ensure_future(work)
    while True:
        if _stop.is_set():
            task.cancel()
            try:
                return await task  # done already: its result
            except asyncio.CancelledError:  # a cancelled gather ends with this as its exception, not cancelled()
                return None
        done, _ = await asyncio.wait({task}, timeout=POLL_S)
        if done:
            return task.result()
