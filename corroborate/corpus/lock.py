"""One writer at a time per data folder: an advisory file lock (fcntl.flock).

Two ingests against one store/index would interleave index saves; the second waits up to
``timeout`` seconds, then fails with a clear StoreError naming the holder. Readers (``check``)
never take it: SQLite WAL and the atomically-renamed index give them a consistent snapshot.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corroborate.errors import StoreError

LOCK_NAME = "write.lock"


def make_folder(path: Path, what: str = "data folder") -> Path:
    """``path`` as an existing folder (made if missing, private to its owner: 0700), or a one-line StoreError
    saying why it cannot be. A folder that exists keeps its mode; missing parents get the usual one."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"{what} {path} is a file (or lies under one), not a folder") from None
    except OSError as exc:
        raise StoreError(f"cannot make {what} {path}: {_os_problem(exc)}") from None
    return path


def _os_problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "it is not writable"
    return exc.strerror or str(exc)


@contextmanager
def writer_lock(home: Path, timeout: float = 0.0, what: str = "writing", name: str = LOCK_NAME) -> Iterator[None]:
    """Hold ``home``'s lock file ``name`` (the writer lock unless named otherwise) for the ``with`` block."""
    make_folder(home)
    path = home / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot write to data folder {home} ({exc.strerror or exc}); {what} needs to") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
                    raise StoreError(
                        f"another corroborate process (pid {holder}) is writing to {home}; wait for it to finish"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {what}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
