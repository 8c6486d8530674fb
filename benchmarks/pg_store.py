"""The shared PostgreSQL store beside the SQLite file: write throughput with 1, 2 and 4 writer processes, the
store's side of a check (keyword search, passages and documents of the hits), the per-host index cache
rebuilt from stored embeddings, and ``store copy``.

    python benchmarks/pg_store.py [--docs 3000] [--writers 1,2,4] [--writes-only] [--out results.json]

A throwaway PostgreSQL 16 (corroborate.corpus.pglocal, PostgreSQL's default durability) and a temp
SQLite data folder; synthetic news-like documents (3 sentences a passage), embeddings random unit
vectors (the model is not what is measured). Writers are separate processes, each with its own
documents (as workers ingesting different outlets), each document one add_document transaction.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corroborate.corpus.dedup import content_hash  # noqa: E402
from corroborate.corpus.passages import split_passages  # noqa: E402
from corroborate.corpus.records import NewDocument  # noqa: E402

WORDS = [
    "council", "harbour", "bridge", "ferry", "minister", "budget", "election", "storm", "flood", "police", "court",
    "hospital", "school", "strike", "port", "railway", "airport", "museum", "festival", "river", "factory",
    "contract", "tender", "mayor", "union", "vote",
]


def _text(i: int) -> str:
    rng = np.random.default_rng(i)
    sentences = []
    for s in range(9):
        words = rng.choice(WORDS, size=12)
        sentences.append(f"Report {i}.{s}: the " + " ".join(words) + f" said on day {i % 365}.")
    return " ".join(sentences)


def _doc(i: int) -> tuple[NewDocument, Any]:
    text = _text(i)
    url = f"https://bench{i % 40}.example/{i}"
    return (NewDocument(url=url, canonical_url=url, outlet=f"bench{i % 40}.example", text=text,
                        content_hash=content_hash(text), title=f"Report {i}"), split_passages(text))


def _open(kind: str, where: str) -> Any:
    if kind == "postgresql":
        from corroborate.corpus.pgstore import PostgresStore

        return PostgresStore(where)
    from corroborate.corpus.store import Store

    return Store(Path(where))


def _write(kind: str, where: str, ids: list[int], barrier: Any) -> tuple[float, int]:
    docs = [_doc(i) for i in ids]
    with _open(kind, where) as store:
        barrier.wait()
        started = time.perf_counter()
        for doc, spans in docs:
            store.add_document(doc, spans)
        return time.perf_counter() - started, len(docs)


def _writers(kind: str, where: str, n_docs: int, workers: int, offset: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ids = list(range(offset, offset + n_docs))
    parts = [ids[w::workers] for w in range(workers)]
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers + 1)
        with ctx.Pool(workers) as pool:
            started = time.perf_counter()
            pending = pool.starmap_async(_write, [(kind, where, p, barrier) for p in parts])
            barrier.wait()
            wall_start = time.perf_counter()
            results = pending.get()
            wall = time.perf_counter() - wall_start
    del started
    return {"store": kind, "writers": workers, "documents": n_docs, "seconds": round(wall, 2),
            "documents_per_s": round(n_docs / wall, 1), "per_writer_s": [round(r[0], 2) for r in results]}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 2),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2)}


def _check_side(kind: str, where: str, queries: list[str]) -> dict[str, Any]:
    """What a check asks of the store per claim: keyword_k=50 hits, then their passages and documents."""
    with _open(kind, where) as store:
        for q in queries[:5]:
            store.keyword_search(q, 50)
        times = []
        for q in queries:
            t = time.perf_counter()
            hits = [pid for pid, _ in store.keyword_search(q, 50)]
            passages = store.passages(hits)
            store.documents({p.document_id for p in passages.values()})
            times.append(time.perf_counter() - t)
        return {"store": kind, "passages": store.passage_count(), "queries": len(queries), **_percentiles(times)}


def _embed_random(kind: str, where: str) -> None:
    rng = np.random.default_rng(1)
    with _open(kind, where) as store:
        while batch := store.unembedded(limit=5000):
            ids = [pid for pid, _ in batch]
            vec = rng.standard_normal((len(ids), 384)).astype(np.float32)
            store.set_embeddings(ids, vec / np.linalg.norm(vec, axis=1, keepdims=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="documents per write run")
    parser.add_argument("--writers", default="1,2,4", help="PostgreSQL writer process counts to run")
    parser.add_argument("--writes-only", action="store_true", help="only the write throughput")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.writers.split(",")]

    from corroborate.corpus.copy import copy_to_postgres
    from corroborate.corpus.pglocal import LocalPostgres

    results: dict[str, Any] = {"load_average": os.getloadavg(), "cpus": os.cpu_count(), "docs": args.docs}
    with tempfile.TemporaryDirectory(prefix="corroborate-pgbench-") as tmp:
        server = LocalPostgres(Path(tmp) / "pg").start()
        try:
            server.create_role("bench", "bench")
            for name in (*(f"w{c}" for c in counts), "copy"):
                server.create_database(name, "bench")
            url = lambda db: server.url(db, "bench", "bench")  # noqa: E731
            sqlite_home = Path(tmp) / "sqlite"
            sqlite_home.mkdir()
            db = str(sqlite_home / "corroborate.db")
            _open("sqlite", db).close()
            for c in counts:
                _open("postgresql", url(f"w{c}")).close()
            writes = [_writers("sqlite", db, args.docs, 1, 0)]
            writes[-1]["load_average"] = [round(x, 1) for x in os.getloadavg()]
            for c in counts:
                writes.append(_writers("postgresql", url(f"w{c}"), args.docs, c, 0))
                writes[-1]["load_average"] = [round(x, 1) for x in os.getloadavg()]
            results["writes"] = writes
            print(json.dumps(writes, indent=1), flush=True)
            if args.writes_only:
                return _done(results, args.out)
            first = url(f"w{counts[0]}")
            rng = np.random.default_rng(3)
            queries = [" ".join(rng.choice(WORDS, size=8)) for _ in range(200)]
            results["check_side"] = [_check_side("sqlite", db, queries), _check_side("postgresql", first, queries)]
            print(json.dumps(results["check_side"], indent=1), flush=True)
            # the index cache of a host, rebuilt from the embeddings in PostgreSQL
            _embed_random("postgresql", first)
            _embed_random("sqlite", db)
            from corroborate.corpus.embed import DIMENSION, MODEL_NAME
            from corroborate.corpus.index import sync_index
            from corroborate.corpus.pgstore import PostgresStore
            from corroborate.settings import load_settings

            class _NoModel:  # every passage is embedded already: sync_index never calls the model
                name, dimension = MODEL_NAME, DIMENSION

                def encode(self, texts: list[str], batch_size: int = 64) -> Any:
                    raise AssertionError("nothing should be left to embed")

            settings = load_settings({"home": Path(tmp) / "host", "store_url": first}, environ={})
            with PostgresStore(first) as store:
                t = time.perf_counter()
                index, report = sync_index(store, _NoModel(), settings)  # type: ignore[arg-type]
                results["cache_rebuild"] = {"passages": index.count, "kind": index.kind,
                                            "seconds": round(time.perf_counter() - t, 2)}
                t = time.perf_counter()
                sync_index(store, _NoModel(), settings)  # type: ignore[arg-type]
                results["cache_current_check_s"] = round(time.perf_counter() - t, 3)
            print(json.dumps(results["cache_rebuild"]), flush=True)
            t = time.perf_counter()
            report_copy = copy_to_postgres(sqlite_home, url("copy"), batch=5000)
            results["copy"] = {"passages": next(x.target for x in report_copy.tables if x.table == "passages"),
                               "seconds": round(time.perf_counter() - t, 2), "verified": report_copy.verified}
            print(json.dumps(results["copy"]), flush=True)
        finally:
            server.stop()
    return _done(results, args.out)


def _done(results: dict[str, Any], out: Path | None) -> int:
    results["load_average_end"] = [round(x, 1) for x in os.getloadavg()]
    if out:
        out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
