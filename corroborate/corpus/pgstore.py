"""The PostgreSQL store: the SQLite :class:`~corroborate.corpus.store.Store`'s interface on a database
that several ingest workers and checkers, on several hosts, share.

Chosen by the ``store_url`` setting (:func:`corroborate.corpus.backend.open_store`). What differs from
the SQLite store, and why:

- **Many writers.** No file lock: each method is one transaction (READ COMMITTED). The dedup keys are
  unique constraints written with ``INSERT … ON CONFLICT``: ``documents.url``, ``document_urls.url``
  and ``dedup_keys`` (``canonical:<url>`` and ``hash:<content hash>`` of every stored document). When
  two workers store the same page, or the same text under two URLs, at the same moment, the second
  one's insert waits for the first to commit, finds the key taken, rolls back and runs again, and then
  sees the stored page (``unchanged``) or records an alias (``duplicate``): every page once.
- **Generation.** Bumped in the same transaction as the passages it counts (a row of ``meta``), so
  a reader that sees a generation sees its passages. Each host's FAISS index is a cache of the
  embeddings stored here; :func:`corroborate.corpus.index.sync_index` rebuilds it from a
  :meth:`PostgresStore.snapshot` whenever the generation or the passage count says it is stale.
- **Advisory locks** only where a whole step must run once: the schema migration (two processes
  starting on a new database migrate once) and embedding the passages that have no embedding yet
  (:meth:`maintenance_lock`); and as the liveness of runs.
- **Runs on many hosts.** While a run is ``running`` its process holds a session-level advisory lock
  keyed by the run's id (:func:`run_lock_key`), on a connection of its own that lives as long as the
  run, not the store object (a flow starts its run with one store and finishes it with another):
  :meth:`PostgresStore.finish_run` releases it, and PostgreSQL drops it with the session when the
  process dies, or, through TCP keepalives, about a minute after its host stopped answering. A writer
  ends a ``running`` row of another host as ``abandoned`` when it can take that lock itself; rows of
  its own host are told by their process id, as in the SQLite store. A lost lock session is found
  (at each new connection, and every 15 s of store calls) and the lock taken again; a run another
  writer ended meanwhile is finished with its real status and a note of that
  (:meth:`PostgresStore.finish_run`).
- **Keyword search** is PostgreSQL full-text search: a stored ``tsvector`` (``english``
  configuration: Snowball stemmer and stop words) with a GIN index, the claim's words OR-ed as in the
  FTS5 query, ranked by ``ts_rank`` (how often the words occur) divided by 1 + the log of the passage's
  length; FTS5 ranks by BM25, which also weighs a word by its rarity in the corpus. On FNC-1's news
  bodies ``ts_rank`` finds the right body about as often as BM25 and ``ts_rank_cd`` (cover density)
  clearly less often (docs/scaling.md has the figures).
- **Connections.** One connection per store, serialised by a lock like the SQLite one. A lost
  connection (a restarted server) is reopened and the whole transaction run again for up to
  ``retry_s`` seconds; after that the method raises :class:`StoreError`. Nothing is half-written:
  each transaction commits whole or not at all.
- **Secrets.** The connection URL may hold a password: every message shows it redacted
  (:func:`corroborate.corpus.dburl.redact_url`), and error texts are scrubbed of the password.

Timestamps are ISO 8601 text and flags are integers, as in SQLite, so rows read the same from both
stores and ``corroborate store copy`` carries them over unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from corroborate.corpus.dburl import redact_url, scrub
from corroborate.corpus.passages import STOPWORDS
from corroborate.corpus.records import NewDocument, Passage, Span
from corroborate.corpus.store import (
    EMBEDDING_DTYPE,
    AbandonedRun,
    AddResult,
    OutletRow,
    StoredDocument,
    _iso,
    _parse_iso,
    _pid_of,
    process_gone,
    this_process,
    utcnow,
)
from corroborate.errors import StoreError

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

PG_MIGRATIONS: list[str] = [
    # 1: the SQLite store's schema 3, plus dedup_keys and the full-text column
    """
    CREATE TABLE corroborate_schema(version integer PRIMARY KEY, applied text NOT NULL);
    CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE outlets(
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        domains text NOT NULL DEFAULT '[]',
        country text, language text, owner text,
        grp text NOT NULL,
        state_media integer NOT NULL DEFAULT 0,
        kind text,
        fictional integer NOT NULL DEFAULT 0
    );
    CREATE TABLE documents(
        id bigserial PRIMARY KEY,
        url text NOT NULL UNIQUE,
        canonical_url text NOT NULL,
        outlet_id bigint NOT NULL REFERENCES outlets(id),
        title text, author text, published text, fetched text NOT NULL,
        site_name text, language text,
        text text NOT NULL,
        content_hash text NOT NULL,
        minhash bytea,
        cluster_id bigint,
        run_id bigint
    );
    CREATE INDEX documents_canonical ON documents(canonical_url);
    CREATE INDEX documents_hash ON documents(content_hash);
    CREATE INDEX documents_cluster ON documents(cluster_id);
    CREATE TABLE document_urls(url text PRIMARY KEY, document_id bigint NOT NULL REFERENCES documents(id));
    CREATE INDEX document_urls_document ON document_urls(document_id);
    CREATE TABLE dedup_keys(
        key text PRIMARY KEY,
        document_id bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE
    );
    CREATE INDEX dedup_keys_document ON dedup_keys(document_id);
    CREATE TABLE passages(
        id bigserial PRIMARY KEY,  -- never reused: the index keys vectors by it
        document_id bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        start integer NOT NULL,
        "end" integer NOT NULL,
        text text NOT NULL,
        embedding bytea,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED,
        UNIQUE(document_id, seq)
    );
    CREATE INDEX passages_unembedded ON passages(id) WHERE embedding IS NULL;
    CREATE INDEX passages_tsv ON passages USING gin(tsv);
    CREATE TABLE validators(
        url text PRIMARY KEY, etag text, last_modified text, status integer, checked text NOT NULL
    );
    CREATE TABLE fetch_log(
        id bigserial PRIMARY KEY, run_id bigint, url text NOT NULL, outlet text, kind text,
        outcome text NOT NULL, status integer, reason text, at text NOT NULL
    );
    CREATE INDEX fetch_log_run ON fetch_log(run_id);
    CREATE TABLE runs(
        id bigserial PRIMARY KEY, kind text NOT NULL, started text NOT NULL, finished text,
        status text NOT NULL, params text, summary text, owner text, flow_run text, flow_run_ended text
    );
    CREATE TABLE checks(
        id bigserial PRIMARY KEY, created text NOT NULL, kind text NOT NULL, source text,
        title text, report text NOT NULL
    );
    CREATE TABLE claims(
        id bigserial PRIMARY KEY, check_id bigint NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
        idx integer NOT NULL, text text NOT NULL, is_claim integer NOT NULL
    );
    CREATE TABLE verdicts(
        claim_id bigint PRIMARY KEY REFERENCES claims(id) ON DELETE CASCADE,
        status text NOT NULL, confidence double precision NOT NULL, voices_for integer NOT NULL,
        voices_against integer NOT NULL, flags text NOT NULL
    );
    INSERT INTO meta(key, value) VALUES ('generation', '0');
    """,
    # 2: the validators of each outlet's feeds and sitemaps (the SQLite store's schema 4)
    """
    CREATE TABLE source_validators(
        url text PRIMARY KEY, outlet text NOT NULL, etag text, last_modified text, checked text NOT NULL
    );
    CREATE INDEX source_validators_outlet ON source_validators(outlet);
    """,
    # 3: 1 where a run's process holds the run's advisory lock while it runs (run_lock_key); NULL on rows of
    # older corroborates, which held none
    """
    ALTER TABLE runs ADD COLUMN holds_lock integer;
    """,
]

PG_SCHEMA_VERSION = len(PG_MIGRATIONS)


def _read_in(languages: Collection[str]) -> tuple[str, list[str]]:
    """SQL condition on ``d`` (documents) for "read in one of ``languages``" (undetermined counts as read)."""
    codes = sorted(set(languages))
    if not codes:
        return "d.language IS NULL", []
    return f"(d.language IS NULL OR d.language IN ({','.join(['%s'] * len(codes))}))", codes
SCHEMA_TABLE = "corroborate_schema"
CONNECT_TIMEOUT_S = 10
RETRY_S = 30.0  # how long a method keeps reconnecting and retrying after a lost connection
MAX_KEY_RETRIES = 8  # reruns of add_document after a concurrent writer took one of its dedup keys
# a run's lock session: the server probes a silent client after 20 s, then every 10 s, and drops the session (and
# the lock) after 4 unanswered probes: about a minute after the run's host died (power loss, a deleted VM)
RUN_LOCK_KEEPALIVES = (("tcp_keepalives_idle", 20), ("tcp_keepalives_interval", 10), ("tcp_keepalives_count", 4))
# a server that started less than this ago holds no run locks yet: their owners take them again at their next call
RESTART_GRACE_S = 2 * RETRY_S
RUN_LOCK_CHECK_S = 15.0  # a store call asks at most this often whether this process's run locks are still held
_LISTED = "(o.country IS NOT NULL AND NOT starts_with(o.grp, 'site:'))"

# SQLSTATE classes and codes worth running a transaction again for: a lost or refused connection, the
# server shutting down or starting, a serialization failure or a deadlock between concurrent writers
_RETRY_CLASSES = ("08",)
_RETRY_CODES = {"57P01", "57P02", "57P03", "40001", "40P01", "53300"}


class _KeyTaken(Exception):
    """Raised inside add_document's transaction when a concurrent writer stored one of its dedup keys first."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (namespaced, so other apps' keys do not collide)."""
    return int.from_bytes(hashlib.sha256(f"corroborate:{name}".encode()).digest()[:8], "big", signed=True)


RUN_LOCK_CLASS = advisory_key("runs") >> 32  # the first half of every run's two-integer lock key


def run_lock_key(run_id: int) -> tuple[int, int]:
    """The key of run ``run_id``'s advisory lock: (:data:`RUN_LOCK_CLASS`, the id's low 32 bits as a signed integer).

    Two-integer keys are a lock space of their own (``objsubid`` 2 in ``pg_locks``), apart from the one-bigint keys
    of :func:`advisory_key` (``objsubid`` 1); two runs share a key only when their ids are 2**32 apart.
    """
    return RUN_LOCK_CLASS, (run_id + 2**31) % 2**32 - 2**31


def _host_of(owner: object) -> str | None:
    """The host in a :func:`~corroborate.corpus.store.process_name`; None for an unreadable one."""
    parts = str(owner).rsplit("/", 2)
    return parts[0] if len(parts) == 3 else None


class _RunLocks:
    """The advisory locks of the runs this process started on one database, held on a connection of their own.

    The connection outlives store objects: a run is often started with one store and finished with another, so the
    lock is released by :meth:`PostgresStore.finish_run` (any store of the same URL in this process) or by the
    session's end (the process exits or dies, its host stops answering keepalives, the server restarts). A lost
    connection is found by :meth:`check` (each new store connection calls it) and every held lock taken again.
    """

    def __init__(self, url: str, connect_timeout: int) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._mutex = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._checked = time.monotonic()
        self.held: set[int] = set()

    def _connect(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = _psycopg().connect(
            self._url, autocommit=True, connect_timeout=self._connect_timeout, application_name="corroborate run locks"
        )
        try:
            for name, value in RUN_LOCK_KEEPALIVES:  # user-settable; ignored on a Unix socket (no host to lose)
                conn.execute(f"SET {name} = {int(value)}")
            if conn.info.server_version >= 140000:  # an idle lock session must not time out
                conn.execute("SET idle_session_timeout = 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def _session(self) -> psycopg.Connection[Any]:
        """The lock connection; a new one, every held lock taken again, when the old one is gone.

        A lock another writer holds now is one it found free and is ending the run ``abandoned`` under
        (:meth:`PostgresStore.end_abandoned_runs`): it is not waited for, and :meth:`PostgresStore.finish_run`
        will find the row abandoned.
        """
        if self._conn is not None and not (self._conn.closed or self._conn.broken):
            return self._conn
        self._drop()
        conn = self._connect()
        try:
            for run_id in sorted(self.held):
                got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", run_lock_key(run_id)).fetchone()
                if not (got and got[0]):
                    self.held.discard(run_id)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    def hold(self, run_id: int) -> None:
        """Take run ``run_id``'s lock until :meth:`release` (or the session's end)."""
        with self._mutex:
            self._session().execute("SELECT pg_advisory_lock(%s, %s)", run_lock_key(run_id))
            self.held.add(run_id)

    def release(self, run_id: int) -> None:
        """Give run ``run_id``'s lock back (a lost session has given it back already)."""
        with self._mutex:
            if run_id not in self.held:
                return
            self.held.discard(run_id)
            if self._conn is not None and not (self._conn.closed or self._conn.broken):
                try:
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", run_lock_key(run_id))
                except _psycopg().Error:
                    self._drop()  # the session is gone, and the lock with it
            if not self.held:
                self._drop()

    def check(self, max_age: float = 0.0) -> None:
        """Make sure the held locks are held, unless that was made sure less than ``max_age`` seconds ago: a lost
        session (a restarted server, a dropped connection) is replaced and the locks taken again."""
        if not self.held or time.monotonic() - self._checked < max_age:
            return
        with self._mutex:
            if not self.held:
                return
            try:
                self._session().execute("SELECT 1")
            except _psycopg().Error:
                self._drop()
                self._session()
            self._checked = time.monotonic()


