"""FAISS index kinds at 10k / 100k / 1M passages: build time, memory, query latency, recall@10.

Vectors: real MiniLM vectors of real sentences (FNC-1 body sentences and SNLI sentences, cached
under /tmp/corroborate-bench), then for volume real vectors + small Gaussian noise, renormalised.
Queries: 300 held-out real sentences never put into any index: the first 100 tune nprobe /
efSearch, the other 200 measure recall@10 against exact (flat) search and the latency of one
claim's top-50 search (one query at a time, as ``check`` does).

    python benchmarks/index_scale.py [--quick] [--sizes 10000,100000,1000000] [--real 20000]
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from common import (
    HELD_OUT,
    Report,
    base_args,
    machine_info,
    ms,
    peak_rss_mib,
    percentile,
    rss_mib,
    sentence_vectors,
    variants,
)

from corroborate.corpus.index import IVF_NLIST, IVF_NPROBE, MIN_TRAIN_PER_LIST, VectorIndex, choose_kind
from corroborate.settings import Settings

TRAIN_BATCH = 20_000  # what sync_index hands VectorIndex.add first (Store.embeddings' batch)
PROBES = [4, 8, 16, 32, 64, 128, 256]
TARGET_RECALL = 0.95
GiB = 2**30


def recall_at(found: npt.NDArray[np.int64], exact: npt.NDArray[np.int64], k: int = 10) -> float:
    hits = [len(set(f[:k].tolist()) & set(e[:k].tolist())) / k for f, e in zip(found, exact, strict=True)]
    return float(np.mean(hits))


def single_query_latency(index: Any, queries: npt.NDArray[np.float32], k: int = 50) -> tuple[float, float]:
    """One query at a time on one OpenMP thread.

    With the default two threads on cores shared with other work, a single query waits on
    descheduled OpenMP threads: 30-90 ms instead of < 1 ms (measured here first). One query has no
    parallelism worth a thread team anyway.
    """
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        times = []
        for q in queries:
            start = time.perf_counter()
            index.search(q[None, :], k)
            times.append(time.perf_counter() - start)
    finally:
        faiss.omp_set_num_threads(threads)
    return percentile(times, 50), percentile(times, 95)


def trimmed_rss_mib() -> float:
    """RSS after handing freed heap back to the OS, so growth is what the index holds, not malloc's cache."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def serialised_bytes(index: Any) -> int:
    import faiss

    fd, tmp = tempfile.mkstemp(prefix="corroborate-bench-", suffix=".faiss")
    os.close(fd)
    try:
        faiss.write_index(index, tmp)
        return Path(tmp).stat().st_size
    finally:
        Path(tmp).unlink(missing_ok=True)


def build_library(kind: str, vectors: npt.NDArray[np.float32], settings: Settings) -> Any:
    """Exactly what sync_index does: an empty VectorIndex of the kind, fed in Store.embeddings batches."""
    index = VectorIndex.empty(kind, "bench", vectors.shape[1], settings)
    for start in range(0, len(vectors), TRAIN_BATCH):
        chunk = vectors[start : start + TRAIN_BATCH]
        index.add(np.arange(start, start + len(chunk), dtype=np.int64), chunk)
    return index._index


def build_faiss(make: Callable[[int], Any], vectors: npt.NDArray[np.float32]) -> Any:
    """IVF variants the library does not offer, trained and fed the same way."""
    import faiss

    index = faiss.IndexIDMap2(make(vectors.shape[1]))
    index.train(vectors[:TRAIN_BATCH])
    for start in range(0, len(vectors), TRAIN_BATCH):
        chunk = vectors[start : start + TRAIN_BATCH]
        index.add_with_ids(chunk, np.arange(start, start + len(chunk), dtype=np.int64))
    return index


def builders(data: npt.NDArray[np.float32], settings: Settings) -> list[tuple[str, Callable[[], Any], str]]:
    import faiss

    # the rule VectorIndex.add applies to ivf_sq8: no more lists than the first batch can train
    nlist = min(IVF_NLIST, max(1, min(len(data), TRAIN_BATCH) // MIN_TRAIN_PER_LIST))

    def ivf_flat(d: int) -> Any:
        return faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)

    def ivf_fp16(d: int) -> Any:
        # half-precision codes: 2 bytes a dimension, no rounding of near-ties that int8 may swap
        return faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_fp16,
                                             faiss.METRIC_INNER_PRODUCT)

    def ivf_pq(d: int) -> Any:
        # 48 sub-quantizers of 8 bits: 48 bytes a passage, the smallest codes worth trying at 384d
        return faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, nlist, 48, 8, faiss.METRIC_INNER_PRODUCT)

    return [
        ("flat", lambda: build_library("flat", data, settings), "library"),
        ("hnsw", lambda: build_library("hnsw", data, settings), "library"),
        ("ivf_flat", lambda: build_faiss(ivf_flat, data), "faiss"),
        ("ivf_sq8", lambda: build_library("ivf_sq8", data, settings), "library"),
        ("ivf_fp16", lambda: build_faiss(ivf_fp16, data), "faiss"),
        ("ivf_pq48", lambda: build_faiss(ivf_pq, data), "faiss"),
    ]


