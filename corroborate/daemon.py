"""The background warm checker that ``check`` and ``article`` start on first use.

Without ``corroborate serve`` every check loaded the models again (about 11 s). Now the first ``check`` or
``article`` of a data folder that finds no checker service answering starts one in the background
(``python -m corroborate.daemon``: the :class:`~corroborate.service.CheckerService` of ``serve``, without
Prefect) and asks it; later checks find it and take about a second. It is the same service: a socket
only its user may connect to, a key only its user may read, the same settings as the command that
started it (they are handed over on its standard input, pickled, by the process that spawned it).

It exits after ``checker_idle_minutes`` (default 15) without a request, when its socket or key file is
removed (the data folder was deleted), on SIGTERM or SIGINT. ``checker_daemon = false`` (or
``CORROBORATE_CHECKER_DAEMON=0``) and ``--no-daemon`` turn it off: the command then checks in its own
process, as before. Its log is ``checker.log`` in the data folder (0600).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from corroborate.settings import Settings

if TYPE_CHECKING:
    from corroborate.service import ServiceClient

LOG_NAME = "checker.log"
START_LOCK = "checker.start.lock"  # one start at a time per data folder
START_TIMEOUT_S = 60.0  # until the new service answers a ping (its imports; the models load after)
WATCH_S = 1.0  # how often the service looks at its idle time and its files
LOG_LIMIT_BYTES = 1_000_000  # a longer log is started afresh by the next start

Log = Callable[[str], None]


def warm_client(settings: Settings, log: Log | None = None) -> ServiceClient | None:
    """A client of a checker service for ``settings.home`` that checks as ``settings`` would: one that answers,
    else (``checker_daemon`` on) a background one started now; None when neither is to be had, and the caller
    checks in its own process. ``log`` hears why, for ``--debug``."""
    from corroborate.service import connect_service

    client = connect_service(settings, log=log)
    if client is not None or not settings.checker_daemon:
        return client
    if _other_settings_answer(settings):
        return None  # a service with other settings serves this folder (serve, or another user's flags): leave it
    from corroborate.corpus.lock import writer_lock
    from corroborate.errors import CorroborateError

    try:
        with writer_lock(settings.home, timeout=START_TIMEOUT_S, what="checker start", name=START_LOCK):
            client = connect_service(settings, log=log)  # started by another command while this one waited
            if client is not None:
                return client
            return _start(settings, log)
    except (CorroborateError, OSError) as exc:  # a read-only data folder, a full disk: check in this process
        if log:
            log(f"could not start the background checker: {exc}")
        return None


def _other_settings_answer(settings: Settings) -> bool:
    from corroborate.service import ServiceClient, ServiceUnavailable, _published

    published = _published(settings)
    if published is None:
        return False
    try:
        ServiceClient(published[0], published[1]).ping()
    except ServiceUnavailable:
        return False
    return True  # it answers, and connect_service did not take it: its settings differ


def _start(settings: Settings, log: Log | None) -> ServiceClient | None:
    from corroborate.service import connect_service

    path = settings.home / LOG_NAME
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_LIMIT_BYTES:
            path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "corroborate.daemon"], stdin=subprocess.PIPE, stdout=fd, stderr=fd,
            start_new_session=True,  # a Ctrl-C meant for the command must not stop the checker it leaves behind
            close_fds=True, cwd=str(settings.home),
        )
    finally:
        os.close(fd)
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(pickle.dumps(settings))
        proc.stdin.close()
    if log:
        log(f"started a background checker for {settings.home} (pid {proc.pid}; exits after "
            f"{settings.checker_idle_minutes:g} idle minutes; log {path})")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        client = connect_service(settings, log=log)
        if client is not None:
            return client
        if proc.poll() is not None:
            if log:
                log(f"the background checker exited with {proc.returncode}; see {path}")
            return None
        time.sleep(0.05)
    if log:
        log(f"the background checker did not answer within {START_TIMEOUT_S:g} s; checking in this process")
    return None


def serve_until_idle(settings: Settings, log: Log) -> int:
    """Run a checker service for ``settings.home`` until it has been idle ``checker_idle_minutes``, its files
    are gone, or a signal ends it; 0, or 1 when another service already answers for the folder."""
    from corroborate.errors import ConfigError
    from corroborate.service import CheckerService

    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    service = CheckerService(settings, log=log)
    try:
        service.start()
    except ConfigError as exc:
        log(f"not started: {exc}")
        return 1
    idle = settings.checker_idle_minutes * 60
    log(f"background checker pid {os.getpid()} at {service.address} for {settings.home}; exits after "
        f"{settings.checker_idle_minutes:g} idle minutes")
    try:
        while not stopping:
            time.sleep(WATCH_S)
            if service.idle_s > idle:
                log(f"idle for {settings.checker_idle_minutes:g} minutes; exiting")
                break
            if not service.still_published():
                log("its socket or key file is gone (the data folder was removed or another service took over); "
                    "exiting")
                break
        if stopping:
            log(f"{signal.Signals(stopping[0]).name}; exiting")
    finally:
        service.close()
    return 0


def main() -> int:
    settings = pickle.loads(sys.stdin.buffer.read())  # from the corroborate process that started this one
    if not isinstance(settings, Settings):
        print("corroborate.daemon: expected pickled Settings on standard input", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}", file=sys.stderr, flush=True)

    return serve_until_idle(settings, log)


if __name__ == "__main__":
    sys.exit(main())