_RUN_LOCKS: dict[tuple[int, str], _RunLocks] = {}  # by (pid, URL): a forked child never uses its parent's session
_RUN_LOCKS_MUTEX = threading.Lock()


def _run_locks(url: str, connect_timeout: int, *, create: bool) -> _RunLocks | None:
    """This process's :class:`_RunLocks` for ``url`` (made when ``create``; None when there is none)."""
    key = (os.getpid(), url)
    with _RUN_LOCKS_MUTEX:
        found = _RUN_LOCKS.get(key)
        if found is None and create:
            found = _RUN_LOCKS[key] = _RunLocks(url, connect_timeout)
        return found


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "store_url names a PostgreSQL store, which needs the postgres extra: pip install 'corroborate[postgres]'"
        ) from None
    return psycopg


def _transient(exc: BaseException) -> bool:
    pg = _psycopg()
    if not isinstance(exc, pg.Error):
        return False
    code = getattr(exc, "sqlstate", None) or ""
    if code in _RETRY_CODES or code[:2] in _RETRY_CLASSES:
        return True
    # a dropped connection often has no SQLSTATE at all
    return isinstance(exc, pg.OperationalError) and not code


class PostgresStore:
    """One PostgreSQL database, shared by many processes. Safe to share between threads (a lock serialises use)."""

    shared = True  # several processes and hosts write it at once (no write.lock; the index is a per-host cache)

    def __init__(self, url: str, *, read_only: bool = False, retry_s: float = RETRY_S,
                 connect_timeout: int = CONNECT_TIMEOUT_S, restart_grace_s: float = RESTART_GRACE_S) -> None:
        """Connect to ``url`` and migrate its schema (once, under an advisory lock); ``read_only`` never writes.

        ``restart_grace_s``: for this long after the server started, no run of another host is ended, since its
        owner may not have taken its lock again yet (:meth:`start_run`).
        """
        self._url = url
        self.location = redact_url(url)
        self.read_only = read_only
        self.retry_s = retry_s
        self.restart_grace_s = restart_grace_s
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._in_snapshot = False
        try:
            self._conn = self._connect()
        except _psycopg().Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL store {self.location}: {self._text(exc)}") from None
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def _text(self, exc: BaseException) -> str:
        """The error's message on one line, without the password (libpq messages can span lines)."""
        return scrub(str(exc) or type(exc).__name__, self._url)

    def _connect(self) -> psycopg.Connection[Any]:
        pg = _psycopg()
        conn: psycopg.Connection[Any] = pg.connect(
            self._url, autocommit=True, connect_timeout=self._connect_timeout, application_name="corroborate"
        )
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")
        locks = _run_locks(self._url, self._connect_timeout, create=False)
        if locks is not None:  # a new connection may follow a lost one (a restarted server): are the run locks held?
            with suppress(pg.Error):  # if not, the next new connection tries again
                locks.check()
        return conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                with suppress(Exception):
                    self._conn.close()
            self._conn = None
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with suppress(Exception):
                    self._conn.close()
                self._conn = None

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _problem(self, exc: BaseException, write: bool) -> str:
        pg = _psycopg()
        code = getattr(exc, "sqlstate", None) or ""
        if code == "25006":
            return f"PostgreSQL store {self.location} is read-only here; cannot write"
        if code == "53100":
            return f"the disk of PostgreSQL store {self.location} is full ({self._text(exc)})"
        if isinstance(exc, pg.OperationalError) and (not code or code[:2] == "08" or code.startswith("57P")):
            return (f"lost the connection to PostgreSQL store {self.location} and could not get it back within "
                    f"{self.retry_s:.0f} s ({self._text(exc)}); nothing of the interrupted "
                    f"{'write' if write else 'read'} was kept, run again once the server is back")
        return f"PostgreSQL store {self.location}: {'write' if write else 'query'} failed: {self._text(exc)}"

    def _run(self, fn: Callable[[psycopg.Cursor[Any]], T], *, write: bool = False) -> T:
        """``fn(cursor)`` in one transaction, committed on return; run again after a lost connection, a
        serialization failure or a deadlock (for up to ``retry_s`` seconds), or a concurrent writer taking
        a dedup key (a few times); any other database error is a one-line StoreError."""
        if write and self.read_only:
            raise StoreError(f"PostgreSQL store {self.location} was opened read-only; cannot write")
        pg = _psycopg()
        with self._lock:
            if self._in_snapshot:  # inside snapshot(): its one transaction, no retry
                if write:
                    raise StoreError("cannot write inside a snapshot of the store")
                try:
                    with self._connection().cursor() as cur:
                        return fn(cur)
                except pg.Error as exc:
                    raise StoreError(self._problem(exc, write)) from None
            locks = _run_locks(self._url, self._connect_timeout, create=False)
            if locks is not None:  # a lock session can be lost on its own (an idle connection cut): take them again
                with suppress(pg.Error):
                    locks.check(RUN_LOCK_CHECK_S)
            deadline = time.monotonic() + self.retry_s
            delay = 0.1
            key_retries = 0
            while True:
                try:
                    conn = self._connection()
                    with conn.transaction(), conn.cursor() as cur:
                        return fn(cur)
                except _KeyTaken:
                    key_retries += 1
                    if key_retries > MAX_KEY_RETRIES:
                        raise StoreError(f"PostgreSQL store {self.location}: a document's dedup key kept "
                                         "changing under concurrent writers; run again") from None
                except pg.Error as exc:
                    if not _transient(exc) or time.monotonic() + delay >= deadline:
                        raise StoreError(self._problem(exc, write)) from None
                    if self._conn is not None and (self._conn.broken or self._conn.closed):
                        self.close()
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)

    def _rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        def read(cur: psycopg.Cursor[Any]) -> list[tuple[Any, ...]]:
            cur.execute(sql, params)
            return list(cur.fetchall())

        return self._run(read)

    def _dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        def read(cur: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
            cur.execute(sql, params)
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

        return self._run(read)

    def _scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside the block see one consistent state of the database (REPEATABLE READ, read-only):
        the index cache is built from a generation and exactly the passages it counts."""
        pg = _psycopg()
        with self._lock:
            if self._in_snapshot:
                yield
                return
            try:
                conn = self._connection()
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            except pg.Error as exc:
                raise StoreError(self._problem(exc, False)) from None
            self._in_snapshot = True
            try:
                yield
            finally:
                self._in_snapshot = False
                with suppress(pg.Error):
                    conn.execute("ROLLBACK")

    @contextmanager
    def maintenance_lock(self, name: str, timeout: float = 600.0) -> Iterator[None]:
        """Hold the database-wide advisory lock ``name`` for the block, waiting up to ``timeout`` seconds.

        It lives on a connection of its own, so it is released when the block ends or the process dies.
        """
        pg = _psycopg()
        try:
            conn = self._connect()
        except pg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL store {self.location}: {self._text(exc)}") from None
        try:
            deadline = time.monotonic() + timeout
            while True:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (advisory_key(name),)).fetchone()
                if row and row[0]:
                    break
                if time.monotonic() >= deadline:
                    raise StoreError(f"another corroborate process holds the '{name}' lock of PostgreSQL store "
                                     f"{self.location} for more than {timeout:.0f} s; try again later")
                time.sleep(0.2)
            yield
        except pg.Error as exc:
            raise StoreError(self._problem(exc, True)) from None
        finally:
            with suppress(Exception):
                conn.close()

    # -- schema ---------------------------------------------------------------------------------

    def _version(self, cur: psycopg.Cursor[Any]) -> int:
        """The schema version; 0 for an empty database; StoreError for one that holds other tables."""
        # a catalog query, not to_regclass: a name lookup can miss a table another process's migration has just
        # committed (the relation cache is refreshed only when a lock is taken), this query's snapshot cannot.
        # One statement, one snapshot: asking "is there a schema table?" and then "are there other tables?"
        # saw another process's migration commit in between and called our own tables foreign.
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "ORDER BY (table_name = %s) DESC, table_name LIMIT 4",
            (SCHEMA_TABLE,),
        )
        rows = cur.fetchall()
        if rows and str(rows[0][0]) == SCHEMA_TABLE:
            cur.execute(f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}")
            got = cur.fetchone()
            return int(got[0]) if got else 0
        others = [str(r[0]) for r in rows]
        if others:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            raise StoreError(
                f"PostgreSQL database {self.location} is not a corroborate store (it has other tables: {shown}); "
                "give store_url an empty database of its own"
            )
        return 0

    def _check_version(self, version: int) -> None:
        if version > PG_SCHEMA_VERSION:
            raise StoreError(
                f"PostgreSQL store {self.location} has schema {version}, newer than this corroborate "
                f"({PG_SCHEMA_VERSION}); upgrade corroborate"
            )

    def _migrate(self) -> None:
        version = self._run(self._version)
        self._check_version(version)
        if version == PG_SCHEMA_VERSION:
            return
        if self.read_only:
            if version == 0:
                raise StoreError(f"PostgreSQL store {self.location} has no schema yet, and it was opened read-only")
            return

        def migrate(cur: psycopg.Cursor[Any]) -> None:
            # one migrator at a time; the others wait here, then find the schema current
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("migrate"),))
            current = self._version(cur)
            self._check_version(current)
            for step in range(current, PG_SCHEMA_VERSION):
                cur.execute(PG_MIGRATIONS[step])
                cur.execute(f"INSERT INTO {SCHEMA_TABLE}(version, applied) VALUES (%s, %s)", (step + 1, utcnow()))

        self._run(migrate, write=True)

    def schema_version(self) -> int:
        return self._run(self._version)

    def integrity_check(self) -> list[str]:
        """Problems found ([] when healthy): the store's invariants (PostgreSQL keeps its own structures whole)."""
        problems: list[str] = []
        orphans = self._scalar(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.document_id = d.id)"
        )
        if orphans:
            problems.append(f"{orphans} documents without passages")
        unkeyed = self._scalar(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_urls u WHERE u.url = d.url)"
        )
        if unkeyed:
            problems.append(f"{unkeyed} documents whose URL is not in document_urls")
        return problems

    # -- meta -----------------------------------------------------------------------------------

    def generation(self) -> int:
        return int(self._scalar("SELECT value FROM meta WHERE key='generation'"))

    @staticmethod
    def _bump(cur: psycopg.Cursor[Any]) -> None:
        cur.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key='generation'")

    def meta(self, key: str) -> str | None:
        value = self._scalar("SELECT value FROM meta WHERE key=%s", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str | None) -> None:
        def write(cur: psycopg.Cursor[Any]) -> None:
            if value is None:
                cur.execute("DELETE FROM meta WHERE key=%s", (key,))
            else:
                cur.execute("INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                            "SET value = excluded.value", (key, value))

        self._run(write, write=True)

    # -- outlets --------------------------------------------------------------------------------

    def upsert_outlet(
        self,
        name: str,
        *,
        domains: Sequence[str] = (),
        group: str | None = None,
        state_media: bool = False,
        country: str | None = None,
        language: str | None = None,
        owner: str | None = None,
        kind: str | None = None,
        fictional: bool = False,
    ) -> int:
        values = (name, json.dumps(list(domains)), country, language, owner, group or name, int(state_media), kind,
                  int(fictional))

        def write(cur: psycopg.Cursor[Any]) -> int:
            cur.execute(
                """INSERT INTO outlets(name, domains, country, language, owner, grp, state_media, kind, fictional)
                   VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)
                   ON CONFLICT (name) DO UPDATE SET domains=excluded.domains, country=excluded.country,
                     language=excluded.language, owner=excluded.owner, grp=excluded.grp,
                     state_media=excluded.state_media, kind=excluded.kind, fictional=excluded.fictional
                   RETURNING id""",
                values,
            )
            row = cur.fetchone()
            assert row is not None
            return int(row[0])

        return self._run(write, write=True)

    def ensure_outlet(self, name: str, domains: Sequence[str] = ()) -> int:
        """The outlet's id, creating it as its own independence group if unknown (a registered one is kept)."""
        found = self._scalar("SELECT id FROM outlets WHERE name=%s", (name,))
        if found is not None:
            return int(found)

        def write(cur: psycopg.Cursor[Any]) -> int:
            cur.execute(
                "INSERT INTO outlets(name, domains, grp) VALUES (%s,%s,%s) ON CONFLICT (name) DO NOTHING",
                (name, json.dumps(list(domains)), name),
            )
            cur.execute("SELECT id FROM outlets WHERE name=%s", (name,))
            row = cur.fetchone()
            assert row is not None
            return int(row[0])

        return self._run(write, write=True)

    def outlets(self) -> list[OutletRow]:
        return [
            OutletRow(int(r[0]), str(r[1]), str(r[2]), bool(r[3]))
            for r in self._rows("SELECT id, name, grp, state_media FROM outlets ORDER BY name")
        ]

    # -- conditional GET validators and the fetch log --------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        rows = self._rows("SELECT etag, last_modified FROM validators WHERE url=%s", (url,))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def has_url(self, url: str) -> bool:
        return bool(self._rows("SELECT 1 FROM document_urls WHERE url=%s", (url,)))

    def source_validators(self, outlet: str) -> dict[str, tuple[str | None, str | None]]:
        """(ETag, Last-Modified) of each feed and sitemap of ``outlet``, by URL (as :class:`Store`)."""
        rows = self._rows("SELECT url, etag, last_modified FROM source_validators WHERE outlet=%s", (outlet,))
        return {str(r[0]): (r[1], r[2]) for r in rows}

    def keep_source_validators(self, outlet: str, validators: dict[str, tuple[str | None, str | None]]) -> None:
        now = utcnow()
        rows = [(url, outlet, etag, modified, now) for url, (etag, modified) in validators.items() if etag or modified]
        if rows:
            self._run(lambda cur: cur.executemany(
                """INSERT INTO source_validators(url, outlet, etag, last_modified, checked) VALUES (%s,%s,%s,%s,%s)
                   ON CONFLICT(url) DO UPDATE SET outlet=excluded.outlet, etag=excluded.etag,
                     last_modified=excluded.last_modified, checked=excluded.checked""", rows), write=True)

    def record_fetch(
        self,
        url: str,
        outcome: str,
        *,
        run_id: int | None = None,
        outlet: str | None = None,
        kind: str = "page",
        status: int | None = None,
        reason: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Log one fetch; validators are kept only once the page's content is safely stored."""

        def write(cur: psycopg.Cursor[Any]) -> None:
            cur.execute(
                "INSERT INTO fetch_log(run_id, url, outlet, kind, outcome, status, reason, at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                (run_id, url, outlet, kind, outcome, status, reason, utcnow()),
            )
            if etag or last_modified:
                cur.execute(
                    """INSERT INTO validators(url, etag, last_modified, status, checked) VALUES (%s,%s,%s,%s,%s)
                       ON CONFLICT (url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                         status=excluded.status, checked=excluded.checked""",
                    (url, etag, last_modified, status, utcnow()),
                )

        self._run(write, write=True)

    def fetch_log(self, run_id: int | None = None) -> list[dict[str, Any]]:
        if run_id is None:
            return self._dicts("SELECT * FROM fetch_log ORDER BY id")
        return self._dicts("SELECT * FROM fetch_log WHERE run_id=%s ORDER BY id", (run_id,))

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, kind: str, params: dict[str, Any] | None = None, *, flow_run: str | None = None) -> int:
        """A new ``running`` row owned by this process, whose lock (:func:`run_lock_key`) this process holds
        until :meth:`finish_run` or its end; the rows of dead owners end ``abandoned`` first
        (:meth:`end_abandoned_runs`)."""
        locks = _run_locks(self._url, self._connect_timeout, create=True)
        assert locks is not None
        taken: list[int] = []

        def write(cur: psycopg.Cursor[Any]) -> int:
            self._end_abandoned(cur)
            cur.execute(
                "INSERT INTO runs(kind, started, status, params, owner, flow_run, holds_lock)"
                " VALUES (%s,%s,%s,%s,%s,%s,1) RETURNING id",
                (kind, utcnow(), "running", json.dumps(params or {}, default=str), this_process(), flow_run),
            )
            row = cur.fetchone()
            assert row is not None
            run_id = int(row[0])
            locks.hold(run_id)  # before the commit: no writer ever sees the row without its lock held
            taken.append(run_id)
            return run_id

        try:
            run_id = self._run(write, write=True)
        except BaseException:
            for stale in taken:
                locks.release(stale)
            raise
        for stale in taken:  # the ids of attempts that did not commit
            if stale != run_id:
                locks.release(stale)
        return run_id

    def end_abandoned_runs(self) -> int:
        """Mark ``abandoned`` the ``running`` rows whose owner is gone; how many.

        A row of this host is told by its process id and start time, as in the SQLite store. A row of another
        host is ended when this writer can take the run's advisory lock: its owner's session is gone (the
        process died, or its host stopped answering the server's keepalives). Not while the server started less
        than ``restart_grace_s`` ago (a restart drops every lock; live owners take theirs again at their next
        call), and never a row of another host from a corroborate older than run locks (``holds_lock`` NULL).
        """
        return self._run(self._end_abandoned, write=True)

    def _end_abandoned(self, cur: psycopg.Cursor[Any]) -> int:
        cur.execute("SELECT id, owner, holds_lock FROM runs WHERE status='running' AND owner IS NOT NULL ORDER BY id")
        here = socket.gethostname()
        uptime: float | None = None
        ended = 0
        for run_id, owner, holds_lock in cur.fetchall():
            host = _host_of(owner)
            if host is None or host == here:
                if not process_gone(str(owner)):
                    continue
                error = f"its process (pid {_pid_of(owner)}) ended without finishing it"
            else:
                if not holds_lock:  # an older corroborate's run: it holds no lock, so cannot be told dead from here
                    continue
                if uptime is None:
                    cur.execute("SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8")
                    got = cur.fetchone()
                    uptime = float(got[0]) if got else 0.0
                if uptime < self.restart_grace_s:
                    continue
                # held to this transaction's end: its owner cannot take it back before the row says abandoned
                cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", run_lock_key(int(run_id)))
                got = cur.fetchone()
                if not (got and got[0]):
                    continue
                error = (f"its process (pid {_pid_of(owner)} on host {host}) ended without finishing it, or lost "
                         "its connection to the database (its host down or cut off for about a minute)")
            summary = {"status": "abandoned", "error": error}
            cur.execute(
                "UPDATE runs SET finished=%s, status='abandoned', summary=%s WHERE id=%s AND status='running'",
                (utcnow(), json.dumps(summary), int(run_id)),
            )
            ended += cur.rowcount
        return ended

    def abandoned_flow_runs(self) -> list[AbandonedRun]:
        rows = self._rows("SELECT id, kind, flow_run, owner FROM runs WHERE status='abandoned' "
                          "AND flow_run IS NOT NULL AND flow_run_ended IS NULL ORDER BY id")
        return [AbandonedRun(int(r[0]), str(r[1]), str(r[2]), _pid_of(r[3])) for r in rows]

    def flow_run_ended(self, run_id: int) -> None:
        self._run(lambda cur: cur.execute("UPDATE runs SET flow_run_ended=%s WHERE id=%s", (utcnow(), run_id)),
                  write=True)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any] | None = None) -> None:
        """Record the run's end and release its lock.

        A run another writer ended ``abandoned`` meanwhile (its lock was lost with a connection and found free)
        went on all the same: it gets its real status and summary, the abandonment kept in the summary as
        ``abandoned_meanwhile`` (when, and the reason given). Its flow run may have been set Crashed then.
        """

        def write(cur: psycopg.Cursor[Any]) -> None:
            record = dict(summary or {})
            cur.execute("SELECT status, finished, summary FROM runs WHERE id=%s FOR UPDATE", (run_id,))
            row = cur.fetchone()
            if row is not None and row[0] == "abandoned":
                earlier: Any = None
                with suppress(ValueError, TypeError):
                    earlier = json.loads(row[2] or "{}")
                record["abandoned_meanwhile"] = {"at": row[1],
                                                 "error": earlier.get("error") if isinstance(earlier, dict) else None}
            cur.execute(
                "UPDATE runs SET finished=%s, status=%s, summary=%s WHERE id=%s",
                (utcnow(), status, json.dumps(record, default=str), run_id),
            )

        self._run(write, write=True)
        locks = _run_locks(self._url, self._connect_timeout, create=False)
        if locks is not None:
            locks.release(run_id)

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM runs ORDER BY id DESC LIMIT %s", (limit,))

    # -- documents and passages -------------------------------------------------------------------

    def find_duplicate(self, doc: NewDocument) -> int | None:
        rows = self._rows(
            """SELECT document_id FROM document_urls WHERE url IN (%s, %s)
               UNION ALL SELECT id FROM documents WHERE canonical_url=%s OR content_hash=%s LIMIT 1""",
            (doc.url, doc.canonical_url, doc.canonical_url, doc.content_hash),
        )
        return int(rows[0][0]) if rows else None

    def stored_hash(self, url: str) -> str | None:
        rows = self._rows(
            "SELECT d.content_hash FROM document_urls u JOIN documents d ON d.id = u.document_id WHERE u.url=%s",
            (url,),
        )
        return str(rows[0][0]) if rows else None

    def add_document(
        self,
        doc: NewDocument,
        spans: Sequence[Span],
        *,
        cluster_id: int | None = None,
        run_id: int | None = None,
        validators: tuple[str | None, str | None] = (None, None),
    ) -> AddResult:
        """Store a document and its passages atomically; idempotent, and safe beside concurrent writers.

        The same URL with changed text replaces the old version (its passages too); the same
        canonical URL or exact text under another URL is recorded as an alias of the stored one.
        """
        if not spans:
            raise StoreError(f"document {doc.url} has no passages")
        outlet_id = self.ensure_outlet(doc.outlet)
        keys = _dedup_keys(doc)

        def write(cur: psycopg.Cursor[Any]) -> AddResult:
            # a page can be fetched again: its commit need not wait for the disk (a crash may lose the last
            # fraction of a second of pages, whole transactions in commit order, never half of one)
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(
                "SELECT d.id, d.content_hash FROM document_urls u JOIN documents d ON d.id = u.document_id"
                " WHERE u.url=%s",
                (doc.url,),
            )
            row = cur.fetchone()
            if row is not None and row[1] == doc.content_hash:
                self._set_validators(cur, doc.url, validators)
                return AddResult(int(row[0]), "unchanged", 0)
            if row is None:
                cur.execute(
                    """SELECT id FROM documents WHERE canonical_url=%s OR content_hash=%s
                       UNION ALL SELECT document_id FROM dedup_keys WHERE key = ANY(%s) LIMIT 1""",
                    (doc.canonical_url, doc.content_hash, keys),
                )
                dup = cur.fetchone()
                if dup is not None:
                    cur.execute(
                        "INSERT INTO document_urls(url, document_id) VALUES (%s,%s) ON CONFLICT (url) DO NOTHING",
                        (doc.url, int(dup[0])),
                    )
                    self._set_validators(cur, doc.url, validators)
                    return AddResult(int(dup[0]), "duplicate", 0)
            values = (doc.canonical_url, outlet_id, doc.title, doc.author, _iso(doc.published), utcnow(),
                      doc.site_name, doc.language, doc.text, doc.content_hash, doc.minhash, run_id)
            if row is None:
                # a writer storing the same URL right now: this insert waits for its commit, then finds it
                cur.execute(
                    """INSERT INTO documents(canonical_url, outlet_id, title, author, published, fetched, site_name,
                         language, text, content_hash, minhash, run_id, url)
                       VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (url) DO NOTHING RETURNING id""",
                    (*values, doc.url),
                )
                got = cur.fetchone()
                if got is None:
                    raise _KeyTaken  # rerun: the stored page is then found above
                doc_id = int(got[0])
                outcome = "new"
                # the dedup keys: a writer that stored the same canonical URL or text first wins, and this
                # transaction reruns to record an alias of its document instead
                cur.execute(
                    "INSERT INTO dedup_keys(key, document_id) SELECT k, %s FROM unnest(%s::text[]) AS k "
                    "ON CONFLICT (key) DO NOTHING RETURNING key",
                    (doc_id, keys),
                )
                if len(cur.fetchall()) < len(keys):
                    raise _KeyTaken
                for url in dict.fromkeys([doc.url, doc.canonical_url]):
                    cur.execute(
                        "INSERT INTO document_urls(url, document_id) VALUES (%s,%s) ON CONFLICT (url) DO NOTHING",
                        (url, doc_id),
                    )
            else:
                doc_id = int(row[0])
                outcome = "updated"
                cur.execute(
                    """UPDATE documents SET canonical_url=%s, outlet_id=%s, title=%s, author=%s, published=%s,
                         fetched=%s, site_name=%s, language=%s, text=%s, content_hash=%s, minhash=%s, run_id=%s
                       WHERE id=%s""",
                    (*values, doc_id),
                )
                cur.execute("DELETE FROM passages WHERE document_id=%s", (doc_id,))
                # its keys follow its new text (a key another document holds stays that document's)
                cur.execute("DELETE FROM dedup_keys WHERE document_id=%s", (doc_id,))
                cur.execute(
                    "INSERT INTO dedup_keys(key, document_id) SELECT k, %s FROM unnest(%s::text[]) AS k "
                    "ON CONFLICT (key) DO NOTHING",
                    (doc_id, keys),
                )
            cur.execute(
                "UPDATE documents SET cluster_id=%s WHERE id=%s",
                (cluster_id if cluster_id is not None else doc_id, doc_id),
            )
            cur.executemany(
                'INSERT INTO passages(document_id, seq, start, "end", text) VALUES (%s,%s,%s,%s,%s)',
                [(doc_id, i, s.start, s.end, s.text) for i, s in enumerate(spans)],
            )
            self._set_validators(cur, doc.url, validators)
            self._bump(cur)
            return AddResult(doc_id, outcome, len(spans))

        return self._run(write, write=True)

    @staticmethod
    def _set_validators(cur: psycopg.Cursor[Any], url: str, validators: tuple[str | None, str | None]) -> None:
        etag, last_modified = validators
        if etag or last_modified:
            cur.execute(
                """INSERT INTO validators(url, etag, last_modified, status, checked) VALUES (%s,%s,%s,200,%s)
                   ON CONFLICT (url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                     status=200, checked=excluded.checked""",
                (url, etag, last_modified, utcnow()),
            )

    def cluster_of(self, document_id: int) -> int | None:
        value = self._scalar("SELECT cluster_id FROM documents WHERE id=%s", (document_id,))
        return int(value) if value is not None else None

    def minhashes(self) -> Iterator[tuple[int, bytes]]:
        for r in self._rows("SELECT id, minhash FROM documents WHERE minhash IS NOT NULL ORDER BY id"):
            yield int(r[0]), bytes(r[1])

    def document_count(self) -> int:
        return int(self._scalar("SELECT COUNT(*) FROM documents"))

    def passage_count(self, languages: Collection[str] | None = None) -> int:
        if languages is None:
            return int(self._scalar("SELECT COUNT(*) FROM passages"))
        where, params = _read_in(languages)
        return int(self._scalar(f"SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.document_id "
                                f"WHERE {where}", params))

    def documents(self, ids: Iterable[int]) -> dict[int, StoredDocument]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = self._dicts(
            f"""SELECT d.id, d.url, d.canonical_url, o.name AS outlet, o.grp, o.state_media, d.title, d.published,
                   d.text, d.content_hash, d.cluster_id, d.minhash, {_LISTED} AS listed
                FROM documents d JOIN outlets o ON o.id = d.outlet_id WHERE d.id = ANY(%s)""",
            (wanted,),
        )
        return {
            int(r["id"]): StoredDocument(
                int(r["id"]),
                r["url"],
                r["canonical_url"],
                r["outlet"],
                r["grp"],
                bool(r["state_media"]),
                r["title"],
                _parse_iso(r["published"]),
                r["text"],
                r["content_hash"],
                int(r["cluster_id"]) if r["cluster_id"] is not None else None,
                bytes(r["minhash"]) if r["minhash"] is not None else None,
                bool(r["listed"]),
            )
            for r in rows
        }

    def document_by_url(self, url: str) -> StoredDocument | None:
        found = self._scalar("SELECT document_id FROM document_urls WHERE url=%s", (url,))
        if found is None:
            return None
        return self.documents([int(found)]).get(int(found))

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = self._dicts(
            """SELECT p.id, p.document_id, p.start, p."end", p.text, d.url, d.title, d.published, d.cluster_id,
                      o.name AS outlet, o.grp, o.state_media
               FROM passages p JOIN documents d ON d.id = p.document_id JOIN outlets o ON o.id = d.outlet_id
               WHERE p.id = ANY(%s)""",
            (wanted,),
        )
        return {
            int(r["id"]): Passage(
                id=int(r["id"]),
                document_id=int(r["document_id"]),
                start=int(r["start"]),
                end=int(r["end"]),
                text=r["text"],
                url=r["url"],
                title=r["title"],
                outlet=r["outlet"],
                owner_group=r["grp"],
                state_media=bool(r["state_media"]),
                published=_parse_iso(r["published"]),
                cluster_id=int(r["cluster_id"]) if r["cluster_id"] is not None else None,
            )
            for r in rows
        }

    def passage_ids(
        self, languages: Collection[str] | None = None, *, embedded_only: bool = False
    ) -> npt.NDArray[np.int64]:
        where, params = _read_in(languages) if languages is not None else ("TRUE", [])
        if embedded_only:
            where += " AND p.embedding IS NOT NULL"
        rows = self._rows(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.document_id WHERE {where} ORDER BY p.id", params
        )
        return np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))

    def unembedded(
        self, limit: int = 1024, after: int = -1, languages: Collection[str] | None = None
    ) -> list[tuple[int, str]]:
        if languages is None:
            rows = self._rows(
                "SELECT id, text FROM passages WHERE id > %s AND embedding IS NULL ORDER BY id LIMIT %s", (after, limit)
            )
        else:
            where, params = _read_in(languages)
            rows = self._rows(
                "SELECT p.id, p.text FROM passages p JOIN documents d ON d.id = p.document_id"
                f" WHERE p.id > %s AND p.embedding IS NULL AND {where} ORDER BY p.id LIMIT %s",
                (after, *params, limit),
            )
        return [(int(r[0]), str(r[1])) for r in rows]

    def unembedded_count(self, languages: Collection[str] | None = None) -> int:
        if languages is None:
            return int(self._scalar("SELECT COUNT(*) FROM passages WHERE embedding IS NULL"))
        where, params = _read_in(languages)
        return int(self._scalar("SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.document_id"
                                f" WHERE p.embedding IS NULL AND {where}", params))

    def set_embeddings(self, ids: Sequence[int], vectors: npt.NDArray[np.float32]) -> None:
        if len(ids) != len(vectors):
            raise StoreError("embedding count does not match passage count")
        half = vectors.astype(EMBEDDING_DTYPE)
        rows = [(half[i].tobytes(), int(pid)) for i, pid in enumerate(ids)]
        self._run(lambda cur: cur.executemany("UPDATE passages SET embedding=%s WHERE id=%s", rows), write=True)

    def embeddings(
        self, ids: Sequence[int] | None = None, batch: int = 20_000
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
        """Stored embeddings in batches of (ids, float32 vectors); passages not embedded yet are skipped."""
        if ids is None:
            last = -1
            while True:
                rows = self._rows(
                    "SELECT id, embedding FROM passages WHERE embedding IS NOT NULL AND id > %s ORDER BY id LIMIT %s",
                    (last, batch),
                )
                if not rows:
                    return
                yield _decode(rows)
                last = int(rows[-1][0])
        else:
            wanted = sorted(int(i) for i in ids)
            for start in range(0, len(wanted), batch):
                rows = self._rows(
                    "SELECT id, embedding FROM passages WHERE embedding IS NOT NULL AND id = ANY(%s) ORDER BY id",
                    (wanted[start : start + batch],),
                )
                if rows:
                    yield _decode(rows)

    def keyword_search(self, query: str, k: int, languages: Collection[str] | None = None) -> list[tuple[int, float]]:
        """Full-text search: (passage id, ts_rank score, higher is better); with ``languages`` only
        passages of documents in them (or of undetermined language), as :meth:`Store.keyword_search`."""
        words = tsquery_words(query)
        if not words:
            return []
        where, params = _read_in(languages) if languages is not None else ("TRUE", [])
        rows = self._rows(
            f"""SELECT p.id, ts_rank(p.tsv, q, 1) AS rank
               FROM passages p JOIN documents d ON d.id = p.document_id, to_tsquery('english'::regconfig, %s) AS q
               WHERE p.tsv @@ q AND {where} ORDER BY rank DESC, p.id LIMIT %s""",
            (" | ".join(words), *params, k),
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def other_language_reports(
        self, names: Sequence[str], languages: Collection[str], exclude_outlets: Collection[str] = ()
    ) -> dict[str, int]:
        """Documents outside ``languages`` naming the claim's ``names`` (all, or two of more), by language
        (as :meth:`Store.other_language_reports`)."""
        phrases = list(dict.fromkeys(n.strip() for n in names if n.strip()))[:8]
        if not phrases:
            return {}
        where, params = _read_in(languages)
        hits = " UNION ALL ".join(
            "SELECT DISTINCT p.document_id AS doc FROM passages p"
            " WHERE p.tsv @@ phraseto_tsquery('english'::regconfig, %s)"
            for _ in phrases
        )
        outlets = list(exclude_outlets)
        skip = " AND NOT (o.name = ANY(%s))" if outlets else ""
        rows = self._rows(
            f"""SELECT d.language, COUNT(*)
                FROM (SELECT doc FROM ({hits}) AS named GROUP BY doc HAVING COUNT(*) >= %s) h
                JOIN documents d ON d.id = h.doc JOIN outlets o ON o.id = d.outlet_id
                WHERE NOT ({where}){skip} GROUP BY d.language ORDER BY d.language""",
            (*phrases, min(2, len(phrases)), *params, *([outlets] if outlets else [])),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    # -- checks -------------------------------------------------------------------------------------

    def save_check(self, kind: str, source: str | None, title: str | None, report: dict[str, Any]) -> int:
        def write(cur: psycopg.Cursor[Any]) -> int:
            cur.execute(
                "INSERT INTO checks(created, kind, source, title, report) VALUES (%s,%s,%s,%s,%s) RETURNING id",
                (utcnow(), kind, source, title, json.dumps(report, default=str)),
            )
            got = cur.fetchone()
            assert got is not None
            check_id = int(got[0])
            for i, claim in enumerate(report.get("claims", [])):
                cur.execute(
                    "INSERT INTO claims(check_id, idx, text, is_claim) VALUES (%s,%s,%s,%s) RETURNING id",
                    (check_id, i, claim.get("text", ""), int(bool(claim.get("is_claim")))),
                )
                c = cur.fetchone()
                assert c is not None
                if claim.get("status"):
                    cur.execute(
                        "INSERT INTO verdicts(claim_id, status, confidence, voices_for, voices_against, flags)"
                        " VALUES (%s,%s,%s,%s,%s,%s)",
                        (
                            int(c[0]),
                            claim["status"],
                            float(claim.get("confidence") or 0.0),
                            len(claim.get("voices_for", [])),
                            len(claim.get("voices_against", [])),
                            json.dumps(claim.get("flags", [])),
                        ),
                    )
            return check_id

        return self._run(write, write=True)


def _dedup_keys(doc: NewDocument) -> list[str]:
    return [f"canonical:{doc.canonical_url}", f"hash:{doc.content_hash}"]


def tsquery_words(text: str) -> list[str]:
    """The words :func:`corroborate.corpus.store.fts_query` ORs, for ``to_tsquery``: only ``\\w`` characters
    (no tsquery syntax gets through), stop words and one-letter words left out, at most 64."""
    import re

    words = [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1 and w not in STOPWORDS]
    # '_' is a word character but a separator to the tsquery parser: split on it, so 'a_b' cannot make 'a & b'
    parts = [p for w in words for p in w.split("_") if len(p) > 1]
    return list(dict.fromkeys(parts))[:64]


def _decode(rows: list[tuple[Any, ...]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=EMBEDDING_DTYPE).reshape(len(rows), -1)
    return ids, vecs.astype(np.float32)
