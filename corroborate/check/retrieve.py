"""Find evidence for a claim: dense (FAISS) + keyword (SQLite FTS5 BM25), fused by reciprocal rank.

Candidates are grouped by document. The article's own outlet and its copies (same near-duplicate
cluster, a MinHash match with the article text, or containment of the article or in it: an excerpt,
a reprint with another intro) are excluded, and so is anything outside the optional time window
around the article's date. The copies left out are recorded in :attr:`Exclusions.copies`.

Among the documents kept for a claim, copies of one another and rewrites of one text (long shared
passages, published within ``rewrite_window_days``) get one :attr:`Evidence.origin`: the verdict
counts them as one voice. So do template rewrites: two documents of outlets outside the registry,
published within ``dedup.TEMPLATE_WINDOW_DAYS``, that share a template's details
(``dedup.TEMPLATE_SIMILARITY``), as a network's sites do when each rewords one story. Registered
outlets are never joined by that rule.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

from corroborate.corpus import dedup
from corroborate.corpus.backend import CorpusStore
from corroborate.corpus.embed import Embedder
from corroborate.corpus.index import VectorIndex
from corroborate.corpus.records import Passage
from corroborate.corpus.store import StoredDocument
from corroborate.languages import judged_languages
from corroborate.settings import Settings

# the stance model reads the best passage and its close neighbours: enough context for a quote,
# short enough that judging a dozen documents per claim stays fast
EXCERPT_MAX_CHARS = 1200
# documents whose n-grams are kept between claims: an article's claims meet the same documents again
SHINGLE_CACHE_DOCUMENTS = 256


@dataclass(frozen=True)
class ExcludedCopy:
    """A document left out as a copy or excerpt of the article (by containment)."""

    url: str
    outlet: str
    containment: float  # dedup.containment of the two texts' word 5-grams

    def to_dict(self) -> dict[str, str | float]:
        return {"url": self.url, "outlet": self.outlet, "containment": round(self.containment, 4)}


@dataclass(frozen=True)
class Exclusions:
    """What must not count as evidence for an article's claims."""

    outlets: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    clusters: frozenset[int] = frozenset()
    minhash: bytes | None = None  # the article's own text: syndicated copies of it are not evidence
    around: datetime | None = None  # the article's date, for settings.window_days
    text: str | None = None  # the article's text: documents that contain it or are contained in it are copies
    # filled in by Retriever.retrieve: the copies of the article it left out, by URL
    copies: dict[str, ExcludedCopy] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def shingled(self) -> dedup.Shingled | None:
        return dedup.Shingled.of(self.text) if self.text else None


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
    origin: str | None = None  # shared by the claim's evidence documents that are copies or rewrites of one text


def rrf(rankings: Sequence[Sequence[int]], k: int) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings an id appears in."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            fused[pid] += 1.0 / (k + rank)
    return dict(fused)


class Retriever:
    def __init__(self, store: CorpusStore, index: VectorIndex, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.settings = settings
        # one query at a time: OpenMP threads only add wake-up latency (measured in benchmarks/index_scale.py)
        import faiss

        faiss.omp_set_num_threads(1)
        self._shingles: OrderedDict[tuple[int, str], dedup.Shingled] = OrderedDict()
        self._shingles_lock = threading.Lock()  # a served checker retrieves for several requests at once

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
        # documents in a language no judge reads are never evidence: only the judged ones are keyword hits
        keyword = [pid for pid, _ in self.store.keyword_search(claim, s.keyword_k, judged_languages(s.languages))]
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
        best = {d: (max(fused[p] for p in pids), max(sims[p] for p in pids)) for d, pids in by_doc.items()}
        out: list[Evidence] = []
        # best first, so the copy test (n-grams of whole documents) runs only until enough are kept
        for doc_id in sorted(by_doc, key=lambda d: (-best[d][0], -best[d][1])):
            if len(out) == s.max_documents:
                break
            pids = by_doc[doc_id]
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
        self._mark_origins(out)
        return out

    def _shingled(self, doc: StoredDocument) -> dedup.Shingled:
        key = (doc.id, doc.content_hash)
        with self._shingles_lock:
            found = self._shingles.get(key)
            if found is not None:
                self._shingles.move_to_end(key)
                return found
        found = dedup.Shingled.of(doc.text)
        with self._shingles_lock:
            self._shingles[key] = found
            while len(self._shingles) > SHINGLE_CACHE_DOCUMENTS:
                self._shingles.popitem(last=False)
        return found

    def _mark_origins(self, evidence: Sequence[Evidence]) -> None:
        """One origin for documents that are copies of each other, rewrites published within days, or
        unvetted template rewrites of the same day."""
        s = self.settings
        shingled = [self._shingled(ev.document) for ev in evidence]
        parent = list(range(len(evidence)))

        def root(i: int) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for i in range(len(evidence)):
            for j in range(i + 1, len(evidence)):
                if root(i) == root(j):
                    continue
                a, b = evidence[i].document, evidence[j].document
                if (
                    shingled[i].copy_containment(shingled[j]) >= s.copy_containment
                    or (
                        _within_days(a.published, b.published, s.rewrite_window_days)
                        and shingled[i].rewrite_containment(shingled[j]) >= s.rewrite_containment
                    )
                    or _template_rewrites(a, b, shingled[i], shingled[j])
                ):
                    parent[max(root(i), root(j))] = min(root(i), root(j))
        members: dict[int, list[Evidence]] = defaultdict(list)
        for i, ev in enumerate(evidence):
            members[root(i)].append(ev)
        for group in members.values():
            if len(group) > 1:
                origin = f"doc:{min(ev.document.id for ev in group)}"
                for ev in group:
                    ev.origin = origin

    def _excluded(self, doc: StoredDocument, ex: Exclusions) -> bool:
        if doc.outlet in ex.outlets or doc.url in ex.urls or doc.canonical_url in ex.urls:
            return True
        article = ex.shingled
        if article is not None:
            contained = article.copy_containment(self._shingled(doc))
            if contained >= self.settings.copy_containment:
                ex.copies.setdefault(doc.url, ExcludedCopy(doc.url, doc.outlet, contained))
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


def _template_rewrites(a: StoredDocument, b: StoredDocument, sa: dedup.Shingled, sb: dedup.Shingled) -> bool:
    """Whether two documents are one network's rewordings of one template: both outlets outside the registry,
    published the same day (an unknown date may be any), sharing the template's details (dedup.Details)."""
    return (
        not a.listed
        and not b.listed
        and _within_days(a.published, b.published, dedup.TEMPLATE_WINDOW_DAYS)
        and sa.template_similarity(sb) >= dedup.TEMPLATE_SIMILARITY
    )


def _within_days(a: datetime | None, b: datetime | None, days: int) -> bool:
    """Whether two publication dates are at most ``days`` apart; an unknown date may be any, so yes."""
    if a is None or b is None:
        return True
    # a date stored without a zone is taken as UTC, so that it compares with one that has a zone
    a, b = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (a, b))
    return abs(a - b) <= timedelta(days=days)


def excerpt(text: str, passages: Sequence[Passage], limit: int = EXCERPT_MAX_CHARS) -> tuple[str, int]:
    """The document text spanning its best passages (best first decides when they are far apart)."""
    best = passages[0]
    start, end = best.start, best.end
    for p in passages[1:3]:
        lo, hi = min(start, p.start), max(end, p.end)
        if hi - lo <= limit:
            start, end = lo, hi
    return text[start:end], start
