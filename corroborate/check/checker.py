"""Checking claims: split an article's claims, retrieve, judge, decide verdicts.

:class:`Checker` holds what is expensive to load (store, index, embedder, judge) so a batch
(``check --file``), an article, or a served Prefect deployment pays for it once. What it reads is in
:mod:`corroborate.check.article`, what it returns in :mod:`corroborate.check.records`, and the index it
opens comes from :mod:`corroborate.check.repair`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from corroborate.check.article import Article as Article
from corroborate.check.article import read_article as read_article
from corroborate.check.article import read_text_file as read_text_file
from corroborate.check.article import split_title as split_title
from corroborate.check.article import validate_claim as validate_claim
from corroborate.check.records import ArticleReport as ArticleReport
from corroborate.check.records import ClaimResult as ClaimResult
from corroborate.check.records import SentenceResult as SentenceResult
from corroborate.check.repair import open_index as open_index
from corroborate.check.retrieve import Evidence, Exclusions, Retriever
from corroborate.check.verdict import AtomVerdict, AttributionMatcher, EvidenceItem, Verdict, decide, decide_sentence
from corroborate.claims.atoms import Atom, split_atoms
from corroborate.claims.sentences import Attribution, ClaimSentence, iter_claims
from corroborate.corpus import dedup
from corroborate.corpus.backend import CorpusStore, open_store
from corroborate.corpus.embed import Embedder, load_embedder
from corroborate.corpus.index import VectorIndex
from corroborate.errors import ConfigError
from corroborate.ingest.outlets import OutletRegistry, load_outlets
from corroborate.judge.reading import AtomJudgement, Judge, claim_atoms
from corroborate.languages import judged_languages
from corroborate.settings import Settings

# -- the checker -----------------------------------------------------------------------------

# entity labels that name someone or something, spelled alike in a report in another language
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})


def names_of(entities: Iterable[tuple[str, str]]) -> list[str]:
    """The names among a sentence's (text, label) entities, each once, in order."""
    return list(dict.fromkeys(text for text, label in entities if label in NAME_LABELS and text.strip()))


def claim_names(claim: str) -> list[str]:
    """The names a free-standing claim mentions (spaCy's entities, as for an article's sentences)."""
    from corroborate.claims.sentences import split_claims

    try:
        return names_of(entity for sentence in split_claims(claim) for entity in sentence.entities)
    except ConfigError:
        return []


Progress = Callable[[int, int], None]
# claims judged per step of an article, and of a batch when progress is reported (a step still fills
# the judge's batches)
PROGRESS_BATCH = 16


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
        names: Sequence[Sequence[str]] | None = None,
    ) -> list[Verdict]:
        """Verdicts for several claims: retrieval per claim, then every checkable atom judged against
        every retrieved evidence text in one embedding batch and one cross-encoder batch.

        ``names`` (the claims' named entities, found here when not given) count the reports in other
        languages on the same names that are left unread (``Verdict.unread_other_language``)."""
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
        verdicts = [self.verdict(ats, evs, results) for ats, evs in zip(claim_atoms_, found, strict=True)]
        for i, v in enumerate(verdicts):
            v.unread_other_language = self.unread_other_language(
                names[i] if names is not None else claim_names(claims[i]), exclusions
            )
        return verdicts

    def unread_other_language(self, names: Sequence[str], exclusions: Exclusions | None = None) -> dict[str, int]:
        """Stored reports in languages no judge reads that name ``names`` (all, or two of more), by
        language; the article's own outlet left out. They are never retrieved or judged."""
        if not names:
            return {}
        outlets = exclusions.outlets if exclusions is not None else frozenset()
        return self.store.other_language_reports(names, judged_languages(self.settings.languages), outlets)

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
            given = article.source if article.source != article.url and "://" in article.source else None
            if given:  # a redirect: the URL given is the article too (the corpus may hold it under either)
                urls.update({given, dedup.canonicalize_url(given)})
            stored = self.store.document_by_url(article.url)
            if stored is None and given:
                stored = self.store.document_by_url(given)
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
            judged = self.judge(
                [s.claim_text for s in waiting],
                exclusions,
                [split_atoms(s) for s in waiting],
                [names_of(s.entities) for s in waiting],
            )
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
