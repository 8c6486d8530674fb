"""``corroborate store copy``: carry a data folder's SQLite corpus into a PostgreSQL store, embeddings and all.

Every table is copied row for row with its ids (documents, passages, runs, checks keep their numbers,
so cluster and run references stay right), the passages with their stored embeddings (nothing is
embedded again). Rows go over in batches, each batch one transaction (``COPY``), in id order, so a
copy that is interrupted (Ctrl-C, a lost connection, a killed process) resumes where the target's
rows end: run the same command again. The target must be a new database or one this same source
was being copied into (``meta.copied_from``); the source's writer lock is held throughout, so no
ingest changes it meanwhile.

At the end each table is verified: the row count and a SHA-256 over all its rows (every column the
two stores share, in key order) must be the same on both sides; then the id sequences are moved
past the copied ids, the dedup keys are filled in and the generation is bumped, so every host's
index cache is rebuilt from the copied embeddings.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from corroborate.corpus.dburl import redact_url, scrub
from corroborate.corpus.lock import writer_lock
from corroborate.corpus.pgstore import PostgresStore
from corroborate.corpus.store import Store
from corroborate.errors import StoreError

# (table, key column) in an order that satisfies the foreign keys; ``id`` keys are integers
TABLES: tuple[tuple[str, str], ...] = (
    ("outlets", "id"),
    ("runs", "id"),
    ("documents", "id"),
    ("document_urls", "url"),
    ("passages", "id"),
    ("validators", "url"),
    ("source_validators", "url"),
    ("fetch_log", "id"),
    ("checks", "id"),
    ("claims", "id"),
    ("verdicts", "claim_id"),
)
SERIAL = ("outlets", "runs", "documents", "passages", "fetch_log", "checks", "claims")
GENERATED = {"passages": {"tsv"}}  # computed by PostgreSQL from the copied columns
Progress = Callable[[str, int, int], None]


@dataclass
class TableCopy:
    table: str
    source: int = 0
    copied: int = 0  # rows sent by this run (a resumed copy sends only the rest)
    target: int = 0
    source_sha256: str = ""
    target_sha256: str = ""

    @property
    def verified(self) -> bool:
        return self.source == self.target and self.source_sha256 == self.target_sha256


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    seconds: float = 0.0
    resumed: bool = False
    skipped: list[str] = field(default_factory=list)  # tables only one side has

    @property
    def verified(self) -> bool:
        return all(t.verified for t in self.tables)


def copy_to_postgres(
    home: Path, url: str, *, batch: int = 2000, progress: Progress | None = None
) -> CopyReport:
    """Copy the SQLite store of data folder ``home`` into the PostgreSQL store at ``url``; raises StoreError
    when the target holds another corpus or the copy does not verify."""
    db = home / "corroborate.db"
    if not db.is_file():
        raise StoreError(f"no SQLite store at {db} to copy")
    started = time.monotonic()
    with writer_lock(home, timeout=0, what="store copy"):
        Store(db).close()  # the source at the current schema
        target = PostgresStore(url)  # the target's schema, made or checked (one-line errors)
        target.close()
        source = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
        try:
            return _copy(source, str(db.resolve()), url, batch, progress, started)
        finally:
            source.close()


def _copy(source: sqlite3.Connection, source_name: str, url: str, batch: int, progress: Progress | None,
          started: float) -> CopyReport:
    import psycopg

    report = CopyReport(source=source_name, target=redact_url(url))
    try:
        conn = psycopg.connect(url, autocommit=True, application_name="corroborate store copy")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL store {redact_url(url)}: {scrub(str(exc), url)}") from None
    try:
        with conn:
            report.resumed = _claim_target(conn, source_name, url)
            for table, key in TABLES:
                columns = _common_columns(source, conn, table)
                if columns is None:
                    report.skipped.append(table)
                    continue
                done = TableCopy(table)
                done.source = int(source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                done.copied = _copy_table(source, conn, table, key, columns, batch, done.source, progress)
                report.tables.append(done)
            _finish(conn)
            for done in report.tables:
                columns = _common_columns(source, conn, done.table) or []
                key = dict(TABLES)[done.table]
                done.target = int(_pg_one(conn, f"SELECT COUNT(*) FROM {done.table}"))
                done.source_sha256 = _digest(_sqlite_rows(source, done.table, key, columns))
                done.target_sha256 = _digest(_pg_rows(conn, done.table, key, columns))
            if not report.verified:
                bad = ", ".join(f"{t.table} ({t.source} rows here, {t.target} there"
                                f"{'' if t.source_sha256 == t.target_sha256 else ', contents differ'})"
                                for t in report.tables if not t.verified)
                raise StoreError(f"the copy in {redact_url(url)} does not match {source_name}: {bad}; run it "
                                 "again to resume, or copy into a new database")
            conn.execute("INSERT INTO meta(key, value) VALUES ('copy_verified', %s) ON CONFLICT (key) DO UPDATE "
                         "SET value = excluded.value", (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),))
    except psycopg.Error as exc:
        raise StoreError(f"copy into PostgreSQL store {redact_url(url)} failed: {scrub(str(exc), url)}; "
                         "run the same command again to resume") from None
    report.seconds = time.monotonic() - started
    return report


def _pg_one(conn: Any, sql: str, params: Sequence[Any] | None = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _claim_target(conn: Any, source_name: str, url: str) -> bool:
    """Mark the target as a copy of ``source_name``; True when it already was (a resumed copy)."""
    copied_from = _pg_one(conn, "SELECT value FROM meta WHERE key='copied_from'")
    if copied_from is not None:
        if copied_from != source_name:
            raise StoreError(f"PostgreSQL store {redact_url(url)} is a copy of {copied_from}, not of {source_name}; "
                             "copy into a new database")
        return True
    holds = [t for t in ("documents", "runs", "checks") if _pg_one(conn, f"SELECT EXISTS (SELECT 1 FROM {t})")]
    if holds:
        raise StoreError(f"PostgreSQL store {redact_url(url)} already holds a corpus ({', '.join(holds[:3])} are not "
                         "empty); copy into a new database")
    conn.execute("INSERT INTO meta(key, value) VALUES ('copied_from', %s)", (source_name,))
    return False


def _common_columns(source: sqlite3.Connection, conn: Any, table: str) -> list[str] | None:
    """The columns both stores have for ``table`` (source order), None when one side has no such table."""
    here = [str(r[1]) for r in source.execute(f"PRAGMA table_info({table})")]
    there = {str(r[0]) for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s", (table,))}
    if not here or not there:
        return None
    return [c for c in here if c in there and c not in GENERATED.get(table, set())]


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _copy_table(source: sqlite3.Connection, conn: Any, table: str, key: str, columns: list[str], batch: int,
                total: int, progress: Progress | None) -> int:
    """Send the rows the target lacks; each batch is one transaction, so an interruption loses at most one."""
    sent = 0
    if key == "id" or key == "claim_id":
        last = _pg_one(conn, f'SELECT MAX("{key}") FROM {table}')
        last = -1 if last is None else int(last)
        have = int(_pg_one(conn, f"SELECT COUNT(*) FROM {table}"))
        while True:
            rows = source.execute(
                f'SELECT {_quoted(columns)} FROM {table} WHERE "{key}" > ? ORDER BY "{key}" LIMIT ?', (last, batch)
            ).fetchall()
            if not rows:
                return sent
            with conn.transaction(), conn.cursor() as cur, cur.copy(f"COPY {table} ({_quoted(columns)}) FROM STDIN") \
                    as copy:
                for row in rows:
                    copy.write_row(_clean(row))
            last = int(rows[-1][columns.index(key)])
            sent += len(rows)
            if progress:
                progress(table, have + sent, total)
    # text keys: few rows per document; rows already there are left as they are
    marks = ", ".join(["%s"] * len(columns))
    offset = 0
    while True:
        rows = source.execute(
            f'SELECT {_quoted(columns)} FROM {table} ORDER BY "{key}" LIMIT ? OFFSET ?', (batch, offset)
        ).fetchall()
        if not rows:
            return sent
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(f'INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks}) ON CONFLICT ("{key}") '
                            "DO NOTHING", [_clean(r) for r in rows])
        offset += len(rows)
        sent += len(rows)
        if progress:
            progress(table, offset, total)


def _clean(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def _finish(conn: Any) -> None:
    """Sequences past the copied ids, the dedup keys of the copied documents, a new generation."""
    with conn.transaction():
        for table in SERIAL:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"GREATEST((SELECT MAX(id) FROM {table}), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)")
        conn.execute("INSERT INTO dedup_keys(key, document_id) SELECT 'canonical:' || canonical_url, MIN(id) "
                     "FROM documents GROUP BY canonical_url ON CONFLICT (key) DO NOTHING")
        conn.execute("INSERT INTO dedup_keys(key, document_id) SELECT 'hash:' || content_hash, MIN(id) "
                     "FROM documents GROUP BY content_hash ON CONFLICT (key) DO NOTHING")
        conn.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key='generation'")


def _sqlite_rows(source: sqlite3.Connection, table: str, key: str, columns: list[str]) -> Iterator[Sequence[Any]]:
    cur = source.execute(f'SELECT {_quoted(columns)} FROM {table} ORDER BY "{key}"')
    while rows := cur.fetchmany(5000):
        yield from rows


def _pg_rows(conn: Any, table: str, key: str, columns: list[str]) -> Iterator[Sequence[Any]]:
    # byte order, as SQLite's BINARY collation sorts text keys
    order = f'"{key}" COLLATE "C"' if key not in ("id", "claim_id") else f'"{key}"'
    with conn.transaction(), conn.cursor(name=f"verify_{table}") as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT {_quoted(columns)} FROM {table} ORDER BY {order}")
        yield from cur


def _digest(rows: Iterator[Sequence[Any]]) -> str:
    h = hashlib.sha256()
    for row in rows:
        for value in row:
            if value is None:
                h.update(b"\x00N")
            elif isinstance(value, (bytes, bytearray, memoryview)):
                h.update(b"\x00B" + bytes(value))
            elif isinstance(value, float):
                h.update(b"\x00F" + repr(value).encode())
            else:
                h.update(b"\x00S" + str(value).encode("utf-8", "surrogatepass"))
        h.update(b"\x01")
    return h.hexdigest()
