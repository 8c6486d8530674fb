"""From per-passage stances to one verdict per claim (DESIGN.md, "The verdict").

An *independent voice* is an origin, not a URL: evidence from outlets of one owner group, from
syndicated copies (one near-duplicate cluster) and from passages that only relay another
outlet ("according to TASS") are merged into one voice (union-find over those links).

Statuses:
- corroborated: >= ``min_voices_corroborated`` agreeing voices that outweigh the disagreeing ones;
- contradicted: >= ``min_voices_contradicted`` disagreeing voices that outweigh the agreeing ones;
- unmatched: everything else.
Weights are the voices' stance probabilities, or plain counts when every voice is at least
``stance_high_confidence`` sure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from corroborate.settings import Settings

CORROBORATED, CONTRADICTED, UNMATCHED = "corroborated", "contradicted", "unmatched"
STATUSES = (CORROBORATED, CONTRADICTED, UNMATCHED)


@dataclass(frozen=True)
class EvidenceItem:
    """One judged evidence document for a claim."""

    outlet: str
    group: str  # owner / independence group
    url: str
    quote: str
    start: int  # offsets of ``quote`` in the document text
    end: int
    stance: str  # agree | disagree | discuss | unrelated
    score: float  # probability of ``stance``
    probabilities: dict[str, float]
    similarity: float
    title: str | None = None
    published: datetime | None = None
    state_media: bool = False
    cluster_id: int | None = None
    attributed_to: str | None = None  # outlet this passage relays ("according to TASS")
    quote_similarity: float | None = None  # cosine of the claim and the quoted sentence
    reason: str = "model"  # why ``stance`` is what it is (see polarity.judge_quote)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outlet": self.outlet,
            "group": self.group,
            "url": self.url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "stance": self.stance,
            "score": round(self.score, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "similarity": round(self.similarity, 4),
            "state_media": self.state_media,
            "attributed_to": self.attributed_to,
            "quote_similarity": round(self.quote_similarity, 4) if self.quote_similarity is not None else None,
            "reason": self.reason,
        }


@dataclass
class Voice:
    """An independent origin taking one side."""

    key: str
    stance: str  # agree | disagree
    weight: float
    outlets: list[str]
    state_media: bool
    evidence: list[EvidenceItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "voice": self.key,
            "outlets": self.outlets,
            "stance": self.stance,
            "weight": round(self.weight, 4),
            "state_media": self.state_media,
            "urls": [e.url for e in self.evidence],
        }


@dataclass
class Verdict:
    status: str
    confidence: float
    voices_for: list[Voice]
    voices_against: list[Voice]
    flags: list[str]
    evidence: list[EvidenceItem]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "voices_for": [v.to_dict() for v in self.voices_for],
            "voices_against": [v.to_dict() for v in self.voices_against],
            "flags": self.flags,
            "evidence": [e.to_dict() for e in self.evidence],
        }


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def attributed_origin(quote: str, outlet_names: Iterable[str], own: str) -> str | None:
    """The outlet a passage relays, when it says so ("according to TASS", "Xinhua reported")."""
    for name in outlet_names:
        if name == own or len(name) < 3:
            continue
        n = re.escape(name)
        if re.search(
            rf"\b(?:according to|cited by|citing|quoted by|told)\s+(?:the\s+)?{n}\b", quote, re.I
        ) or re.search(rf"\b{n}\s+(?:news agency\s+)?(?:reported|said|reports|says|cited)\b", quote, re.I):
            return name
    return None


def voices(
    items: Sequence[EvidenceItem], settings: Settings, groups: dict[str, str] | None = None
) -> tuple[list[Voice], list[Voice]]:
    """Merge evidence into independent voices for and against the claim.

    ``groups`` maps outlet name → independence group, used to put relayed passages under the
    outlet they relay.
    """
    groups = groups or {}
    counted = [e for e in items if e.stance in {"agree", "disagree"} and e.score >= settings.stance_min_confidence]
    uf = _UnionFind()
    for e in counted:
        uf.find(f"group:{e.group}")
        if e.cluster_id is not None:
            uf.union(f"group:{e.group}", f"cluster:{e.cluster_id}")
        if e.attributed_to:
            uf.union(f"group:{e.group}", f"group:{groups.get(e.attributed_to, e.attributed_to)}")
    merged: dict[str, list[EvidenceItem]] = {}
    for e in counted:
        merged.setdefault(uf.find(f"group:{e.group}"), []).append(e)
    pro: list[Voice] = []
    con: list[Voice] = []
    for key, members in merged.items():
        agree = max((m.score for m in members if m.stance == "agree"), default=0.0)
        disagree = max((m.score for m in members if m.stance == "disagree"), default=0.0)
        # a voice that says both things counts for the side it says more confidently
        stance = "agree" if agree >= disagree else "disagree"
        side = [m for m in members if m.stance == stance]
        outlets = sorted({m.outlet for m in side})
        voice = Voice(
            key=key.split(":", 1)[1],
            stance=stance,
            weight=max(agree, disagree),
            outlets=outlets,
            state_media=all(m.state_media for m in side),
            evidence=sorted(side, key=lambda m: -m.score),
        )
        (pro if stance == "agree" else con).append(voice)
    pro.sort(key=lambda v: -v.weight)
    con.sort(key=lambda v: -v.weight)
    return pro, con


def decide(items: Sequence[EvidenceItem], settings: Settings, groups: dict[str, str] | None = None) -> Verdict:
    """The verdict for one claim from its judged evidence."""
    pro, con = voices(items, settings, groups)
    all_voices = pro + con
    if all_voices and all(v.weight >= settings.stance_high_confidence for v in all_voices):
        w_for, w_against = float(len(pro)), float(len(con))
    else:
        w_for, w_against = sum(v.weight for v in pro), sum(v.weight for v in con)
    if len(pro) >= settings.min_voices_corroborated and w_for > w_against:
        status = CORROBORATED
        confidence = _confidence(w_for, w_against, len(pro), pro)
    elif len(con) >= settings.min_voices_contradicted and w_against > w_for:
        status = CONTRADICTED
        confidence = _confidence(w_against, w_for, len(con) + 1, con)
    else:
        status = UNMATCHED
        # how sure we are that nothing settles it: high with no related evidence, lower when close
        related = [e for e in items if e.stance != "unrelated"]
        nearest = max((e.score for e in items if e.stance in {"agree", "disagree"}), default=0.0)
        confidence = 0.9 if not related else max(0.3, 0.8 - 0.5 * nearest)
    flags: list[str] = []
    if pro and con:
        flags.append("disputed")
    if len(pro) == 1:
        flags.append("single_source")
    if pro and all(v.state_media for v in pro):
        flags.append("state_media_only")
    evidence = sorted(items, key=lambda e: (e.stance not in {"agree", "disagree"}, -e.score * e.similarity))
    return Verdict(status, round(min(1.0, max(0.0, confidence)), 4), pro, con, flags, evidence)


def _confidence(w_win: float, w_lose: float, n: int, winners: Sequence[Voice]) -> float:
    """Share of the weight on the winning side × how many voices stand behind it × their certainty."""
    share = w_win / (w_win + w_lose) if w_win + w_lose > 0 else 0.0
    breadth = 1.0 - 0.5**n
    certainty = sum(v.weight for v in winners) / len(winners)
    return share * breadth * (0.5 + 0.5 * certainty)
