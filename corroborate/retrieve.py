"""Find evidence for a claim: dense (FAISS) + keyword (SQLite FTS5 BM25), fused by reciprocal rank.

Candidates are grouped by document. The article's own outlet and its syndicated copies (same
near-duplicate cluster, or a MinHash match with the article text) are excluded, and so is
anything outside the optional time window around the article's date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from corroborate import dedup
from corroborate.embed import Embedder
from corroborate.index import VectorIndex
from corroborate.records import Passage
from corroborate.settings import Settings
from corroborate.store import Store, StoredDocument

# the stance model reads the best passage and its close neighbours: enough context for a quote,
# short enough that judging a dozen documents per claim stays fast
EXCERPT_MAX_CHARS = 1200


@dataclass(frozen=True)
class Exclusions:
    """What must not count as evidence for an article's claims."""

    outlets: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    clusters: frozenset[int] = frozenset()
    minhash: bytes | None = None  # the article's own text: syndicated copies of it are not evidence
    around: datetime | None = None  # the article's date, for settings.window_days


@dataclass
class Evidence:
    """One document's best matching passages for a claim."""

    document: StoredDocument
    passages: list[Passage]
    similarity: float  # best cosine between the claim and a passage
    score: float  # fused rank score
    excerpt: str = ""  # the text the stance model reads
    excerpt_start: int = 0  # offset of ``excerpt`` in the document text
    similarities: dict[int, float] = field(default_factory=dict)


def rrf(rankings: Sequence[Sequence[int]], k: int) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings an id appears in."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            fused[pid] += 1.0 / (k + rank)
    return dict(fused)


class Retriever:
    def __init__(self, store: Store, index: VectorIndex, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.settings = settings
        # one query at a time: OpenMP threads only add wake-up latency (measured in benchmarks/index_scale.py)
        import faiss

        faiss.omp_set_num_threads(1)

    def retrieve(
        self,
        claim: str,
        exclusions: Exclusions | None = None,
        vector: npt.NDArray[np.float32] | None = None,
    ) -> list[Evidence]:
        s = self.settings
        ex = exclusions or Exclusions()
        if vector is None:
            vector = self.embedder.encode([claim])[0]
        scores, ids = self.index.search(vector[None, :], s.dense_k)
        dense = [int(i) for i in ids[0] if i >= 0]
        sims: dict[int, float] = {int(i): float(v) for i, v in zip(ids[0], scores[0], strict=True) if i >= 0}
        keyword = [pid for pid, _ in self.store.keyword_search(claim, s.keyword_k)]
        missing = [pid for pid in keyword if pid not in sims]
        if missing:
            for got_ids, vecs in self.store.embeddings(missing):
                for pid, sim in zip(got_ids.tolist(), (vecs @ vector).tolist(), strict=True):
                    sims[int(pid)] = float(sim)
        fused = rrf([dense, keyword], s.rrf_k)
        kept = [pid for pid in fused if sims.get(pid, 0.0) >= s.min_similarity]
        if not kept:
            return []
        passages = self.store.passages(kept)
        by_doc: dict[int, list[int]] = defaultdict(list)
        for pid in sorted(kept, key=lambda p: -fused[p]):
            if pid in passages:
                by_doc[passages[pid].document_id].append(pid)
        docs = self.store.documents(by_doc)
        out: list[Evidence] = []
        for doc_id, pids in by_doc.items():
            doc = docs.get(doc_id)
            if doc is None or self._excluded(doc, ex):
                continue
            ps = [passages[p] for p in pids]
            ev = Evidence(
                document=doc,
                passages=ps,
                similarity=max(sims[p] for p in pids),
                score=max(fused[p] for p in pids),
                similarities={p: sims[p] for p in pids},
            )
            ev.excerpt, ev.excerpt_start = excerpt(doc.text, ps)
            out.append(ev)
        out.sort(key=lambda e: (-e.score, -e.similarity))
        return out[: s.max_documents]

    def _excluded(self, doc: StoredDocument, ex: Exclusions) -> bool:
        if doc.outlet in ex.outlets or doc.url in ex.urls or doc.canonical_url in ex.urls:
            return True
        if doc.cluster_id is not None and doc.cluster_id in ex.clusters:
            return True
        if ex.minhash is not None and doc.minhash is not None:
            if dedup.similarity(ex.minhash, doc.minhash) >= self.settings.near_duplicate_threshold:
                return True
        if ex.around is not None and self.settings.window_days is not None and doc.published is not None:
            if abs(doc.published - ex.around) > timedelta(days=self.settings.window_days):
                return True
        return False


def excerpt(text: str, passages: Sequence[Passage], limit: int = EXCERPT_MAX_CHARS) -> tuple[str, int]:
    """The document text spanning its best passages (best first decides when they are far apart)."""
    best = passages[0]
    start, end = best.start, best.end
    for p in passages[1:3]:
        lo, hi = min(start, p.start), max(end, p.end)
        if hi - lo <= limit:
            start, end = lo, hi
    return text[start:end], start
