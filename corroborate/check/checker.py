"""Checking claims: read an article, split its claims, retrieve, judge stance, decide verdicts.

:class:`Checker` holds what is expensive to load (store, index, embedder, stance model) so a
batch (``check --file``), an article, or a served Prefect deployment pays for it once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corroborate.check.retrieve import Evidence, ExcludedCopy, Exclusions, Retriever
from corroborate.check.verdict import AtomVerdict, AttributionMatcher, EvidenceItem, Verdict, decide, decide_sentence
from corroborate.claims.atoms import Atom, split_atoms
from corroborate.claims.sentences import Attribution, ClaimSentence, iter_claims
from corroborate.corpus import dedup
from corroborate.corpus.backend import CorpusStore, corpus_writer_lock, open_store
from corroborate.corpus.embed import Embedder, load_embedder
from corroborate.corpus.index import VectorIndex, load_index, sync_index
from corroborate.errors import ConfigError, IndexStateError, StoreError
from corroborate.ingest.outlets import OutletRegistry, load_outlets
from corroborate.judge.reading import AtomJudgement, Judge, claim_atoms, claim_problem
from corroborate.screens import visible
from corroborate.settings import Settings


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
            "atoms": [a.to_dict() for a in v.atoms] if v else [],
        }


@dataclass
class ArticleReport:
    article: Article
    sentences: list[SentenceResult]
    corpus: dict[str, Any] = field(default_factory=dict)
    excluded_copies: list[ExcludedCopy] = field(default_factory=list)  # copies of the article left out

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
                "excluded_copies": [c.to_dict() for c in self.excluded_copies],
            },
            "claims": [s.to_dict() for s in self.sentences],
        }


# -- reading input ---------------------------------------------------------------------------


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<p>" in head and "<body" in head)


def read_article(source: str, settings: Settings, registry: OutletRegistry | None = None) -> Article:
    """An article from a file (plain text or HTML) or an http(s) URL, or a one-line ConfigError/FetchError."""
    from corroborate.ingest.extract import extract

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
        from corroborate.ingest.fetch import fetch_url_sync

        if dedup.has_userinfo(source):  # never fetched with, stored or shown (issue 24, finding 9)
            source = dedup.strip_userinfo(source)
            print(f"note: user:password removed from the article URL; fetching {visible(source)}", file=sys.stderr)
        result = fetch_url_sync(source, settings, kind="page")
        ex = extract(result.text or "", result.final_url, settings)
        for warning in ex.warnings:
            print(visible(warning, multiline=True), file=sys.stderr)
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
        for warning in ex.warnings:
            print(visible(warning, multiline=True), file=sys.stderr)
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


def validate_claim(text: str, any_language: bool = False) -> str:
    """The claim with its whitespace flattened, or a one-line ConfigError saying why it cannot be judged
    (``any_language``: the ``judge_any_language`` setting)."""
    problem = claim_problem(text, any_language)
    if problem:
        raise ConfigError(problem)
    return " ".join(text.split())


# -- the checker -----------------------------------------------------------------------------

Progress = Callable[[int, int], None]
# claims judged per step of an article, and of a batch when progress is reported (a step still fills
# the judge's batches)
PROGRESS_BATCH = 16


def open_index(
    store: CorpusStore, embedder: Embedder, settings: Settings, log: Callable[[str], None] | None = None
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
    if store.read_only:  # nothing can be repaired in a read-only data folder: answer from what is saved
        if loaded is None:
            raise IndexStateError(
                f"no usable index in {settings.index_dir}, and the data folder is read-only; run "
                "`corroborate index rebuild` where it can be written"
            )
        if log:
            log(f"warning: the index lags the store and {settings.home} is read-only; answering from the saved index")
        return loaded[0]
    try:
        with corpus_writer_lock(settings, timeout=0, what="index repair"):
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
        store: CorpusStore,
        index: VectorIndex,
        embedder: Embedder,
        judge: Judge,
        registry: OutletRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.embedder = embedder
        self.judge_model = judge
        self.registry = registry
        self.retriever = Retriever(store, index, embedder, settings)
        outlets = store.outlets()
        self._groups = {o.name: o.group for o in outlets}
        # built once: matching a quote then costs the same whatever the registry's size
        self._attribution = AttributionMatcher(self._groups)

    @classmethod
    def open(cls, settings: Settings, log: Callable[[str], None] | None = None) -> Checker:
        log = log or (lambda m: print(m, file=sys.stderr))
        store = open_store(settings)
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
        return cls(settings, store, index, embedder, Judge.for_settings(settings, embedder), registry)

    def close(self) -> None:
        self.store.close()

    def corpus_info(self) -> dict[str, Any]:
        return {"documents": self.store.document_count(), "passages": self.index.count, "home": str(self.settings.home)}

    # ---

    def judge(
        self,
        claims: Sequence[str],
        exclusions: Exclusions | None = None,
        atoms: Sequence[Sequence[Atom]] | None = None,
    ) -> list[Verdict]:
        """Verdicts for several claims: retrieval per claim, then every checkable atom judged against
        every retrieved evidence text in one embedding batch and one cross-encoder batch."""
        if not claims:
            return []
        claim_atoms_ = [list(a) for a in atoms] if atoms is not None else [claim_atoms(c) for c in claims]
        vectors = self.embedder.encode(list(claims))
        found: list[list[Evidence]] = [self.retriever.retrieve(c, exclusions, vectors[i]) for i, c in enumerate(claims)]
        jobs: list[tuple[Atom, str]] = []
        for ats, evs in zip(claim_atoms_, found, strict=True):
            for atom in ats:
                if atom.checkable:
                    jobs.extend((atom, ev.excerpt) for ev in evs)
        results = iter(self.judge_model.judge_atoms(jobs))
        return [self.verdict(ats, evs, results) for ats, evs in zip(claim_atoms_, found, strict=True)]

    def verdict(self, atoms: Sequence[Atom], evs: Sequence[Evidence], judged: Iterator[AtomJudgement]) -> Verdict:
        """One claim's verdict: each checkable atom's evidence items (taken from ``judged``, in the order
        :meth:`judge` asked for them: atom by atom, document by document) decided, then the sentence."""
        atom_verdicts: list[AtomVerdict] = []
        for ai, atom in enumerate(atoms):
            if not atom.checkable:
                atom_verdicts.append(AtomVerdict(atom, None))
                continue
            items = [self._item(ev, next(judged), ai) for ev in evs]
            atom_verdicts.append(AtomVerdict(atom, decide(items, self.settings, self._groups)))
        return decide_sentence(atom_verdicts, self.settings)

    def _item(self, ev: Evidence, j: AtomJudgement, atom_index: int) -> EvidenceItem:
        doc = ev.document
        return EvidenceItem(
            outlet=doc.outlet,
            group=doc.owner_group,
            url=doc.url,
            quote=j.quote,
            start=ev.excerpt_start + j.quote_start,
            end=ev.excerpt_start + j.quote_end,
            stance=j.stance,
            score=j.score,
            quote_similarity=j.similarity,
            reason=j.reason,
            probabilities=j.probabilities,
            similarity=ev.similarity,
            title=doc.title,
            published=doc.published,
            state_media=doc.state_media,
            cluster_id=doc.cluster_id,
            attributed_to=self._attribution.match(j.quote, doc.outlet),
            origin_key=ev.origin,
            unvetted=not doc.listed,
            atom=atom_index,
            judge=j.judge,
        )

    def check_claim(self, text: str) -> ClaimResult:
        claim = validate_claim(text, self.settings.judge_any_language)
        return ClaimResult(claim, self.judge([claim])[0])

    def check_claims(self, texts: Sequence[str], progress: Progress | None = None) -> list[ClaimResult]:
        """Verdicts for ``texts``; ``progress(done, total)`` hears after each batch of claims."""
        claims = [validate_claim(t, self.settings.judge_any_language) for t in texts]
        verdicts = self._judge_batches(claims, None, None, progress)
        return [ClaimResult(c, v) for c, v in zip(claims, verdicts, strict=True)]

    def _judge_batches(
        self,
        claims: Sequence[str],
        exclusions: Exclusions | None,
        atoms: Sequence[Sequence[Atom]] | None,
        progress: Progress | None,
    ) -> list[Verdict]:
        """:meth:`judge`, in batches of PROGRESS_BATCH claims when someone wants to hear progress."""
        if progress is None:
            return self.judge(claims, exclusions, atoms)
        verdicts: list[Verdict] = []
        progress(0, len(claims))
        for start in range(0, len(claims), PROGRESS_BATCH):
            end = start + PROGRESS_BATCH
            verdicts += self.judge(claims[start:end], exclusions, None if atoms is None else atoms[start:end])
            progress(len(verdicts), len(claims))
        return verdicts

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
        return Exclusions(
            frozenset(outlets), frozenset(urls), frozenset(clusters), sig, article.published, text=article.text
        )

    def check_article(self, article: Article, progress: Progress | None = None) -> ArticleReport:
        """Every claim of ``article`` judged; ``progress(done, total)`` hears after each batch of claims.

        Claims are judged PROGRESS_BATCH at a time while the text is still being split, so a long
        article (a 5 MB text has some 36,000 claims) holds no backlog of parses or atoms, and progress
        starts with the first batch. Until the whole text is split, ``total`` is extrapolated from the
        share of the text read so far; the last call has the exact count.
        """
        if not article.text or not article.text.strip():
            raise ConfigError("article has no text")
        exclusions = self.exclusions_for(article)
        sentences: list[ClaimSentence] = []
        verdicts: dict[int, Verdict] = {}
        waiting: list[ClaimSentence] = []
        found = 0
        told = (-1, -1)

        def tell(done: int, total: int) -> None:
            nonlocal told
            if progress is not None and (done, total) != told:
                told = (done, total)
                progress(done, total)

        def judge_waiting(read_to: int) -> None:
            judged = self.judge([s.claim_text for s in waiting], exclusions, [split_atoms(s) for s in waiting])
            verdicts.update((s.index, v) for s, v in zip(waiting, judged, strict=True))
            waiting.clear()
            tell(len(verdicts), max(found, round(found * len(article.text) / max(read_to, 1))))

        tell(0, 0)
        for sentence in iter_claims(article.text, article.title):
            sentences.append(sentence)
            if sentence.is_claim:
                found += 1
                waiting.append(sentence)
                if len(waiting) == PROGRESS_BATCH:
                    judge_waiting(sentence.end)
        if waiting:
            judge_waiting(len(article.text))
        tell(found, found)
        results = [SentenceResult(s, verdicts.get(s.index)) for s in sentences]
        return ArticleReport(article, results, self.corpus_info(), list(exclusions.copies.values()))


__all__ = ["Article", "ArticleReport", "Attribution", "Checker", "ClaimResult", "SentenceResult", "read_article"]
