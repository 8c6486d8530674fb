"""One writer at a time per data folder: an advisory file lock (fcntl.flock).

Two ingests against one store/index would interleave index saves; the second waits up to
``timeout`` seconds, then fails with a clear StoreError naming the holder. Readers (``check``)
never take it: SQLite WAL and the atomically-renamed index give them a consistent snapshot.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corroborate.errors import StoreError

LOCK_NAME = "write.lock"


@contextmanager
def writer_lock(home: Path, timeout: float = 0.0, what: str = "writing") -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
