"""The SQLite store: outlets, documents, passages (with their embeddings), fetch log, runs, checks.

WAL mode, versioned migrations (``MIGRATIONS``: schema version N is reached by running
migrations[0:N] in order, each in one transaction). A document and its passages are written in
one transaction, so a crash never leaves a half-stored document. ``generation`` is bumped in the
same transaction whenever passages change; the index manifest records the generation it saw.

A store whose file or folder cannot be written (a read-only mount, another user's data folder) is
opened read-only: reads work, writes raise :class:`StoreError`. Each run row records the process
that runs it; the next writer to start a run marks rows of processes that died ``abandoned``. A
row may also name its flow run in an orchestrator (Prefect): :meth:`Store.abandoned_flow_runs`
lists the abandoned ones whose flow run nobody has ended yet, for the flow code to end there.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

from corroborate.corpus.lock import make_folder
from corroborate.corpus.passages import STOPWORDS
from corroborate.corpus.records import NewDocument, Passage, Span
from corroborate.errors import StoreError

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE outlets(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        domains TEXT NOT NULL DEFAULT '[]',
        country TEXT, language TEXT, owner TEXT,
        grp TEXT NOT NULL,
        state_media INTEGER NOT NULL DEFAULT 0,
        kind TEXT,
        fictional INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        url TEXT NOT NULL UNIQUE,
        canonical_url TEXT NOT NULL,
        outlet_id INTEGER NOT NULL REFERENCES outlets(id),
        title TEXT, author TEXT, published TEXT, fetched TEXT NOT NULL,
        site_name TEXT, language TEXT,
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        minhash BLOB,
        cluster_id INTEGER,
        run_id INTEGER
    );
    CREATE INDEX documents_canonical ON documents(canonical_url);
    CREATE INDEX documents_hash ON documents(content_hash);
    CREATE INDEX documents_cluster ON documents(cluster_id);
    CREATE TABLE document_urls(url TEXT PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id));
    CREATE TABLE passages(
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reuse an id: the index keys vectors by it
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        embedding BLOB,
        UNIQUE(document_id, seq)
    );
    CREATE INDEX passages_unembedded ON passages(id) WHERE embedding IS NULL;
    CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id',
                                                 tokenize='porter unicode61');
    CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN
        INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
        INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TABLE validators(
        url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, status INTEGER, checked TEXT NOT NULL
    );
    CREATE TABLE fetch_log(
        id INTEGER PRIMARY KEY, run_id INTEGER, url TEXT NOT NULL, outlet TEXT, kind TEXT,
        outcome TEXT NOT NULL, status INTEGER, reason TEXT, at TEXT NOT NULL
    );
    CREATE INDEX fetch_log_run ON fetch_log(run_id);
    CREATE TABLE runs(
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
        status TEXT NOT NULL, params TEXT, summary TEXT
    );
    CREATE TABLE checks(
        id INTEGER PRIMARY KEY, created TEXT NOT NULL, kind TEXT NOT NULL, source TEXT,
        title TEXT, report TEXT NOT NULL
    );
    CREATE TABLE claims(
        id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, text TEXT NOT NULL, is_claim INTEGER NOT NULL
    );
    CREATE TABLE verdicts(
        claim_id INTEGER PRIMARY KEY REFERENCES claims(id) ON DELETE CASCADE,
        status TEXT NOT NULL, confidence REAL NOT NULL, voices_for INTEGER NOT NULL,
        voices_against INTEGER NOT NULL, flags TEXT NOT NULL
    );
    INSERT INTO meta(key, value) VALUES ('generation', '0');
    """,
    # 2: the process running a run ("host/pid/start time"), so a dead process's run can be told from a live one
    """
    ALTER TABLE runs ADD COLUMN owner TEXT;
    """,
    # 3: the orchestrator's id of a run (a Prefect flow-run id), and when a later writer ended that flow
    # run for a dead process: a killed flow never reports its own end
    """
    ALTER TABLE runs ADD COLUMN flow_run TEXT;
    ALTER TABLE runs ADD COLUMN flow_run_ended TEXT;
    """,
    # 4: the validators each feed and sitemap (child sitemaps too) answered with, per outlet, for the
    # next run's conditional GET of its sources (pages keep theirs in ``validators``)
    """
    CREATE TABLE source_validators(
        url TEXT PRIMARY KEY, outlet TEXT NOT NULL, etag TEXT, last_modified TEXT, checked TEXT NOT NULL
    );
    CREATE INDEX source_validators_outlet ON source_validators(outlet);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
EMBEDDING_DTYPE = np.float16  # half precision halves the store; cosine ranks are unaffected in practice


def _sqlite_problem(path: Path, exc: sqlite3.Error) -> str:
    """A one-line message for a failed write, naming a full disk or a read-only store as such."""
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return f"the disk holding {path} is full ({text}); free some space and run again"
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"store {path} cannot be written ({text})"
    return f"store {path}: write failed: {text}"


def _not_writable(exc: BaseException) -> bool:
    """Whether opening the store for writing failed only because it cannot be written."""
    name = getattr(exc, "sqlite_errorname", "")
    return (
        name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
        or "readonly" in str(exc)
        or "unable to open" in str(exc)
        or isinstance(exc, PermissionError)
    )


def _writable(path: Path) -> bool:
    """Whether the store file (or, before it exists, its nearest existing folder) can be written."""
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return not folder.is_dir() or os.access(folder, os.W_OK | os.X_OK)  # a file in the way: make_folder says so


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class OutletRow:
    id: int
    name: str
    group: str
    state_media: bool


# An outlet is listed when an outlets file registered it (it then has a country). Outlets created for
# a document of an unknown outlet (ensure_outlet: no country) and for a GDELT hit on an unlisted
# site (OutletRegistry.for_url_or_new: group "site:...") are not: their voices are "unvetted".
_LISTED = "(o.country IS NOT NULL AND o.grp NOT LIKE 'site:%')"


@dataclass(frozen=True)
class StoredDocument:
    id: int
    url: str
    canonical_url: str
    outlet: str
    owner_group: str
    state_media: bool
    title: str | None
    published: datetime | None
    text: str
    content_hash: str
    cluster_id: int | None
    minhash: bytes | None = None
    listed: bool = True  # its outlet is in a registry (outlets file); unlisted outlets are "unvetted"


@dataclass(frozen=True)
class AddResult:
    document_id: int
    outcome: str  # "new" | "updated" | "duplicate" | "unchanged"
    passages: int


@dataclass(frozen=True)
class AbandonedRun:
    """A run whose process died, with the id of its flow run in the orchestrator (still open there)."""

    id: int
    kind: str
    flow_run: str
    pid: str  # of the process that died


def wal(conn: sqlite3.Connection, wait_s: float = 30.0) -> None:
    """Put the database in WAL mode. While another process creates or converts the same file, SQLite
    can answer this pragma "database is locked" at once, without waiting out busy_timeout (seen when
    two ingests start together on a new data folder): retry for up to ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            if not transient or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _create_private(path: Path) -> None:
    """Make ``path`` an empty file only its owner can read (0600) if it does not exist; an existing one is kept."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600))


class Store:
    """One SQLite database. Safe to share between threads (a lock serialises writes)."""

    def __init__(self, path: Path, *, read_only: bool | None = None) -> None:
        """Open (creating if needed) the store at ``path``; ``read_only=None`` opens it read-only
        when it cannot be written, True always does (and never creates it)."""
        self.path = Path(path)
        self.read_only = read_only if read_only is not None else not _writable(self.path)
        if not self.read_only:
            make_folder(self.path.parent)
            try:
                _create_private(self.path)  # SQLite gives its -wal and -shm files the database's mode
                self._conn = self._connect(str(self.path))
                wal(self._conn)
                self._conn.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                if read_only is not None or not self.path.is_file() or not _not_writable(exc):
                    raise StoreError(f"cannot open store {self.path}: {exc}") from None
                with contextlib.suppress(sqlite3.Error, AttributeError):
                    self._conn.close()
                self.read_only = True  # not writable after all (e.g. its folder is, the file's mount is not)
        if self.read_only:
            self._conn = self._open_read_only()
        self._lock = threading.RLock()
        self._migrate()

    @staticmethod
    def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=30.0, check_same_thread=False, isolation_level=None, uri=uri)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise StoreError(f"no store at {self.path}, and its folder is not writable, so none can be made")
        uri = "file:" + quote(str(self.path.resolve())) + "?mode=ro"
        try:
            conn = self._connect(uri, uri=True)
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                # a WAL store needs its -shm file, which a read-only folder cannot hold: read the file as
                # it is (immutable), which is what it is while nobody can write there
                conn.close()
            conn = self._connect(uri + "&immutable=1", uri=True)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path} read-only: {exc}") from None

    # -- plumbing -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception; SQLite's errors become a StoreError."""
        if self.read_only:
            raise StoreError(f"store {self.path} is read-only (its file or folder is not writable); cannot write")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorname", "") in {"SQLITE_BUSY", "SQLITE_LOCKED"} or "locked" in str(exc):
                    raise StoreError(f"store {self.path} is busy: {exc}") from None
                raise StoreError(_sqlite_problem(self.path, exc)) from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(_sqlite_problem(self.path, exc)) from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does that); a second ROLLBACK would hide the cause
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cur = self._conn.execute(sql, params)
                cur.row_factory = sqlite3.Row
                return list(cur.fetchall())
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"store query failed: {exc}") from None

    def _migrate(self) -> None:
        try:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a corroborate store: {exc}") from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema {version}, newer than this corroborate ({SCHEMA_VERSION}); upgrade"
            )
        if self.read_only:
            # cannot be migrated here; every schema since 1 has what the read paths use
            if version == 0:
                raise StoreError(f"{self.path} is not a corroborate store (no schema), and it is read-only")
            return
        while version < SCHEMA_VERSION:
            with self.transaction() as conn:
                # Another process may have migrated while we waited for the write lock: re-read the
                # version under BEGIN IMMEDIATE so each step runs exactly once.
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version >= SCHEMA_VERSION:
                    break
                for statement in _split_sql(MIGRATIONS[version]):
                    conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version={version}")

    def integrity_check(self) -> list[str]:
        """Problems found ([] when healthy): SQLite's own check plus the store's invariants."""
        problems = [r[0] for r in self._query("PRAGMA integrity_check") if r[0] != "ok"]
        orphans = self._query(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.document_id = d.id)"
        )[0][0]
        if orphans:
            problems.append(f"{orphans} documents without passages")
        try:
            with self._lock:
                self._conn.execute("INSERT INTO passages_fts(passages_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"full-text index does not match the passages: {exc}")
        return problems

    # -- meta ---------------------------------------------------------------------------------

    def generation(self) -> int:
        return int(self._query("SELECT value FROM meta WHERE key='generation'")[0][0])

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    # -- outlets ------------------------------------------------------------------------------

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
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO outlets(name, domains, country, language, owner, grp, state_media, kind, fictional)
                   VALUES (?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(name) DO UPDATE SET domains=excluded.domains, country=excluded.country,
                     language=excluded.language, owner=excluded.owner, grp=excluded.grp,
                     state_media=excluded.state_media, kind=excluded.kind, fictional=excluded.fictional""",
                (
                    name,
                    json.dumps(list(domains)),
                    country,
                    language,
                    owner,
                    group or name,
                    int(state_media),
                    kind,
                    int(fictional),
                ),
            )
            row = conn.execute("SELECT id FROM outlets WHERE name=?", (name,)).fetchone()
        return int(row[0])

    def ensure_outlet(self, name: str, domains: Sequence[str] = ()) -> int:
        """The outlet's id, creating it as its own independence group if unknown."""
        rows = self._query("SELECT id FROM outlets WHERE name=?", (name,))
        if rows:
            return int(rows[0][0])
        return self.upsert_outlet(name, domains=domains, group=name)

    def outlets(self) -> list[OutletRow]:
        return [
            OutletRow(r["id"], r["name"], r["grp"], bool(r["state_media"]))
            for r in self._query("SELECT id, name, grp, state_media FROM outlets ORDER BY name")
        ]

    # -- conditional GET validators and the fetch log ------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        rows = self._query("SELECT etag, last_modified FROM validators WHERE url=?", (url,))
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def source_validators(self, outlet: str) -> dict[str, tuple[str | None, str | None]]:
        """(ETag, Last-Modified) of each feed and sitemap of ``outlet``, by URL, as they last answered."""
        rows = self._query("SELECT url, etag, last_modified FROM source_validators WHERE outlet=?", (outlet,))
        return {str(r[0]): (r[1], r[2]) for r in rows}

    def keep_source_validators(self, outlet: str, validators: dict[str, tuple[str | None, str | None]]) -> None:
        """Remember what ``outlet``'s feeds and sitemaps answered with; call once the pages they listed are stored."""
        now = utcnow()
        rows = [(url, outlet, etag, modified, now) for url, (etag, modified) in validators.items() if etag or modified]
        if not rows:
            return
        with self.transaction() as conn:
            conn.executemany(
                """INSERT INTO source_validators(url, outlet, etag, last_modified, checked) VALUES (?,?,?,?,?)
                   ON CONFLICT(url) DO UPDATE SET outlet=excluded.outlet, etag=excluded.etag,
                     last_modified=excluded.last_modified, checked=excluded.checked""",
                rows,
            )

    def has_url(self, url: str) -> bool:
        return bool(self._query("SELECT 1 FROM document_urls WHERE url=?", (url,)))

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
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO fetch_log(run_id, url, outlet, kind, outcome, status, reason, at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (run_id, url, outlet, kind, outcome, status, reason, utcnow()),
            )
            if etag or last_modified:
                conn.execute(
                    """INSERT INTO validators(url, etag, last_modified, status, checked) VALUES (?,?,?,?,?)
                       ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                         status=excluded.status, checked=excluded.checked""",
                    (url, etag, last_modified, status, utcnow()),
                )

    def fetch_log(self, run_id: int | None = None) -> list[dict[str, Any]]:
        if run_id is None:
            rows = self._query("SELECT * FROM fetch_log ORDER BY id")
        else:
            rows = self._query("SELECT * FROM fetch_log WHERE run_id=? ORDER BY id", (run_id,))
        return [dict(r) for r in rows]

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self, kind: str, params: dict[str, Any] | None = None, *, flow_run: str | None = None) -> int:
        """A new ``running`` row owned by this process; rows left ``running`` by dead processes end first.

        ``flow_run`` is the run's id in an orchestrator (Prefect's flow-run id), so that a later
        writer can end it there too should this process die (:meth:`abandoned_flow_runs`).
        """
        with self.transaction() as conn:
            self._end_abandoned_runs(conn)
            cur = conn.execute(
                "INSERT INTO runs(kind, started, status, params, owner, flow_run) VALUES (?,?,?,?,?,?)",
                (kind, utcnow(), "running", json.dumps(params or {}, default=str), this_process(), flow_run),
            )
            return int(cur.lastrowid or 0)

    def end_abandoned_runs(self) -> int:
        """Mark ``abandoned`` the runs left ``running`` by a process that is gone (killed, crashed); how many."""
        with self.transaction() as conn:
            return self._end_abandoned_runs(conn)

    @staticmethod
    def _end_abandoned_runs(conn: sqlite3.Connection) -> int:
        ended = 0
        for run_id, owner in conn.execute("SELECT id, owner FROM runs WHERE status='running' AND owner IS NOT NULL"):
            if process_gone(str(owner)):
                summary = {"status": "abandoned",
                           "error": f"its process (pid {_pid_of(owner)}) ended without finishing it"}
                conn.execute(
                    "UPDATE runs SET finished=?, status='abandoned', summary=? WHERE id=?",
                    (utcnow(), json.dumps(summary), int(run_id)),
                )
                ended += 1
        return ended

    def abandoned_flow_runs(self) -> list[AbandonedRun]:
        """The ``abandoned`` runs with a flow run not yet ended in the orchestrator, oldest first.

        Any writer abandons a dead process's row (``corroborate import`` too, which has no flow
        runs of its own), so a row waits here until flow code ends its flow run and calls
        :meth:`flow_run_ended`.
        """
        rows = self._query("SELECT id, kind, flow_run, owner FROM runs WHERE status='abandoned' "
                           "AND flow_run IS NOT NULL AND flow_run_ended IS NULL ORDER BY id")
        return [AbandonedRun(int(r["id"]), str(r["kind"]), str(r["flow_run"]), _pid_of(r["owner"])) for r in rows]

    def flow_run_ended(self, run_id: int) -> None:
        """Record that the abandoned run ``run_id``'s flow run was ended in the orchestrator."""
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET flow_run_ended=? WHERE id=?", (utcnow(), run_id))

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any] | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished=?, status=?, summary=? WHERE id=?",
                (utcnow(), status, json.dumps(summary or {}, default=str), run_id),
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))]

    # -- documents and passages ----------------------------------------------------------------

    def find_duplicate(self, doc: NewDocument) -> int | None:
        """The id of a stored document with this URL, canonical URL or exact content."""
        rows = self._query(
            """SELECT document_id FROM document_urls WHERE url IN (?, ?)
               UNION ALL SELECT id FROM documents WHERE canonical_url=? OR content_hash=? LIMIT 1""",
            (doc.url, doc.canonical_url, doc.canonical_url, doc.content_hash),
        )
        return int(rows[0][0]) if rows else None

    def stored_hash(self, url: str) -> str | None:
        """Content hash of the document stored under ``url`` (or one of its aliases), None if none is."""
        rows = self._query(
            "SELECT d.content_hash FROM document_urls u JOIN documents d ON d.id = u.document_id WHERE u.url=?", (url,)
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
        """Store a document and its passages atomically; idempotent.

        The same URL with changed text replaces the old version (its passages too); the same
        canonical URL or exact text under another URL is recorded as an alias of the stored one.
        """
        if not spans:
            raise StoreError(f"document {doc.url} has no passages")
        outlet_id = self.ensure_outlet(doc.outlet)
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT d.id, d.content_hash FROM document_urls u JOIN documents d ON d.id = u.document_id"
                " WHERE u.url=?",
                (doc.url,),
            ).fetchone()
            if row is not None and row[1] == doc.content_hash:
                self._set_validators(conn, doc.url, validators)
                return AddResult(int(row[0]), "unchanged", 0)
            if row is None:
                dup = conn.execute(
                    "SELECT id FROM documents WHERE canonical_url=? OR content_hash=? LIMIT 1",
                    (doc.canonical_url, doc.content_hash),
                ).fetchone()
                if dup is not None:
                    conn.execute(
                        "INSERT OR IGNORE INTO document_urls(url, document_id) VALUES (?,?)", (doc.url, int(dup[0]))
                    )
                    self._set_validators(conn, doc.url, validators)
                    return AddResult(int(dup[0]), "duplicate", 0)
            values = (
                doc.canonical_url,
                outlet_id,
                doc.title,
                doc.author,
                _iso(doc.published),
                utcnow(),
                doc.site_name,
                doc.language,
                doc.text,
                doc.content_hash,
                doc.minhash,
                run_id,
            )
            if row is None:
                cur = conn.execute(
                    """INSERT INTO documents(canonical_url, outlet_id, title, author, published, fetched, site_name,
                         language, text, content_hash, minhash, run_id, url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                    (*values, doc.url),
                )
                doc_id = int(cur.lastrowid or 0)
                outcome = "new"
                conn.execute("INSERT OR IGNORE INTO document_urls(url, document_id) VALUES (?,?)", (doc.url, doc_id))
                if doc.canonical_url != doc.url:
                    conn.execute(
                        "INSERT OR IGNORE INTO document_urls(url, document_id) VALUES (?,?)",
                        (doc.canonical_url, doc_id),
                    )
            else:
                doc_id = int(row[0])
                outcome = "updated"
                conn.execute(
                    """UPDATE documents SET canonical_url=?, outlet_id=?, title=?, author=?, published=?, fetched=?,
                         site_name=?, language=?, text=?, content_hash=?, minhash=?, run_id=? WHERE id=?""",
                    (*values, doc_id),
                )
                conn.execute("DELETE FROM passages WHERE document_id=?", (doc_id,))
            conn.execute(
                "UPDATE documents SET cluster_id=? WHERE id=?",
                (cluster_id if cluster_id is not None else doc_id, doc_id),
            )
            conn.executemany(
                "INSERT INTO passages(document_id, seq, start, end, text) VALUES (?,?,?,?,?)",
                [(doc_id, i, s.start, s.end, s.text) for i, s in enumerate(spans)],
            )
            self._set_validators(conn, doc.url, validators)
            self._bump(conn)
        return AddResult(doc_id, outcome, len(spans))

    @staticmethod
    def _set_validators(conn: sqlite3.Connection, url: str, validators: tuple[str | None, str | None]) -> None:
        etag, last_modified = validators
        if etag or last_modified:
            conn.execute(
                """INSERT INTO validators(url, etag, last_modified, status, checked) VALUES (?,?,?,200,?)
                   ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                     status=200, checked=excluded.checked""",
                (url, etag, last_modified, utcnow()),
            )

    def cluster_of(self, document_id: int) -> int | None:
        rows = self._query("SELECT cluster_id FROM documents WHERE id=?", (document_id,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def minhashes(self) -> Iterator[tuple[int, bytes]]:
        for r in self._query("SELECT id, minhash FROM documents WHERE minhash IS NOT NULL"):
            yield int(r[0]), bytes(r[1])

    def document_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM documents")[0][0])

    def passage_count(self, languages: Collection[str] | None = None) -> int:
        """Passages stored; with ``languages``, only those of documents in them (or of undetermined language)."""
        if languages is None:
            return int(self._query("SELECT COUNT(*) FROM passages")[0][0])
        where, params = _read_in(languages)
        sql = f"SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.document_id WHERE {where}"
        return int(self._query(sql, params)[0][0])

    def documents(self, ids: Iterable[int]) -> dict[int, StoredDocument]:
        wanted = sorted(set(ids))
        out: dict[int, StoredDocument] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for r in self._query(
                f"""SELECT d.id, d.url, d.canonical_url, o.name AS outlet, o.grp, o.state_media, d.title, d.published,
                       d.text, d.content_hash, d.cluster_id, d.minhash, {_LISTED} AS listed
                    FROM documents d JOIN outlets o ON o.id = d.outlet_id WHERE d.id IN ({marks})""",
                chunk,
            ):
                out[int(r["id"])] = StoredDocument(
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
        return out

    def document_by_url(self, url: str) -> StoredDocument | None:
        rows = self._query("SELECT document_id FROM document_urls WHERE url=?", (url,))
        if not rows:
            return None
        return self.documents([int(rows[0][0])]).get(int(rows[0][0]))

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        wanted = sorted(set(int(i) for i in ids))
        out: dict[int, Passage] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for r in self._query(
                f"""SELECT p.id, p.document_id, p.start, p.end, p.text, d.url, d.title, d.published, d.cluster_id,
                           o.name AS outlet, o.grp, o.state_media
                    FROM passages p JOIN documents d ON d.id = p.document_id JOIN outlets o ON o.id = d.outlet_id
                    WHERE p.id IN ({marks})""",
                chunk,
            ):
                out[int(r["id"])] = Passage(
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
        return out

    def passage_ids(self, languages: Collection[str] | None = None) -> npt.NDArray[np.int64]:
        """Ids of the stored passages; with ``languages``, as :meth:`passage_count` counts them."""
        if languages is None:
            rows = self._query("SELECT id FROM passages ORDER BY id")
        else:
            where, params = _read_in(languages)
            rows = self._query(
                f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.document_id WHERE {where} ORDER BY p.id",
                params,
            )
        return np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))

    def unembedded(
        self, limit: int = 1024, after: int = -1, languages: Collection[str] | None = None
    ) -> list[tuple[int, str]]:
        """Passages without an embedding, by id, starting after passage ``after``; with ``languages``,
        only those of documents in them (or of undetermined language): the others are never embedded.

        Callers walking through all of them pass the last id they got: the query then seeks on the
        primary key instead of rescanning every embedded passage from the start each time, which
        made embedding a million passages quadratic.
        """
        if languages is None:
            rows = self._query(
                "SELECT id, text FROM passages WHERE id > ? AND embedding IS NULL ORDER BY id LIMIT ?", (after, limit)
            )
        else:
            where, params = _read_in(languages)
            rows = self._query(
                "SELECT p.id, p.text FROM passages p JOIN documents d ON d.id = p.document_id"
                f" WHERE p.id > ? AND p.embedding IS NULL AND {where} ORDER BY p.id LIMIT ?",
                (after, *params, limit),
            )
        return [(int(r[0]), str(r[1])) for r in rows]

    def unembedded_count(self, languages: Collection[str] | None = None) -> int:
        if languages is None:
            return int(self._query("SELECT COUNT(*) FROM passages WHERE embedding IS NULL")[0][0])
        where, params = _read_in(languages)
        return int(self._query("SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.document_id"
                               f" WHERE p.embedding IS NULL AND {where}", params)[0][0])

    def set_embeddings(self, ids: Sequence[int], vectors: npt.NDArray[np.float32]) -> None:
        if len(ids) != len(vectors):
            raise StoreError("embedding count does not match passage count")
        half = vectors.astype(EMBEDDING_DTYPE)
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE passages SET embedding=? WHERE id=?",
                [(half[i].tobytes(), int(pid)) for i, pid in enumerate(ids)],
            )

    def embeddings(
        self, ids: Sequence[int] | None = None, batch: int = 20_000
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
        """Stored embeddings in batches of (ids, float32 vectors); passages not embedded yet are skipped."""
        if ids is None:
            last = -1
            while True:
                rows = self._query(
                    "SELECT id, embedding FROM passages WHERE embedding IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                    (last, batch),
                )
                if not rows:
                    return
                yield _decode(rows)
                last = int(rows[-1][0])
        else:
            for chunk in _chunks(sorted(int(i) for i in ids), min(batch, 900)):
                marks = ",".join("?" * len(chunk))
                rows = self._query(
                    f"SELECT id, embedding FROM passages WHERE embedding IS NOT NULL AND id IN ({marks}) ORDER BY id",
                    chunk,
                )
                if rows:
                    yield _decode(rows)

    def keyword_search(self, query: str, k: int, languages: Collection[str] | None = None) -> list[tuple[int, float]]:
        """BM25 full-text search: (passage id, score, higher is better); with ``languages``, only
        passages of documents in them (or of undetermined language)."""
        match = fts_query(query)
        if not match:
            return []
        if languages is None:
            rows = self._query(
                "SELECT rowid, bm25(passages_fts) FROM passages_fts WHERE passages_fts MATCH ?"
                " ORDER BY bm25(passages_fts) LIMIT ?",
                (match, k),
            )
        else:
            where, params = _read_in(languages)
            rows = self._query(
                "SELECT passages_fts.rowid, bm25(passages_fts) FROM passages_fts"
                " JOIN passages p ON p.id = passages_fts.rowid JOIN documents d ON d.id = p.document_id"
                f" WHERE passages_fts MATCH ? AND {where} ORDER BY bm25(passages_fts) LIMIT ?",
                (match, *params, k),
            )
        return [(int(r[0]), -float(r[1])) for r in rows]

    def other_language_reports(
        self, names: Sequence[str], languages: Collection[str], exclude_outlets: Collection[str] = ()
    ) -> dict[str, int]:
        """Documents in a language outside ``languages`` that name the claim's ``names`` (all of them, or
        at least two when there are more), by language: the reports left unread on the same names."""
        phrases = list(dict.fromkeys(p for p in (_fts_phrase(n) for n in names) if p))[:8]
        if not phrases:
            return {}
        need = min(2, len(phrases))
        where, params = _read_in(languages)
        hits = " UNION ALL ".join(
            f"SELECT DISTINCT p.document_id AS doc, {i} AS name FROM passages_fts"
            " JOIN passages p ON p.id = passages_fts.rowid WHERE passages_fts MATCH ?"
            for i in range(len(phrases))
        )
        outlets = list(exclude_outlets)
        skip = f" AND o.name NOT IN ({','.join('?' * len(outlets))})" if outlets else ""
        rows = self._query(
            f"""SELECT d.language, COUNT(*) FROM (SELECT doc FROM ({hits}) GROUP BY doc HAVING COUNT(*) >= ?) h
                JOIN documents d ON d.id = h.doc JOIN outlets o ON o.id = d.outlet_id
                WHERE NOT ({where}){skip} GROUP BY d.language ORDER BY d.language""",
            (*phrases, need, *params, *outlets),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    # -- checks ---------------------------------------------------------------------------------

    def save_check(self, kind: str, source: str | None, title: str | None, report: dict[str, Any]) -> int:
        """Keep a check's report (the JSON of report.py) with one row per sentence and verdict."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO checks(created, kind, source, title, report) VALUES (?,?,?,?,?)",
                (utcnow(), kind, source, title, json.dumps(report, default=str)),
            )
            check_id = int(cur.lastrowid or 0)
            for i, claim in enumerate(report.get("claims", [])):
                c = conn.execute(
                    "INSERT INTO claims(check_id, idx, text, is_claim) VALUES (?,?,?,?)",
                    (check_id, i, claim.get("text", ""), int(bool(claim.get("is_claim")))),
                )
                if claim.get("status"):
                    conn.execute(
                        "INSERT INTO verdicts(claim_id, status, confidence, voices_for, voices_against, flags)"
                        " VALUES (?,?,?,?,?,?)",
                        (
                            int(c.lastrowid or 0),
                            claim["status"],
                            float(claim.get("confidence") or 0.0),
                            len(claim.get("voices_for", [])),
                            len(claim.get("voices_against", [])),
                            json.dumps(claim.get("flags", [])),
                        ),
                    )
        return check_id


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None when there is no such process
    (or it is a zombie: killed, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name, in parentheses, may hold spaces
    if len(fields) < 20 or fields[0] == "Z":
        return None
    return fields[19]


def process_name(pid: int) -> str:
    """``host/pid/start time``: names process ``pid`` so that a reused pid is not mistaken for it."""
    return f"{socket.gethostname()}/{pid}/{_start_time(pid) or ''}"


def this_process() -> str:
    """This process's :func:`process_name`."""
    return process_name(os.getpid())


def _pid_of(owner: object) -> str:
    """The pid in a :func:`process_name` (as text, for messages)."""
    parts = str(owner).rsplit("/", 2)
    return parts[-2] if len(parts) == 3 else "?"


def process_gone(owner: str) -> bool:
    """Whether the process named by :func:`process_name` has ended; False when that cannot be told
    (another host, an unreadable name)."""
    try:
        host, pid_text, start = owner.rsplit("/", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid <= 0:
        return False
    if start and Path("/proc/self/stat").exists():
        return _start_time(pid) != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: someone else's process, alive
        return False
    return False


_FTS_WORD = None


def _read_in(languages: Collection[str]) -> tuple[str, list[str]]:
    """SQL condition on ``d`` (documents) for "read in one of ``languages``": a document whose language
    could not be told counts as read, as every document did before languages were told apart."""
    codes = sorted(set(languages))
    if not codes:
        return "d.language IS NULL", []
    return f"(d.language IS NULL OR d.language IN ({','.join('?' * len(codes))}))", codes


def _fts_phrase(name: str) -> str:
    """An FTS5 phrase query for a name ("Angela Merkel" -> '"angela merkel"'), '' when it has no word."""
    import re

    words = [w for w in re.findall(r"\w+", name.lower(), re.UNICODE) if w]
    return '"' + " ".join(words) + '"' if words else ""


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression OR-ing the text's words (quoted, so no FTS syntax leaks through)."""
    import re

    global _FTS_WORD
    if _FTS_WORD is None:
        _FTS_WORD = re.compile(r"\w+", re.UNICODE)
    words = [w for w in _FTS_WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]
    seen: list[str] = []
    for w in words:
        if w not in seen:
            seen.append(w)
    return " OR ".join(f'"{w}"' for w in seen[:64])




def _decode(rows: list[sqlite3.Row]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=EMBEDDING_DTYPE).reshape(len(rows), -1)
    return ids, vecs.astype(np.float32)


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
    statements: list[str] = []
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            buf = []
    if "\n".join(buf).strip():
        statements.append("\n".join(buf))
    return statements
