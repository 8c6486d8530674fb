"""Ingest throughput against the loopback news site (181 real pages), beside embedding-only throughput.

The library steps the ingest flow wraps, without Prefect: discover_outlet → fetch_pages_sync →
extract_pages → CorpusWriter.write → sync_index (embeds every new passage and indexes it). Then
the very same passage texts are embedded again with load_embedder().encode: the model alone sets
the ceiling, and pipeline pages/s ÷ embedding-only pages/s shows what the rest of the pipeline
costs (target >= 0.8). A second ingest of the unchanged site (conditional GETs answered 304,
nothing embedded) is timed as a share of the first (target < 5 %).

    python benchmarks/ingest.py [--quick]     (--quick: the first 40 pages discovered)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, Report, base_args, loopback_settings, machine_info, peak_rss_mib

from corroborate.corpus.embed import load_embedder
from corroborate.corpus.index import sync_index
from corroborate.corpus.store import Store
from corroborate.ingest.discover import discover_outlet
from corroborate.ingest.fetch import Fetcher
from corroborate.ingest.outlets import OutletRegistry, parse_outlets
from corroborate.ingest.steps import CorpusWriter, PageOutcome, candidates_for_known, extract_pages, fetch_pages_sync
from corroborate.settings import Settings


async def _discover(outlet: Any, settings: Settings) -> Any:
    async with Fetcher(settings) as fetcher:
        return await discover_outlet(outlet, fetcher, settings)


def ingest_once(settings: Settings, registry: OutletRegistry, store: Store, limit: int | None) -> dict[str, Any]:
    """One ingest of every outlet; seconds per step and what happened to the pages."""
    t: dict[str, Any] = {}
    cpu = time.process_time()
    s = time.perf_counter()
    candidates = [c for o in registry for c in asyncio.run(_discover(o, settings)).candidates][:limit]
    t["discover"] = time.perf_counter() - s
    s = time.perf_counter()
    pages = fetch_pages_sync(candidates, settings, candidates_for_known(store, candidates))
    t["fetch"] = time.perf_counter() - s
    s = time.perf_counter()
    items = extract_pages(pages, settings)
    t["extract"] = time.perf_counter() - s
    s = time.perf_counter()
    writer = CorpusWriter(store, settings)
    writer.register_outlets(registry)
    outcomes = [writer.write(item) for item in items]
    t["store"] = time.perf_counter() - s
    s = time.perf_counter()
    _, sync = sync_index(store, load_embedder(), settings)
    t["embed + index"] = time.perf_counter() - s
    t["total"] = sum(v for k, v in t.items())
    t["cpu"] = time.process_time() - cpu
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    t["pages"] = len(candidates)
    t["outcomes"] = counts
    t["embedded"] = sync.embedded
    t["not_modified"] = sum(1 for i in items if isinstance(i, PageOutcome) and i.outcome == "not_modified")
    return t


def main() -> None:
    parser = base_args(__doc__ or "")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from newssite import DATA_DIR, NewsSite

    report = Report("ingest")
    report.note(f"machine: {machine_info()}")
    embedder = load_embedder()
    embedder.encode(["warm the model up before anything is timed"])
    site = NewsSite(DATA_DIR).start()
    try:
        with tempfile.TemporaryDirectory(prefix="corroborate-bench-ingest-") as tmp:
            home = Path(tmp)
            settings = loopback_settings(home, per_host_concurrency=4, total_concurrency=16)
            registry = OutletRegistry(parse_outlets(site.outlets_toml()))
            with Store(settings.store_path) as store:
                first = ingest_once(settings, registry, store, 40 if args.quick else None)
                texts = [p.text for p in store.passages(store.passage_ids().tolist()).values()]
                documents = store.document_count()
                start, cpu = time.perf_counter(), time.process_time()
                embedder.encode(texts, batch_size=settings.embed_batch_size)
                embed_only, embed_cpu = time.perf_counter() - start, time.process_time() - cpu
                second = ingest_once(settings, registry, store, 40 if args.quick else None)
    finally:
        site.stop()

    pages = first["pages"]
    pipe_rate = pages / first["total"]
    embed_rate = pages / embed_only
    ratio = pipe_rate / embed_rate
    share = second["total"] / first["total"]
    report.table(
        "Ingest of the loopback news site: seconds per step (first run, then the unchanged site again)",
        ["step", "first run s", "re-run s"],
        [[k, f"{first[k]:.2f}", f"{second[k]:.2f}"]
         for k in ["discover", "fetch", "extract", "store", "embed + index", "total"]],
    )
    report.table(
        "Ingest throughput beside the model alone (same passages, same run)",
        ["measure", "value", "target"],
        [
            ["candidate pages", f"{pages}", ""],
            ["documents stored / passages embedded", f"{documents} / {first['embedded']}", ""],
            ["pipeline pages/s (fetch+extract+store+embed+index)", f"{pipe_rate:.2f}", ""],
            ["embedding-only pages/s (encode the same passages)", f"{embed_rate:.2f}", ""],
            ["ratio pipeline / embedding-only (wall time)", f"{ratio:.2f}", ">= 0.8"],
            ["ratio pipeline / embedding-only (CPU time; robust to shared cores)",
             f"{embed_cpu / first['cpu']:.2f}", ">= 0.8"],
            ["re-run of the unchanged site, % of first run", f"{share:.1%}", "< 5 %"],
            ["re-run: pages answered 304 / passages embedded",
             f"{second['not_modified']} / {second['embedded']}", f"{pages} / 0"],
            ["peak RSS MiB", f"{peak_rss_mib():.0f}", ""],
        ],
    )
    report.note(f"first-run outcomes: {first['outcomes']}; re-run outcomes: {second['outcomes']}")
    report.save(args.json)


if __name__ == "__main__":
    main()
