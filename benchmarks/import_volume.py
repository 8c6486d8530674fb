"""``corroborate import`` of N generated documents, beside embedding-only throughput of their passages.

Documents are real FNC-1 text: each is a run of consecutive sentences from one body (bodies
reused at different offsets, each with its own outlet and URL, so every document is distinct).
cli.import_documents runs in-process (validate, store, embed, index, as the command does); then
the same passage texts are embedded again alone. Also: peak and growth of RSS (it must not grow
with N: the import streams), SQLite bytes per document, and the re-import of the unchanged file
as a share of the first (target < 5 %).

    python benchmarks/import_volume.py [--quick] [--docs N] [--sentences 6] [--embed-sample N]

At 100k documents the embedding-only half would take as long as the import itself; --embed-sample
times the model alone on a random sample of the same passages instead (a rate, so a 20k sample
measures it as well as all of them).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from common import Report, base_args, fnc_bodies, machine_info, peak_rss_mib, rss_mib

from corroborate.cli import import_documents
from corroborate.corpus.embed import load_embedder
from corroborate.corpus.passages import sentence_spans
from corroborate.corpus.store import Store
from corroborate.settings import load_settings


def write_documents(path: Path, count: int, per_doc: int) -> int:
    """``count`` JSON lines of ``per_doc``-sentence excerpts; returns the bytes written."""
    bodies = [[body[a:b] for a, b in sentence_spans(body)] for body in fnc_bodies()]
    bodies = [s for s in bodies if len(s) >= per_doc]
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            sents = bodies[i % len(bodies)]
            round_ = i // len(bodies)
            start = (round_ * 2) % max(1, len(sents) - per_doc + 1)
            text = " ".join(sents[start : start + per_doc])
            if round_:
                text = f"(Wire {round_}) {text}"  # later rounds start at the same sentence sometimes
            outlet = f"Outlet {i % 50:02d}"
            f.write(json.dumps({"url": f"https://outlet{i % 50:02d}.example/story/{i}", "title": f"Story {i}",
                                "text": text, "outlet": outlet, "published": "2024-03-01T06:00:00Z"}) + "\n")
    return path.stat().st_size


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--docs", type=int, help="documents to import (default 2000; quick 300)")
    parser.add_argument("--sentences", type=int, default=6, help="sentences per document")
    parser.add_argument("--embed-sample", type=int, help="embed only this many of the passages (random) alone")
    args = parser.parse_args()
    count = args.docs or (300 if args.quick else 2000)
    report = Report("import_volume")
    report.note(f"machine: {machine_info()}")
    embedder = load_embedder()
    embedder.encode(["warm the model up before anything is timed"])
    with tempfile.TemporaryDirectory(prefix="corroborate-bench-import-") as tmp:
        home = Path(tmp)
        docs = home / "docs.jsonl"
        size = write_documents(docs, count, args.sentences)
        settings = load_settings({"home": home / "data"}, environ={})
        rss_before = rss_mib()
        start, cpu = time.perf_counter(), time.process_time()
        first = import_documents(settings, docs)
        first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        rss_after = rss_mib()
        start = time.perf_counter()
        again = import_documents(settings, docs)
        again_s = time.perf_counter() - start
        with Store(settings.store_path) as store:
            texts = [p.text for p in store.passages(store.passage_ids().tolist()).values()]
            documents = store.document_count()
        conn = sqlite3.connect(settings.store_path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        db_bytes = settings.store_path.stat().st_size
        sample = texts
        if args.embed_sample and args.embed_sample < len(texts):
            import random

            sample = random.Random(7).sample(texts, args.embed_sample)
        start, cpu = time.perf_counter(), time.process_time()
        embedder.encode(sample, batch_size=settings.embed_batch_size)
        embed_s, embed_cpu = time.perf_counter() - start, time.process_time() - cpu
        # the model alone on the whole corpus, from the rate on the sample
        scale = len(texts) / len(sample)
        embed_s, embed_cpu = embed_s * scale, embed_cpu * scale

    pipe_rate = documents / first_s
    embed_rate = documents / embed_s
    report.table(
        f"Import of {count:,} documents ({args.sentences} real sentences each) beside embedding-only",
        ["measure", "value", "target"],
        [
            ["documents / passages", f"{documents:,} / {len(texts):,}", ""],
            ["input file MB", f"{size / 1e6:.1f}", ""],
            ["import s (validate + store + embed + index)", f"{first_s:.1f}", ""],
            ["import documents/s", f"{pipe_rate:.2f}", ""],
            ["embedding-only documents/s (same passages" + (f"; rate on {len(sample):,} of them)" if
                                                            len(sample) < len(texts) else ")"),
             f"{embed_rate:.2f}", ""],
            ["ratio import / embedding-only (wall time)", f"{pipe_rate / embed_rate:.2f}", ">= 0.8"],
            ["ratio import / embedding-only (CPU time; robust to shared cores)", f"{embed_cpu / first_cpu:.2f}",
             ">= 0.8"],
            ["re-import of the unchanged file s", f"{again_s:.2f}", ""],
            ["re-import, % of first", f"{again_s / first_s:.1%}", "< 5 %"],
            ["SQLite bytes/document (incl. FTS, float16 embeddings)", f"{db_bytes / documents:,.0f}", ""],
            ["RSS growth during import MiB", f"{rss_after - rss_before:.0f}", "bounded"],
            ["peak RSS MiB", f"{peak_rss_mib():.0f}", ""],
        ],
    )
    report.note(f"first import: {first}; re-import: {again}")
    report.save(args.json)


if __name__ == "__main__":
    main()
