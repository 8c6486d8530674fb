"""Which files may become code: a pickled model is loaded only from a file this user controls.

Unpickling runs whatever the file says, so a model file named by the user must be a regular file owned
by the user running corroborate and writable by nobody else (a group- or world-writable file could have
been swapped). The check is made on the open file, so the file that is checked is the file that is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from corroborate.errors import ModelError


def open_own_file(path: Path, what: str) -> BinaryIO:
    """``path`` opened for reading, or a one-line :class:`ModelError` if another user could have written it.

    A missing file raises :class:`FileNotFoundError`, as ``open`` does.
    """
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{what} {path} is not a regular file")
        if st.st_uid != os.getuid():
            raise ModelError(
                f"{what} {path} belongs to another user (uid {st.st_uid}); not loading it, as loading runs its code"
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ModelError(
                f"{what} {path} is writable by group or others; not loading it (run: chmod go-w {path})"
            )
    except BaseException:
        fh.close()
        raise
    return fh
