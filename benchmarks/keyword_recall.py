"""Keyword retrieval on both stores: FTS5 BM25 (SQLite) against ts_rank (PostgreSQL), on real news.

    python benchmarks/keyword_recall.py [--data ../shared/data/fnc1] [--pairs 500]

The FNC-1 training bodies (real news articles) are stored in both stores (3-sentence passages); each
headline whose stance is not "unrelated" is a query, and its own body is the one to find. Reported:
recall@10 and @50 (a passage of the headline's body among the first k keyword hits: keyword_k is 50),
how much the two top-10 lists overlap, and query time p50/p95. Dense retrieval is not involved.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corroborate.corpus.dedup import content_hash  # noqa: E402
from corroborate.corpus.passages import split_passages  # noqa: E402
from corroborate.corpus.records import NewDocument  # noqa: E402


def _rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(10**8)
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _fill(store: Any, bodies: dict[str, str]) -> dict[int, str]:
    """Store every body; the body id of each stored document id."""
    owner: dict[int, str] = {}
    for body_id, text in bodies.items():
        url = f"https://fnc1.example/{body_id}"
        spans = split_passages(text)
        if not spans:
            continue
        doc = NewDocument(url=url, canonical_url=url, outlet="fnc1.example", text=text,
                          content_hash=content_hash(text), title=None)
        owner[store.add_document(doc, spans).document_id] = body_id
    return owner


def _measure(
    store: Any, owner: dict[int, str], queries: list[tuple[str, str]]
) -> tuple[dict[str, Any], list[list[int]]]:
    found10 = found50 = 0
    times: list[float] = []
    tops: list[list[int]] = []
    for headline, body_id in queries:
        t = time.perf_counter()
        hits = store.keyword_search(headline, 50)
        times.append(time.perf_counter() - t)
        passages = store.passages([pid for pid, _ in hits])
        bodies = [owner.get(passages[pid].document_id) for pid, _ in hits if pid in passages]
        found10 += body_id in bodies[:10]
        found50 += body_id in bodies
        tops.append([pid for pid, _ in hits[:10]])
    ordered = sorted(times)
    return ({"recall@10": round(found10 / len(queries), 3), "recall@50": round(found50 / len(queries), 3),
             "p50_ms": round(1000 * statistics.median(ordered), 1),
             "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1)}, tops)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fnc1")
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args(argv)

    from corroborate.corpus.pglocal import LocalPostgres
    from corroborate.corpus.pgstore import PostgresStore
    from corroborate.corpus.store import Store

    bodies = {r["Body ID"]: r["articleBody"] for r in _rows(args.data / "train_bodies.csv")}
    related = [(r["Headline"], r["Body ID"]) for r in _rows(args.data / "train_stances.csv")
               if r["Stance"] != "unrelated" and r["Body ID"] in bodies]
    queries = random.Random(25).sample(related, min(args.pairs, len(related)))
    out: dict[str, Any] = {"bodies": len(bodies), "queries": len(queries)}
    with tempfile.TemporaryDirectory(prefix="corroborate-kw-") as tmp:
        server = LocalPostgres(Path(tmp) / "pg").start()
        try:
            server.create_role("bench", "bench")
            server.create_database("kw", "bench")
            with Store(Path(tmp) / "corroborate.db") as sqlite, PostgresStore(server.url("kw", "bench", "bench")) as pg:
                owner_sqlite, owner_pg = _fill(sqlite, bodies), _fill(pg, bodies)
                out["passages"] = sqlite.passage_count()
                out["sqlite_bm25"], top_sqlite = _measure(sqlite, owner_sqlite, queries)
                out["postgresql_ts_rank"], top_pg = _measure(pg, owner_pg, queries)
                # passage ids match: both stores numbered the same passages in the same order
                overlap = [len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(top_sqlite, top_pg, strict=True)]
                out["top10_overlap_mean"] = round(statistics.mean(overlap), 3)
        finally:
            server.stop()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
