"""A warm :class:`Checker` that other processes of the same user can ask to check claims and articles.

``corroborate serve`` runs each flow run in a new process, so a checker cached per process would
load the models on every run. :class:`CheckerService` keeps one checker in the serving process and
answers over a Unix socket in the data folder; the check flows use it when it answers
(:func:`connect_service`) and check in their own process when it does not.

Files in the data folder, removed again by :meth:`CheckerService.close`:

- ``checker.sock``: the socket (in a short temporary folder, named in ``checker.addr``, when the
  data folder's path is too long for a Unix socket address);
- ``checker.key``: 32 random bytes, readable by the owner only.

Both ends prove they know the key (the HMAC handshake of :mod:`multiprocessing.connection`) before
anything is unpickled, and a client trusts only a key file owned by its user and private to it, so
another user can neither ask the service nor pose as it. Requests open one connection each and are
answered one at a time; a :class:`~corroborate.errors.CorroborateError` raised by the check is raised
again in the client with its class and message. A client that asks for progress (``check --file``,
``article``) gets ``("progress", done, total)`` messages after each batch of claims, before the
reply. A service that does not answer (killed, stopped, never started) raises
:class:`ServiceUnavailable`, and the caller checks in its own process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from corroborate import errors
from corroborate.check.checker import Article, ArticleReport, Checker, ClaimResult, Progress
from corroborate.corpus.backend import open_store
from corroborate.corpus.lock import make_folder
from corroborate.errors import ConfigError, CorroborateError
from corroborate.settings import Settings

SOCKET_NAME = "checker.sock"
ADDRESS_NAME = "checker.addr"
KEY_NAME = "checker.key"
KEY_BYTES = 32
MAX_SOCKET_PATH = 100  # bytes; sun_path holds 108 on Linux, 104 on macOS, NUL included
CONNECT_TIMEOUT_S = 1.0  # connect + handshake; the service answers both at once, even while it checks
PEER_TIMEOUT_S = 10.0  # how long the service waits for a peer's handshake and request
REPLY_TIMEOUT_S = 60.0  # how long the service waits for a peer to read its reply
ACCEPT_POLL_S = 0.25  # how often the accept loop looks whether close() was called

_LIBRARY_ERRORS: dict[str, type[CorroborateError]] = {
    name: obj for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, CorroborateError)
}

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


class ServiceUnavailable(ConnectionError):
    """The checker service did not answer (gone, stopped, another key): check in this process instead."""


class WarmChecker:
    """One data folder's :class:`Checker`, reopened when an ingest has moved the store on since it was opened.

    The embedder is cached per process (``load_embedder``), so a reopen reads the new index and the
    store but does not load the embedding model again.
    """

    def __init__(self, settings: Settings, log: Log | None = None) -> None:
        self.settings = settings
        self.loads = 0  # Checkers opened: the first, then one per ingest seen
        self._log = log or _stderr
        self._lock = threading.Lock()
        self._checker: Checker | None = None
        self._generation = -1

    def get(self) -> Checker:
        with open_store(self.settings) as store:
            generation = store.generation()
        with self._lock:
            if self._checker is not None and self._generation == generation:
                return self._checker
            if self._checker is not None:
                self._checker.close()
                self._checker = None
            self._checker = Checker.open(self.settings, log=self._log)
            self._generation = generation
            self.loads += 1
            return self._checker

    def close(self) -> None:
        with self._lock:
            if self._checker is not None:
                self._checker.close()
                self._checker = None


# -- addresses and key files ---------------------------------------------------------------------


def _direct_socket(settings: Settings) -> Path | None:
    """``checker.sock`` in the data folder, or None when that path is too long for a Unix socket."""
    path = settings.home.resolve() / SOCKET_NAME
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def _read_private(path: Path, limit: int) -> bytes | None:
    """A regular file owned by this user and private to it, or None (missing, a link, someone else's)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        return f.read(limit + 1)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only this user can read (a stale file is replaced)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _is_own_socket(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid()


def _published(settings: Settings) -> tuple[Path, bytes] | None:
    """The socket and key a service of this data folder published, if both look like this user's."""
    home = settings.home.resolve()
    address = _direct_socket(settings)
    if address is None:
        raw = _read_private(home / ADDRESS_NAME, 4096)
        if raw is None:
            return None
        address = Path(os.fsdecode(raw.strip()))
    key = _read_private(home / KEY_NAME, KEY_BYTES)
    if key is None or len(key) != KEY_BYTES or not _is_own_socket(address):
        return None
    return address, key


def _set_timeouts(sock: socket.socket, seconds: float | None) -> None:
    """Kernel send/receive timeouts (None: wait forever); the socket stays blocking, as Connection needs."""
    whole = int(seconds or 0)
    timeval = struct.pack("ll", whole, int(((seconds or 0) - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _set_connection_timeouts(conn: Connection[Any, Any], seconds: float | None) -> None:
    with socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as dup:  # same socket, own fd
        dup.setblocking(True)
        _set_timeouts(dup, seconds)


# -- the client ----------------------------------------------------------------------------------


class ServiceClient:
    """Ask a running :class:`CheckerService`; every call opens its own connection."""

    def __init__(self, address: Path | str, authkey: bytes, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> None:
        self.address = str(address)
        self.connect_timeout = connect_timeout
        self._authkey = authkey

    def ping(self) -> Settings:
        """The service's settings; raises :class:`ServiceUnavailable` unless it answers within the timeout."""
        reply = self._call(("ping",), self.connect_timeout)
        if not isinstance(reply, Settings):
            raise ServiceUnavailable(f"the checker service at {self.address} sent a malformed reply")
        return reply

    def check_claim(self, text: str) -> ClaimResult:
        result = self._call(("claim", text), None)
        if not isinstance(result, ClaimResult):
            raise ServiceUnavailable(f"the checker service at {self.address} sent a malformed reply")
        return result

    def check_claims(self, texts: Sequence[str], progress: Progress | None = None) -> list[ClaimResult]:
        """Several claims judged together (as :meth:`Checker.check_claims`); ``progress`` hears after each batch."""
        result = self._call(("claims", list(texts)), None, progress)
        if not (isinstance(result, list) and all(isinstance(r, ClaimResult) for r in result)):
            raise ServiceUnavailable(f"the checker service at {self.address} sent a malformed reply")
        return result

    def check_article(self, article: Article, progress: Progress | None = None) -> ArticleReport:
        result = self._call(("article", article), None, progress)
        if not isinstance(result, ArticleReport):
            raise ServiceUnavailable(f"the checker service at {self.address} sent a malformed reply")
        return result

    def _connect(self) -> Connection[Any, Any]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(True)
            _set_timeouts(sock, self.connect_timeout)  # a stopped service must not hang the handshake
            sock.connect(self.address)
        except BaseException:
            sock.close()
            raise
        conn: Connection[Any, Any] = Connection(sock.detach())
        try:
            answer_challenge(conn, self._authkey)  # we know the key...
            deliver_challenge(conn, self._authkey)  # ...and so must the service, before we unpickle its reply
        except BaseException:
            conn.close()
            raise
        return conn

    def _call(self, request: tuple[Any, ...], timeout: float | None, progress: Progress | None = None) -> Any:
        """Send ``request``; wait ``timeout`` seconds for the reply (None: as long as the check takes)."""
        if progress is not None:
            request = (*request, {"progress": True})
        try:
            with contextlib.closing(self._connect()) as conn:
                conn.send(request)
                _set_connection_timeouts(conn, timeout)
                reply = conn.recv()
                while progress is not None and isinstance(reply, tuple) and len(reply) == 3 and reply[0] == "progress":
                    progress(int(reply[1]), int(reply[2]))
                    reply = conn.recv()
        except (OSError, EOFError, AuthenticationError, pickle.UnpicklingError) as exc:
            raise ServiceUnavailable(
                f"the checker service at {self.address} did not answer: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(reply, tuple) and len(reply) == 2 and reply[0] == "ok":
            return reply[1]
        if isinstance(reply, tuple) and len(reply) == 3 and reply[0] == "error":
            _, name, message = reply
            error = _LIBRARY_ERRORS.get(str(name))
            if error is not None:
                raise error(str(message))
            raise RuntimeError(f"the checker service failed: {name}: {message}")
        raise ServiceUnavailable(f"the checker service at {self.address} sent a malformed reply")


def connect_service(
    settings: Settings, timeout: float = CONNECT_TIMEOUT_S, log: Log | None = None
) -> ServiceClient | None:
    """A client of the service for ``settings.home`` if one answers within ``timeout`` seconds, else None.

    A service running with other settings is not used (its verdicts would follow its settings, not
    these); ``log`` hears why. ``debug`` and the spelling of ``home`` do not count: the service was
    found in this data folder, and tracebacks do not change a verdict.
    """
    published = _published(settings)
    if published is None:
        return None
    client = ServiceClient(published[0], published[1], connect_timeout=timeout)
    try:
        theirs = client.ping()
    except ServiceUnavailable:
        return None  # the files of a service that was killed, or one that is stopped
    if not same_verdicts(theirs, settings):
        if log:
            log(f"the checker service at {client.address} runs with other settings; not using it")
        return None
    return client


def same_verdicts(theirs: Settings, ours: Settings) -> bool:
    """Whether a service running with ``theirs`` checks as ``ours`` would: every setting but those that do not
    change a verdict (tracebacks, the spelling of the data folder, the background checker's own switches)."""
    keep = {"debug": ours.debug, "home": ours.home, "checker_daemon": ours.checker_daemon,
            "checker_idle_minutes": ours.checker_idle_minutes}
    return theirs.replace(**keep) == ours


T = TypeVar("T")


def warm_or_here(
    settings: Settings,
    work: Callable[[ServiceClient | Checker], T],
    log: Log | None = None,
    here: Callable[[], contextlib.AbstractContextManager[Checker]] | None = None,
) -> T:
    """``work`` done by the warm checker of `corroborate serve` for this data folder when one answers
    (no models to load: ~0.3 s instead of ~11 s), else by a Checker of this process.

    The one "warm service or load here" decision, for the CLI and the flows. ``here`` gives this
    process's Checker (the flows keep one per process); by default one is opened for this call and
    closed after. A service that goes away mid-check leaves the work to this process. ``log`` hears
    which way it went.
    """
    service = connect_service(settings, log=log)
    if service is not None:
        if log:
            log(f"using the warm checker service at {service.address}")
        try:
            return work(service)
        except ServiceUnavailable as exc:  # it went away mid-check: check here instead
            if log:
                log(f"{exc}; checking in this process")
    elif log:
        log(f"no checker service answers for {settings.home}; loading the models in this process")
    with (here or (lambda: contextlib.closing(Checker.open(settings, log=log or _stderr))))() as checker:
        return work(checker)


# -- the service ---------------------------------------------------------------------------------


class CheckerService:
    """Keep one :class:`WarmChecker` for ``settings.home`` and answer other processes' checks.

    ``start()`` listens at once and, with ``preload``, loads the models in the background; requests
    that arrive meanwhile wait for them. Pings are answered at once, even while a check runs.
    """

    def __init__(self, settings: Settings, *, log: Log | None = None, preload: bool = True) -> None:
        self.settings = settings
        self._log = log or _stderr
        self._preload = preload
        self._warm = WarmChecker(settings, self._log)
        self._lock = threading.Lock()  # one check at a time: the checker is not safe for concurrent use
        self._stopping = threading.Event()
        self._closed = False
        self._authkey = b""
        self._socket_path: Path | None = None
        self._socket_inode = 0
        self._temp_dir: Path | None = None
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._last_active = time.monotonic()  # the start, and the start and end of each request
        self._active = 0  # requests being answered now
        self._activity = threading.Lock()

    @property
    def address(self) -> Path:
        if self._socket_path is None:
            raise RuntimeError("the checker service has not been started")
        return self._socket_path

    @property
    def loads(self) -> int:
        """How many times a Checker was opened (models loaded once; one reopen per ingest seen)."""
        return self._warm.loads

    def __enter__(self) -> CheckerService:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> CheckerService:
        """Listen; a :class:`ConfigError` if another service already answers for this data folder."""
        if self._listener is not None or self._closed:
            raise RuntimeError("a checker service starts once")
        home = self.settings.home.resolve()
        make_folder(home)
        other = _published(self.settings)
        if other is not None:
            with contextlib.suppress(ServiceUnavailable):
                ServiceClient(other[0], other[1]).ping()
                raise ConfigError(f"a checker service already answers for {home} at {other[0]}")
            self._remove_stale(other[0])
        path = _direct_socket(self.settings)
        if path is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="corroborate-"))  # mode 0700
            path = self._temp_dir / SOCKET_NAME
            if len(os.fsencode(path)) > MAX_SOCKET_PATH:
                raise ConfigError(f"no short enough path for the checker socket (tried {path}); set TMPDIR=/tmp")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a killed service's socket: nothing answered on it above
        self._authkey = secrets.token_bytes(KEY_BYTES)
        _write_private(home / KEY_NAME, self._authkey)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            os.chmod(path, 0o600)  # only this user may even connect; the key guards the rest
            listener.listen(16)
            listener.settimeout(ACCEPT_POLL_S)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._socket_path = path
        self._socket_inode = os.lstat(path).st_ino
        if self._temp_dir is not None:
            _write_private(home / ADDRESS_NAME, os.fsencode(path))
        else:
            with contextlib.suppress(FileNotFoundError):
                (home / ADDRESS_NAME).unlink()
        self._spawn(self._accept_loop, "checker-service")
        if self._preload:
            self._spawn(self._load, "checker-service-load")
        return self

    def close(self) -> None:
        """Stop listening, remove the socket and key files, close the checker (after a check in progress)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        if self._listener is not None:
            self._listener.close()
        home = self.settings.home.resolve()
        if self._socket_path is not None:
            with contextlib.suppress(OSError):
                if os.lstat(self._socket_path).st_ino == self._socket_inode:
                    self._socket_path.unlink()
        if self._authkey and _read_private(home / KEY_NAME, KEY_BYTES) == self._authkey:
            (home / KEY_NAME).unlink()
        if self._temp_dir is not None:
            with contextlib.suppress(OSError):
                if _read_private(home / ADDRESS_NAME, 4096) == os.fsencode(self.address):
                    (home / ADDRESS_NAME).unlink()
            with contextlib.suppress(OSError):
                self._temp_dir.rmdir()
        with self._lock:
            self._closed = True
            self._warm.close()

    # ---

    def _remove_stale(self, address: Path) -> None:
        """A killed service's files: its socket (and its temporary folder), the address and key files."""
        home = self.settings.home.resolve()
        with contextlib.suppress(OSError):
            address.unlink()
        if address.parent != home and address.parent.name.startswith("corroborate-"):
            with contextlib.suppress(OSError):
                address.parent.rmdir()
        for name in (ADDRESS_NAME, KEY_NAME):
            with contextlib.suppress(FileNotFoundError):
                (home / name).unlink()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _load(self) -> None:
        with self._lock:
            if self._closed or self._stopping.is_set():
                return
            try:
                self._warm.get()
                self._log(f"checker service at {self.address}: models loaded")
            except CorroborateError as exc:  # the next request tries again and gets the error itself
                self._log(f"checker service: could not load the checker: {exc}")

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    self._log(f"checker service: accept failed: {exc}")
                continue
            # its own thread: a peer slow to authenticate must not hold up the others (or a ping)
            threading.Thread(target=self._serve_one, args=(sock,), name="checker-service-request",
                             daemon=True).start()

    @property
    def idle_s(self) -> float:
        """Seconds since the last request ended (or the service started); 0 while one is answered."""
        return 0.0 if self._active else time.monotonic() - self._last_active

    def still_published(self) -> bool:
        """Whether this service's socket and key are still where clients look (a removed data folder, or
        another service that replaced them, means nobody can reach this one)."""
        home = self.settings.home
        with contextlib.suppress(OSError):
            return (self._socket_path is not None and os.lstat(self._socket_path).st_ino == self._socket_inode
                    and _read_private(home / KEY_NAME, KEY_BYTES) == self._authkey)
        return False

    def _serve_one(self, sock: socket.socket) -> None:
        with self._activity:
            self._active += 1
            self._last_active = time.monotonic()
        try:
            sock.setblocking(True)
            _set_timeouts(sock, PEER_TIMEOUT_S)
            with contextlib.closing(Connection(sock.detach())) as conn:
                deliver_challenge(conn, self._authkey)  # nothing is unpickled before the peer proves the key
                answer_challenge(conn, self._authkey)
                request = conn.recv()
                _set_connection_timeouts(conn, REPLY_TIMEOUT_S)

                def tell(done: int, total: int) -> None:
                    conn.send(("progress", done, total))

                reply = self._answer(request, tell)
                if reply is not None:
                    conn.send(reply)
        except AuthenticationError:
            self._log("checker service: refused a connection that did not know the key")
        except (OSError, EOFError) as exc:
            self._log(f"checker service: a client went away: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - e.g. a request that does not unpickle here; keep serving
            self._log(f"checker service: a request failed: {type(exc).__name__}: {exc}")
        finally:
            sock.close()
            with self._activity:
                self._last_active = time.monotonic()
                self._active -= 1

    def _answer(self, request: object, tell: Progress | None = None) -> tuple[Any, ...] | None:
        """The reply to ``request``; None (no reply: the client checks itself) once the service is closing.

        ``(kind, arg)`` or ``(kind, arg, {"progress": True})``: then ``tell`` hears after each batch.
        """
        if request == ("ping",):
            return ("ok", self.settings)
        if not (isinstance(request, tuple) and len(request) in (2, 3)):
            return ("error", "ConfigError", "the checker service got a malformed request")
        kind, arg = request[0], request[1]
        options = request[2] if len(request) == 3 and isinstance(request[2], dict) else {}
        progress = tell if options.get("progress") else None
        with self._lock:
            if self._closed or self._stopping.is_set():
                return None
            try:
                if kind == "claim" and isinstance(arg, str):
                    return ("ok", self._warm.get().check_claim(arg))
                if kind == "claims" and isinstance(arg, list) and all(isinstance(t, str) for t in arg):
                    return ("ok", self._warm.get().check_claims(arg, progress))
                if kind == "article" and isinstance(arg, Article):
                    return ("ok", self._warm.get().check_article(arg, progress))
            except CorroborateError as exc:
                return ("error", type(exc).__name__, str(exc))
            except Exception as exc:  # noqa: BLE001 - one failed check must not stop the service
                self._log(f"checker service: the {kind} check failed: {type(exc).__name__}: {exc}")
                return ("error", type(exc).__name__, str(exc))
        return ("error", "ConfigError", f"the checker service cannot answer a {kind!r} request")


__all__ = ["CheckerService", "ServiceClient", "ServiceUnavailable", "WarmChecker", "connect_service", "warm_or_here"]
