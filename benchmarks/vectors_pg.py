"""Vectors for many readers: pgvector in the shared PostgreSQL beside the per-host FAISS cache.

What is compared, at each size (default 100k passages):

- **pgvector** (0.6, in pgserver's PostgreSQL 16, corroborate.corpus.pglocal, PostgreSQL's default settings
  but ``--shared-buffers``): a table ``(id bigint, emb16 bytea, embedding vector(384))`` loaded with binary
  COPY (``emb16`` is corroborate's stored float16 embedding, the column the FAISS cache is built from);
  the exact scan (no index), HNSW (``vector_cosine_ops``, pgvector's default m 16, ef_construction 64) at
  ``hnsw.ef_search`` 40 and 100, and IVFFlat (lists = rows / 1000, a probes sweep). Queries as a checker
  sends them: one at a time from this process over TCP loopback with a password, ``ORDER BY embedding
  <=> q LIMIT 50`` (dense_k).
- **the per-host FAISS cache** as corroborate builds it today (corroborate.corpus.index: the kind
  ``choose_kind`` picks for the size, and ivf_sq8, the kind it picks from 500k): the stored float16
  embeddings read from PostgreSQL in 20k batches, added to a VectorIndex (the build time is the
  cache's rebuild time), searched one query at a time on one thread, top 50.

Vectors: real MiniLM vectors of real text (benchmarks/common.py ``sentence_vectors``: FNC-1 body
sentences and SNLI sentences, embedded once and cached under $CORROBORATE_BENCH_CACHE, default
/tmp/corroborate-bench, never committed). Random unit vectors would make approximate recall meaningless:
they have no neighbourhoods. Past the number of cached real vectors a size is filled with real vectors
plus small noise (``common.variants``), and the table says so. Queries are held-out texts, never indexed:
200 FNC-1 headlines (the claims ``check`` gets) and the 100 last cached sentences (not indexed).
Ground truth: exact top 10 / top 50 by inner product over the float32 vectors (unit length, so the
same order as cosine). Memory per checker: for FAISS the RSS the index adds to the checker's process;
for pgvector the private memory (RssAnon) of the server process serving the checker's connection after
its queries, the index itself living once in the server (its size on disk, cached in shared buffers and
the page cache, shared by every reader).

    python benchmarks/vectors_pg.py [--sizes 100000] [--real 100400] [--json out.json]
        [--shared-buffers 1GB] [--no-ivfflat] [--faiss-kinds flat,ivf_sq8]

The first run embeds the sentences it lacks (about 45 sentences/s on this loaded 2-core machine: 100k
take half an hour); later runs read the cache.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from common import CACHE, Report, base_args, fnc_headlines, machine_info, ms, percentile, rss_mib, sentence_vectors
from common import variants as noisy_variants

from corroborate.corpus.index import VectorIndex, choose_kind
from corroborate.settings import Settings

DIM = 384
K = 50  # dense_k: what a check asks the dense side for
HELD_POOL = 100  # the last cached sentences: never indexed, used as queries
CLAIM_QUERIES = 200
BATCH = 20_000  # PostgresStore.embeddings' batch


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def trimmed_rss_mib() -> float:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def claim_vectors(count: int) -> npt.NDArray[np.float32]:
    """MiniLM vectors of the first ``count`` unique FNC-1 headlines, cached beside the sentence vectors."""
    from corroborate.corpus.embed import MODEL_NAME, load_embedder

    key = hashlib.sha256(MODEL_NAME.encode()).hexdigest()[:12]
    path = CACHE / f"headline-vectors-{key}-{count}.npy"
    if path.exists():
        return np.load(path)
    vecs = load_embedder().encode(fnc_headlines()[:count], batch_size=64).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def exact(data: npt.NDArray[np.float32], queries: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
    """Exact top ``k`` ids (row numbers) by inner product."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for i in range(0, len(queries), 50):
        scores = queries[i : i + 50] @ data.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[i : i + 50] = np.take_along_axis(top, order, axis=1)
    return out


def recall(found: list[list[int]], truth: npt.NDArray[np.int64], k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k].tolist())) / k for f, t in zip(found, truth, strict=True)]))


# -- pgvector -----------------------------------------------------------------------------------------


