"""The results of a check: one claim's verdict (:class:`ClaimResult`), an article's sentences with theirs
(:class:`SentenceResult`, :class:`ArticleReport`), and their JSON form (``to_dict``; the schema is
corroborate/data/article-report.schema.json, documented in docs/report-schema.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corroborate.check.article import Article
from corroborate.check.retrieve import ExcludedCopy
from corroborate.check.verdict import Verdict, unread_dict
from corroborate.claims.sentences import ClaimSentence


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
            "unread_other_language": unread_dict(v.unread_other_language if v else {}),
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
