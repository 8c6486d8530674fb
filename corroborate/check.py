"""Checking claims: read an article, split its claims, retrieve, judge stance, decide verdicts.

:class:`Checker` holds what is expensive to load (store, index, embedder, stance model) so a
batch (``check --file``), an article, or a served Prefect deployment pays for it once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from corroborate import dedup
from corroborate.claims import Attribution, ClaimSentence, split_claims
from corroborate.embed import Embedder, load_embedder
from corroborate.errors import ConfigError, IndexStateError, StoreError
from corroborate.index import VectorIndex, load_index, sync_index
from corroborate.lock import writer_lock
from corroborate.outlets import OutletRegistry, load_outlets
from corroborate.polarity import judge_quote
from corroborate.retrieve import Evidence, Exclusions, Retriever
from corroborate.settings import Settings
from corroborate.stance import StanceModel
from corroborate.store import Store
from corroborate.verdict import EvidenceItem, Verdict, attributed_origin, decide

MAX_CLAIM_CHARS = 2000


@dataclass(frozen=True)
class Article:
    text: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: datetime | None = None
    source: str = ""  # the file or URL it came from


@dataclass
class ClaimResult:
    """One claim and its verdict (``sentence`` is set when it came from an article)."""

    claim: str
    verdict: Verdict
    sentence: ClaimSentence | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, **self.verdict.to_dict()}


@dataclass
class SentenceResult:
    sentence: ClaimSentence
    verdict: Verdict | None  # None for sentences that are not claims

    def to_dict(self) -> dict[str, Any]:
        s = self.sentence
        v = self.verdict
        return {
            "index": s.index,
            "text": s.text,
            "start": s.start,
            "end": s.end,
            "is_claim": s.is_claim,
            "reason": s.reason,
            "claim_text": s.claim_text,
            "attribution": {"source": s.attribution.source, "kind": s.attribution.kind, "cue": s.attribution.cue},
            "hedged": s.hedged,
            "hedges": list(s.hedges),
            "quotes": list(s.quotes),
            "entities": [{"text": t, "label": lab} for t, lab in s.entities],
            "dates": list(s.dates),
            "status": v.status if v else None,
            "confidence": round(v.confidence, 4) if v else None,
            "voices_for": [x.to_dict() for x in v.voices_for] if v else [],
            "voices_against": [x.to_dict() for x in v.voices_against] if v else [],
            "flags": list(v.flags) if v else [],
            "evidence": [e.to_dict() for e in v.evidence] if v else [],
        }


@dataclass
class ArticleReport:
    article: Article
    sentences: list[SentenceResult]
    corpus: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.article.title or Path(self.article.source).name or "article"

    def to_dict(self) -> dict[str, Any]:
        counts = {"corroborated": 0, "contradicted": 0, "unmatched": 0}
        for s in self.sentences:
            if s.verdict:
                counts[s.verdict.status] += 1
        a = self.article
        return {
            "article": {
                "title": a.title,
                "url": a.url,
                "outlet": a.outlet,
                "source": a.source,
                "published": a.published.isoformat() if a.published else None,
                "sentences": len(self.sentences),
                "claims": sum(1 for s in self.sentences if s.sentence.is_claim),
                "summary": counts,
                "corpus": self.corpus,
            },
            "claims": [s.to_dict() for s in self.sentences],
        }


# -- reading input ---------------------------------------------------------------------------


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<p>" in head and "<body" in head)


def read_article(source: str, settings: Settings, registry: OutletRegistry | None = None) -> Article:
    """An article from a file (plain text or HTML) or an http(s) URL, or a one-line ConfigError/FetchError."""
    from corroborate.extract import extract

    try:
        scheme = urlsplit(source).scheme
    except ValueError as exc:  # e.g. "http://[abc/"
        raise ConfigError(f"{source[:200]!r} is not a valid URL: {exc}") from None
    # "file:///etc/passwd" or "ftp://x" names a scheme we do not fetch, not a local path; a local file
    # whose name merely contains a colon ("notes:2024.txt") still reads as a file
    if scheme not in {"", "http", "https"} and (
        source[len(scheme) + 1 :].startswith("//") or (len(scheme) > 1 and not Path(source).is_file())
    ):
        raise ConfigError(f"unsupported URL scheme '{scheme}' in {source[:200]!r}; give an http(s) URL or a file")
    if scheme in {"http", "https"}:
        from corroborate.fetch import fetch_url_sync

        result = fetch_url_sync(source, settings, kind="page")
        ex = extract(result.text or "", result.final_url, settings)
        if registry is None:
            registry = OutletRegistry(load_outlets(settings.outlets_file))
        outlet = registry.for_url(source)
        return Article(
            ex.text, ex.title, source, outlet.name if outlet else urlsplit(source).hostname, ex.published, source
        )
    if not source.strip():
        raise ConfigError("no article given")
    path = Path(source)
    text = read_text_file(path, "article file", settings.max_bytes)
    if _looks_like_html(text):
        ex = extract(text, path.resolve().as_uri(), settings)
        return Article(ex.text, ex.title, None, None, ex.published, source)
    title, body = split_title(text)
    if not body.strip():
        raise ConfigError(f"article file {source} has no text")
    return Article(body, title, None, None, None, source)


def read_text_file(path: Path, what: str, max_bytes: int | None = None) -> str:
    """A user's text file as str, or a one-line ConfigError saying what is wrong with it."""
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist")
    if not path.is_file():
        raise ConfigError(f"{what} {path} is not a file")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ConfigError(f"{what} {path} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB")
    raw = path.read_bytes()
    if not raw.strip():
        raise ConfigError(f"{what} {path} is empty")
    if b"\x00" in raw:
        raise ConfigError(f"{what} {path} is binary, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from None


def split_title(text: str) -> tuple[str | None, str]:
    """A first line that reads like a headline (short, no final full stop, more text after) is the title."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    first = first.strip()
    if rest.strip() and len(first) <= 200 and not first.endswith((".", "!", "?", "\u201d", '"')):
        return first, rest.strip()
    return None, stripped


def validate_claim(text: str) -> str:
    claim = " ".join(text.split())
    if not claim:
        raise ConfigError("the claim is empty")
    if "\x00" in claim:
        raise ConfigError("the claim contains binary data")
    if len(claim) > MAX_CLAIM_CHARS:
        raise ConfigError(
            f"the claim is {len(claim)} characters; the limit is {MAX_CLAIM_CHARS} (use `article` for long texts)"
        )
    return claim


# -- the checker -----------------------------------------------------------------------------


def open_index(
    store: Store, embedder: Embedder, settings: Settings, log: Callable[[str], None] | None = None
) -> VectorIndex:
    """The index, repaired first when it lags the store and no writer holds the data folder."""
    try:
        loaded = load_index(settings.index_dir)
    except IndexStateError as exc:
        loaded = None
        if log:
            log(f"index needs repair: {exc}")
    fresh = (
        loaded is not None
        and loaded[1].store_generation == store.generation()
        and loaded[1].count == store.passage_count()
    )
    if fresh and loaded is not None:
        return loaded[0]
    if store.passage_count() == 0 and loaded is None:
        return VectorIndex.empty("flat", embedder.name, embedder.dimension, settings)
    try:
        with writer_lock(settings.home, timeout=0, what="index repair"):
            index, report = sync_index(store, embedder, settings)
            if log and (report.added or report.removed or report.rebuilt):
                log(f"index synced: +{report.added} -{report.removed}{' (rebuilt)' if report.rebuilt else ''}")
            return index
    except StoreError:
        # an ingest is writing right now: answer from the last saved index (a consistent snapshot)
        if loaded is None:
            raise IndexStateError("no usable index yet and an ingest is writing; try again when it finishes") from None
        return loaded[0]


class Checker:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: VectorIndex,
        embedder: Embedder,
        stance: StanceModel,
        registry: OutletRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.embedder = embedder
        self.stance = stance
        self.registry = registry
        self.retriever = Retriever(store, index, embedder, settings)
        outlets = store.outlets()
        self._groups = {o.name: o.group for o in outlets}
        # longest names first so "RIA Novosti" wins over "RIA"
        self._names = sorted(self._groups, key=len, reverse=True)

    @classmethod
    def open(cls, settings: Settings, log: Callable[[str], None] | None = None) -> Checker:
        log = log or (lambda m: print(m, file=sys.stderr))
        store = Store(settings.store_path)
        embedder = load_embedder()
        index = open_index(store, embedder, settings, log)
        if index.count == 0:
            log(
                f"warning: the corpus in {settings.home} is empty; every claim will be unmatched "
                "(run `corroborate ingest` or `corroborate import` first)"
            )
        try:
            registry: OutletRegistry | None = OutletRegistry(load_outlets(settings.outlets_file))
        except ConfigError:
            registry = None
        return cls(settings, store, index, embedder, StanceModel.load(settings.stance_model, embedder), registry)

    def close(self) -> None:
        self.store.close()

    def corpus_info(self) -> dict[str, Any]:
        return {"documents": self.store.document_count(), "passages": self.index.count, "home": str(self.settings.home)}

    # ---

    def judge(self, claims: Sequence[str], exclusions: Exclusions | None = None) -> list[Verdict]:
        """Verdicts for several claims: one embedding batch, one stance batch."""
        if not claims:
            return []
        vectors = self.embedder.encode(list(claims))
        found: list[list[Evidence]] = [self.retriever.retrieve(c, exclusions, vectors[i]) for i, c in enumerate(claims)]
        pairs = [(c, ev.excerpt) for c, evs in zip(claims, found, strict=True) for ev in evs]
        results = self.stance.predict(pairs)
        quote_sims = self._quote_similarities(vectors, found, [r.quote for r in results])
        stances = iter(zip(results, quote_sims, strict=True))
        s = self.settings
        verdicts: list[Verdict] = []
        for claim, evs in zip(claims, found, strict=True):
            items: list[EvidenceItem] = []
            for ev in evs:
                st, quote_sim = next(stances)
                judged = judge_quote(claim, st.quote, st.probabilities, quote_sim, s.min_quote_similarity,
                                     s.paraphrase_similarity)
                doc = ev.document
                start = ev.excerpt_start + st.quote_start
                end = ev.excerpt_start + st.quote_end
                items.append(
                    EvidenceItem(
                        outlet=doc.outlet,
                        group=doc.owner_group,
                        url=doc.url,
                        quote=st.quote,
                        start=start,
                        end=end,
                        stance=judged.stance,
                        score=judged.score,
                        quote_similarity=quote_sim,
                        reason=judged.reason,
                        probabilities=st.probabilities,
                        similarity=ev.similarity,
                        title=doc.title,
                        published=doc.published,
                        state_media=doc.state_media,
                        cluster_id=doc.cluster_id,
                        attributed_to=attributed_origin(st.quote, self._names, doc.outlet),
                    )
                )
            verdicts.append(decide(items, self.settings, self._groups))
        return verdicts

    def _quote_similarities(
        self, claim_vectors: npt.NDArray[np.float32], found: list[list[Evidence]], quotes: list[str]
    ) -> list[float]:
        """Cosine of each claim and the sentence quoted for it (each distinct quote embedded once)."""
        distinct = sorted(set(quotes))
        if not distinct:
            return []
        position = {q: i for i, q in enumerate(distinct)}
        vecs = self.embedder.encode(distinct)
        out: list[float] = []
        it = iter(quotes)
        for i, evs in enumerate(found):
            for _ in evs:
                out.append(float(vecs[position[next(it)]] @ claim_vectors[i]))
        return out

    def check_claim(self, text: str) -> ClaimResult:
        claim = validate_claim(text)
        return ClaimResult(claim, self.judge([claim])[0])

    def check_claims(self, texts: Sequence[str]) -> list[ClaimResult]:
        claims = [validate_claim(t) for t in texts]
        return [ClaimResult(c, v) for c, v in zip(claims, self.judge(claims), strict=True)]

    def exclusions_for(self, article: Article) -> Exclusions:
        outlets: set[str] = set()
        urls: set[str] = set()
        clusters: set[int] = set()
        if article.outlet:
            outlets.add(article.outlet)
        if article.url:
            urls.update({article.url, dedup.canonicalize_url(article.url)})
            stored = self.store.document_by_url(article.url)
            if stored is not None and stored.cluster_id is not None:
                clusters.add(stored.cluster_id)
        sig = dedup.minhash_signature(article.text, self.settings.minhash_permutations)
        return Exclusions(frozenset(outlets), frozenset(urls), frozenset(clusters), sig, article.published)

    def check_article(self, article: Article) -> ArticleReport:
        sentences = split_claims(article.text, article.title)
        claims = [s for s in sentences if s.is_claim]
        verdicts = self.judge([s.claim_text for s in claims], self.exclusions_for(article))
        by_index = {s.index: v for s, v in zip(claims, verdicts, strict=True)}
        results = [SentenceResult(s, by_index.get(s.index)) for s in sentences]
        return ArticleReport(article, results, self.corpus_info())


__all__ = ["Article", "ArticleReport", "Attribution", "Checker", "ClaimResult", "SentenceResult", "read_article"]