def copy_binary(rows: npt.NDArray[np.float32], first_id: int) -> bytes:
    """Rows (id int8, emb16 bytea, embedding vector) in PostgreSQL's binary COPY format, without header/trailer.

    pgvector's binary form: int16 dimension, int16 unused, then the float4s, all big-endian.
    """
    n, d = rows.shape
    half = rows.astype("<f2")  # corroborate stores float16 little-endian bytes (PostgresStore.set_embeddings)
    rec = np.dtype([
        ("nfields", ">i2"), ("len_id", ">i4"), ("id", ">i8"),
        ("len_e16", ">i4"), ("e16", "V", 2 * d),
        ("len_vec", ">i4"), ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (d,)),
    ])
    out = np.zeros(n, dtype=rec)
    out["nfields"] = 3
    out["len_id"] = 8
    out["id"] = np.arange(first_id, first_id + n)
    out["len_e16"] = 2 * d
    out["e16"] = half.view(f"V{2 * d}").reshape(n)
    out["len_vec"] = 4 + 4 * d
    out["dim"] = d
    out["vec"] = rows
    return out.tobytes()


def load_table(conn: Any, chunks: Iterator[npt.NDArray[np.float32]]) -> tuple[float, int]:
    conn.execute(f"CREATE TABLE items (id bigint PRIMARY KEY, emb16 bytea NOT NULL, embedding vector({DIM}) NOT NULL)")
    # kept in the row (pgvector's advice): else a 2.3 kB row moves its vector out to TOAST and a scan reads both
    conn.execute("ALTER TABLE items ALTER COLUMN embedding SET STORAGE PLAIN")
    start = time.perf_counter()
    n = 0
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    with conn.cursor() as cur, cur.copy("COPY items (id, emb16, embedding) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(header)
        for chunk in chunks:
            copy.write(copy_binary(chunk, n))
            n += len(chunk)
        copy.write((-1).to_bytes(2, "big", signed=True))
    conn.execute("VACUUM ANALYZE items")
    return time.perf_counter() - start, n


def literal(v: npt.NDArray[np.float32]) -> str:
    return "[" + ",".join(f"{x:.8g}" for x in v.tolist()) + "]"


def pg_queries(conn: Any, queries: list[str], settings: dict[str, str]) -> tuple[list[list[int]], list[float], int]:
    """Each query alone, as a checker sends it; (ids per query, seconds per query, fewest rows returned).

    Raises when the planner does not use the index the settings are for (a small table is scanned instead).
    """
    for name, value in settings.items():
        conn.execute(f"SET {name} = {value}")
    sql = "SELECT id FROM items ORDER BY embedding <=> %s::vector LIMIT %s"
    plan = " ".join(str(r[0]) for r in conn.execute("EXPLAIN " + sql, (queries[0], K)).fetchall())
    if settings and "Index Scan" not in plan:
        raise SystemExit(f"the planner does not use the index with {settings}: {plan}")
    for q in queries[:10]:  # warm: pages into the buffers, the statement prepared
        conn.execute(sql, (q, K), prepare=True).fetchall()
    found: list[list[int]] = []
    times: list[float] = []
    for q in queries:
        t = time.perf_counter()
        rows = conn.execute(sql, (q, K), prepare=True).fetchall()
        times.append(time.perf_counter() - t)
        found.append([int(r[0]) for r in rows])
    for name in settings:
        conn.execute(f"RESET {name}")
    return found, times, min(len(f) for f in found)


def backend_memory(conn: Any) -> tuple[float, float]:
    """Private (RssAnon) and shared-memory (RssShmem) MiB of the server process serving ``conn``."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    fields: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("RssAnon", "RssShmem"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("RssAnon", float("nan")), fields.get("RssShmem", float("nan"))


def relation_mib(conn: Any, name: str) -> float:
    return float(conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()[0]) / 2**20


# -- FAISS, the per-host cache -------------------------------------------------------------------------


def faiss_cache(conn: Any, kind: str, settings: Settings) -> tuple[VectorIndex, float, float]:
    """The cache as sync_index builds it from PostgreSQL: float16 embeddings in id order, 20k a batch."""
    gc.collect()
    before = trimmed_rss_mib()
    start = time.perf_counter()
    index = VectorIndex.empty(kind, "bench", DIM, settings)
    last = -1
    while True:
        rows = conn.execute("SELECT id, emb16 FROM items WHERE id > %s ORDER BY id LIMIT %s", (last, BATCH)).fetchall()
        if not rows:
            break
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f2").reshape(len(rows), DIM).astype(np.float32)
        index.add(ids, vecs)
        last = int(ids[-1])
        del rows
    seconds = time.perf_counter() - start
    gc.collect()
    return index, seconds, max(0.0, trimmed_rss_mib() - before)


def faiss_queries(index: VectorIndex, queries: npt.NDArray[np.float32]) -> tuple[list[list[int]], list[float]]:
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one query has no parallelism worth a thread team (index_scale.py)
    try:
        for q in queries[:10]:
            index.search(q[None, :], K)
        found, times = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], K)
            times.append(time.perf_counter() - t)
            found.append([int(i) for i in ids[0] if i >= 0])
    finally:
        faiss.omp_set_num_threads(threads)
    return found, times


# -- the run --------------------------------------------------------------------------------------------


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--sizes", help="comma-separated passage counts (default 100000; quick 20000)")
    parser.add_argument("--real", type=int, help="real sentences to embed/cache (default 100,400; quick 20,400)")
    parser.add_argument("--shared-buffers", default="1GB", help="the server's shared_buffers (pgserver's is 128MB)")
    parser.add_argument("--no-ivfflat", action="store_true", help="skip pgvector's IVFFlat")
    parser.add_argument("--exact-queries", type=int, default=30,
                        help="queries the exact scan (no index) is timed on: it reads every row, seconds a query")
    parser.add_argument("--faiss-kinds", help="FAISS kinds (default: the one choose_kind picks, and ivf_sq8)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20_000] if args.quick else [100_000])
    real = args.real or (20_400 if args.quick else 100_400)
    report = Report("vectors_pg")
    report.note(f"machine: {machine_info()}")
    start = time.perf_counter()
    _, pool = sentence_vectors(real)
    base, held = pool[:-HELD_POOL], pool[-HELD_POOL:]
    queries = np.concatenate([claim_vectors(CLAIM_QUERIES), held]).astype(np.float32)
    report.note(f"{len(base):,} real sentence vectors to index, {len(queries)} held-out queries ({CLAIM_QUERIES} FNC-1 "
                f"headlines, {HELD_POOL} unindexed sentences) ready in {time.perf_counter() - start:.0f} s")
    texts = [literal(q) for q in queries]
    settings = Settings()
    rows: list[list[str]] = []
    import psycopg

    from corroborate.corpus.pglocal import LocalPostgres

    with tempfile.TemporaryDirectory(prefix="corroborate-vectorbench-") as tmp:
        server = LocalPostgres(Path(tmp) / "pg").start()
        try:
            server.sql(f"ALTER SYSTEM SET shared_buffers = '{args.shared_buffers}'")
            server.restart()
            server.create_role("bench", "bench")
            version = server.sql("SELECT version()")[0][0].split(",")[0]
            for n in sizes:
                db = f"vec{n}"
                server.create_database(db, "bench")
                server.sql("CREATE EXTENSION vector", db)
                pgv = server.sql("SELECT extversion FROM pg_extension WHERE extname = 'vector'", db)[0][0]
                filled = "real" if n <= len(base) else f"{len(base):,} real + {n - len(base):,} real with noise"
                report.note(f"{n:,}: {version}, pgvector {pgv}, shared_buffers {args.shared_buffers}; vectors: "
                            f"{filled}; load average {load_average()}")
                data = np.concatenate(list(noisy_variants(base, n, seed=n))) if n > len(base) else base[:n]
                truth = exact(data, queries, K)
                rows += run_size(server.url(db, "bench", "bench"), n, data, texts, queries, truth, settings, args,
                                 report, psycopg)
                del data
                gc.collect()
                server.drop_database(db)
        finally:
            server.stop()
    report.table(
        "Dense search for a check: pgvector in the shared database beside the per-host FAISS cache "
        f"({len(queries)} held-out real queries, one at a time, top {K}; recall against exact float32 search)",
        ["passages", "method", "build s", "recall@10", "recall@50", "rows", "p50 ms", "p95 ms", "size MiB",
         "memory per checker MiB"], rows)
    report.note(f"load average at the end: {load_average()}")
    report.save(args.json)


def run_size(url: str, n: int, data: npt.NDArray[np.float32], texts: list[str], queries: npt.NDArray[np.float32],
             truth: npt.NDArray[np.int64], settings: Settings, args: Any, report: Report,
             psycopg: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    size = f"{n:,}"

    def row(method: str, build: str, found: list[list[int]], times: list[float], fewest: int, mib: str,
            per_checker: str, against: npt.NDArray[np.int64] | None = None) -> None:
        exact_ids = truth if against is None else against
        r10, r50 = recall(found, exact_ids, 10), recall(found, exact_ids, K)
        rows.append([size, method, build, f"{r10:.3f}", f"{r50:.3f}", str(fewest), ms(percentile(times, 50)),
                     ms(percentile(times, 95)), mib, per_checker])
        report.note(f"  {' | '.join(rows[-1])} (load average {load_average()})")

    with psycopg.connect(url, autocommit=True) as conn:
        load_s, count = load_table(conn, iter(np.array_split(data, max(1, n // 10_000))))
        table_mib = relation_mib(conn, "items")
        report.note(f"{size}: {count:,} rows loaded by binary COPY (+ VACUUM ANALYZE) in {load_s:.1f} s; table "
                    f"{table_mib:.0f} MiB (float32 vector + float16 bytea)")
        few = args.exact_queries
        found, times, fewest = pg_queries(conn, texts[:few], {})
        anon, _ = backend_memory(conn)
        row(f"pgvector exact scan (first {few} queries)", "", found, times, fewest, "", f"{anon:.0f} (server process)",
            truth[:few])

        conn.execute("SET maintenance_work_mem = '2GB'")
        t = time.perf_counter()
        conn.execute("CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops)")
        hnsw_s = time.perf_counter() - t
        hnsw_mib = relation_mib(conn, "items_hnsw")
        for ef in (40, 100):
            found, times, fewest = pg_queries(conn, texts, {"hnsw.ef_search": str(ef)})
            anon, shm = backend_memory(conn)
            row(f"pgvector HNSW m=16 ef_construction=64, ef_search={ef}", f"{hnsw_s:.1f}", found, times, fewest,
                f"{hnsw_mib:.0f} (index)", f"{anon:.0f} private + {shm:.0f} shared buffers touched (server)")
        conn.execute("DROP INDEX items_hnsw")

        if not args.no_ivfflat:
            lists = max(1, n // 1000)
            t = time.perf_counter()
            conn.execute(f"CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_cosine_ops) "
                         f"WITH (lists = {lists})")
            ivf_s = time.perf_counter() - t
            ivf_mib = relation_mib(conn, "items_ivf")
            for probes in sorted({1, max(1, int(lists**0.5)), max(1, lists // 10), max(1, lists // 5)}):
                found, times, fewest = pg_queries(conn, texts, {"ivfflat.probes": str(probes)})
                anon, shm = backend_memory(conn)
                row(f"pgvector IVFFlat lists={lists}, probes={probes}", f"{ivf_s:.1f}", found, times, fewest,
                    f"{ivf_mib:.0f} (index)", f"{anon:.0f} private + {shm:.0f} shared (server)")
            conn.execute("DROP INDEX items_ivf")

        kinds = args.faiss_kinds.split(",") if args.faiss_kinds else list(dict.fromkeys(
            [choose_kind(n, settings), "ivf_sq8"]))
        for kind in kinds:
            index, build_s, grown = faiss_cache(conn, kind, settings)
            found, times = faiss_queries(index, queries)
            breadth = {"flat": "exact", "hnsw": f"M={settings.hnsw_m}, efSearch={settings.hnsw_ef_search}",
                       "ivf_sq8": f"nlist={settings.ivf_nlist}, nprobe={settings.ivf_nprobe}"}.get(kind, "")
            picked = " (choose_kind's pick)" if kind == choose_kind(n, settings) else ""
            row(f"FAISS cache {kind} {breadth}{picked}", f"{build_s:.1f} (read from PG + add)", found, times,
                min(len(f) for f in found), "", f"{grown:.0f} (in the checker)")
            del index
            gc.collect()
    return rows


if __name__ == "__main__":
    main()