def set_breadth(index: Any, value: int) -> None:
    import faiss

    base = faiss.downcast_index(index.index)
    if isinstance(base, faiss.IndexHNSW):
        base.hnsw.efSearch = value
    else:
        faiss.extract_index_ivf(index).nprobe = value


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--sizes", help="comma-separated passage counts")
    parser.add_argument("--real", type=int, help="real sentences to embed/cache (at most ~60k)")
    parser.add_argument("--pq", action="store_true",
                        help="also IVF-PQ (48 bytes a passage; slow to train, recall@10 < 0.8 in our runs)")
    parser.add_argument("--hnsw-max", type=int, default=None,
                        help="largest size to build HNSW at (it is the slow one); default 100k, quick 50k")
    args = parser.parse_args()
    import faiss

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [10_000, 50_000] if args.quick else [10_000, 100_000, 1_000_000])
    real = args.real or (3_000 if args.quick else 12_000)
    hnsw_max = args.hnsw_max if args.hnsw_max is not None else (50_000 if args.quick else 100_000)
    report = Report("index_scale")
    settings = Settings()
    report.note(f"machine: {machine_info()}")

    start = time.perf_counter()
    _, vecs = sentence_vectors(real)
    report.note(f"{len(vecs)} real sentence vectors ready in {time.perf_counter() - start:.0f} s "
                f"({HELD_OUT} held out as queries); faiss uses {faiss.omp_get_max_threads()} threads")
    held, base = vecs[:HELD_OUT], vecs[HELD_OUT:]
    tune, evalq = held[:100], held[100:]

    rows: list[list[Any]] = []
    sweep_rows: list[list[Any]] = []
    chosen_rows: list[list[Any]] = []
    for n in sizes:
        default_recall = float("nan")
        gc.collect()
        data = np.concatenate(list(variants(base, n, seed=n)))
        exact_index = faiss.IndexFlatIP(data.shape[1])
        exact_index.add(data)
        _, exact_tune = exact_index.search(tune, 10)
        _, exact_eval = exact_index.search(evalq, 10)
        del exact_index
        gc.collect()

        kinds = [k for k in builders(data, settings) if args.pq or k[0] != "ivf_pq48"]
        for kind, build, origin in kinds:
            if kind == "hnsw" and n > hnsw_max:
                # graph memory ~ 2*M neighbours of 4 bytes on level 0, plus the float32 vector
                est = n * (data.shape[1] * 4 + 2 * settings.hnsw_m * 4 + 8 + 40) / GiB
                rows.append([f"{n:,}", kind, origin, "not built", f"~{est * GiB / n:.0f} (est.)", "", "", "", "",
                             f"est. {est:.2f} GiB"])
                continue
            gc.collect()
            before = trimmed_rss_mib()
            t0 = time.perf_counter()
            index = build()
            build_s = time.perf_counter() - t0
            grown = max(0.0, trimmed_rss_mib() - before) * 2**20
            size = serialised_bytes(index)
            breadth = ""
            if kind.startswith("ivf"):
                ivf = faiss.extract_index_ivf(index)
                nlist = int(ivf.nlist)
                tried: list[tuple[int, float]] = []
                for p in [p for p in PROBES if p <= nlist]:
                    set_breadth(index, p)
                    tried.append((p, recall_at(index.search(tune, 10)[1], exact_tune)))
                good = [p for p, r in tried if r >= TARGET_RECALL]
                best = good[0] if good else tried[-1][0]
                for p, r in tried:
                    set_breadth(index, p)
                    p50, _ = single_query_latency(index, evalq[:50])
                    sweep_rows.append([f"{n:,}", kind, str(nlist), str(p), f"{r:.3f}", ms(p50)])
                set_breadth(index, best)
                breadth = f"nprobe={best}/{nlist}"
            elif kind == "hnsw":
                breadth = f"efSearch={settings.hnsw_ef_search}"
            found = index.search(evalq, 10)[1]
            rec = recall_at(found, exact_eval)
            p50, p95 = single_query_latency(index, evalq)
            rows.append([f"{n:,}", kind, origin, f"{build_s:.1f}", f"{size / n:.0f}", f"{grown / n:.0f}", ms(p50),
                         ms(p95), f"{rec:.3f}", breadth])
            if kind == "ivf_sq8":
                set_breadth(index, min(IVF_NPROBE, nlist))
                default_recall = recall_at(index.search(evalq, 10)[1], exact_eval)
            if kind == choose_kind(n, settings):
                chosen_rows.append([f"{n:,}", kind, f"{rec:.3f}", f"{size / GiB:.3f}", f"{grown / GiB:.3f}",
                                    "yes" if rec >= TARGET_RECALL and grown < GiB else "NO"])
            del index
            gc.collect()
            print(f"  {n:,} {kind}: built in {build_s:.1f} s, recall@10 {rec:.3f}", flush=True)
        if choose_kind(n, settings) == "ivf_sq8":
            report.note(f"{n:,}: ivf_sq8 at the library default nprobe={IVF_NPROBE}: recall@10 {default_recall:.3f}")
        del data
        gc.collect()

    report.table(
        "Index kinds (build = train + add in 20k batches; bytes/passage: serialised file and RSS growth; "
        "latency: one query, top 50; recall@10 vs exact on 200 held-out real sentences)",
        ["passages", "kind", "built by", "build s", "file B/passage", "RSS B/passage", "p50 ms", "p95 ms",
         "recall@10", "search breadth"],
        rows,
    )
    report.table("IVF nprobe sweep (recall@10 on 100 tuning queries; p50 of 50 single queries)",
                 ["passages", "kind", "nlist", "nprobe", "recall@10", "p50 ms"], sweep_rows)
    report.table(
        "The kind choose_kind() picks at each size (requirement at 1M: recall@10 >= 0.95, index < 1 GiB resident)",
        ["passages", "chosen kind", "recall@10", "file GiB", "RSS growth GiB", "meets"], chosen_rows)
    report.note(f"peak RSS of the benchmark process: {peak_rss_mib():.0f} MiB (includes the raw float32 vectors)")
    report.save(args.json)


if __name__ == "__main__":
    main()
