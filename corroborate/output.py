"""Writing a user's output file without harming what is already at that path.

Rules, checked by :func:`check_output` before any work starts and again by :func:`write_output`:

- an output that is one of the inputs (same file, also through a link) is refused;
- a folder is refused;
- ``-`` is standard output; anything else that exists and is not a regular file (a device such as
  ``/dev/null``, a FIFO, ``/dev/stdout``) is opened and written in place, never replaced;
- a regular file is written atomically: a temporary file beside the *resolved* target, renamed over
  it, so a symbolic link stays a link. An existing file keeps its mode; a new one gets the mode
  any new file gets here (``0o666`` less the umask), not ``mkstemp``'s 0600.

:func:`csv_safe` defuses spreadsheet formulas in CSV cells (OWASP's CSV-injection advice).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from corroborate.errors import ConfigError

STDOUT = "-"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula (starts with = + - @ tab CR)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


@dataclass(frozen=True)
class _Target:
    kind: Literal["stdout", "in_place", "atomic"]
    path: Path  # where the bytes go: the resolved file for "atomic", the path as given otherwise
    mode: int | None  # the mode an atomically written file ends with


def check_output(path: Path | str, inputs: Iterable[Path | str] = (), what: str = "output") -> None:
    """Raise a one-line :class:`ConfigError` if ``path`` cannot or must not be written (see module docstring)."""
    _target(path, inputs, what)


def write_output(
    path: Path | str,
    write: Callable[[TextIO], None],
    inputs: Iterable[Path | str] = (),
    what: str = "output",
    encoding: str = "utf-8",
    newline: str | None = "",
) -> None:
    """Call ``write`` with a text stream whose contents end up at ``path``, following the module's rules."""
    target = _target(path, inputs, what)
    if target.kind == "stdout":
        write(sys.stdout)
        sys.stdout.flush()
        return
    if target.kind == "in_place":
        try:
            with open(target.path, "w", encoding=encoding, newline=newline) as fh:
                write(fh)
        except OSError as exc:
            raise ConfigError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
        return
    _write_atomic(target, write, encoding, newline, f"{what} {path}")


def _target(path: Path | str, inputs: Iterable[Path | str], what: str) -> _Target:
    shown = str(path)
    if shown == STDOUT:
        return _Target("stdout", Path(STDOUT), None)
    if not shown.strip():
        raise ConfigError(f"{what} path is empty")
    given = Path(path)
    try:
        st: os.stat_result | None = os.stat(given)
    except FileNotFoundError:
        st = None  # a new file, or a link to a file not there yet
    except OSError as exc:
        raise ConfigError(f"cannot use {what} {shown}: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{what} {shown} is a folder; give a file name")
        for source in inputs:
            with contextlib.suppress(OSError):
                if os.path.samestat(st, os.stat(source)):
                    raise ConfigError(f"{what} {shown} is the input file {source}; choose another {what} path")
        if not stat.S_ISREG(st.st_mode):
            return _Target("in_place", given, None)
    resolved = Path(os.path.realpath(given))
    folder = resolved.parent
    if not folder.is_dir():
        raise ConfigError(f"{what} folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {what} {shown}: folder {folder} is not writable")
    if st is not None and not os.access(resolved, os.W_OK):
        raise ConfigError(f"cannot write {what} {shown}: the file is read-only")
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    return _Target("atomic", resolved, mode)


def _write_atomic(
    target: _Target, write: Callable[[TextIO], None], encoding: str, newline: str | None, shown: str
) -> None:
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.path.name}.", suffix=".tmp", dir=target.path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            write(fh)
            fh.flush()
            if target.mode is not None:
                os.fchmod(fh.fileno(), target.mode)
            os.fsync(fh.fileno())
        os.replace(tmp_name, target.path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {shown}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (os.umask is process-wide)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    old = os.umask(0o022)
    os.umask(old)
    return old
