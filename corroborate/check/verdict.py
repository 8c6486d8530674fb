"""From per-passage stances to one verdict per claim (docs/design.md, "The verdict").

An *independent voice* is an origin, not a URL: evidence from outlets of one owner group, from
syndicated copies (one near-duplicate cluster), from copies, excerpts and rewrites of one text
(``origin_key``, set by retrieval) and from passages that only relay another outlet ("according to
TASS") are merged into one voice (union-find over those links). A voice whose outlets are all
outside the registry is unvetted; a status resting only on such voices is flagged
``unvetted_sources_only``.

Statuses:
- corroborated: >= ``min_voices_corroborated`` agreeing voices that outweigh the disagreeing ones;
- contradicted: >= ``min_voices_contradicted`` disagreeing voices that outweigh the agreeing ones;
- unmatched: everything else.
Weights are the voices' stance probabilities, or plain counts when every voice is at least
``stance_high_confidence`` sure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from corroborate.claims.atoms import Atom
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
    reason: str = "judge"  # why ``stance`` is what it is (see corroborate.judge.reading)
    atom: int | None = None  # which atom of the claim this item judged
    judge: dict[str, float] | None = None  # the judge's entails/contradicts/neutral on ``quote``
    origin_key: str | None = None  # shared by copies and rewrites of one text (retrieve.Evidence.origin)
    unvetted: bool = False  # its outlet is in no registry

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
            "atom": self.atom,
            "judge": {k: round(v, 4) for k, v in self.judge.items()} if self.judge is not None else None,
            "unvetted": self.unvetted,
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
    unvetted: bool = False  # every outlet behind it is in no registry

    def to_dict(self) -> dict[str, Any]:
        return {
            "voice": self.key,
            "outlets": self.outlets,
            "stance": self.stance,
            "weight": round(self.weight, 4),
            "state_media": self.state_media,
            "unvetted": self.unvetted,
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
    atoms: list[AtomVerdict] = field(default_factory=list)
    # documents in languages no judge reads that name the claim's names, by language: left unread
    unread_other_language: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "voices_for": [v.to_dict() for v in self.voices_for],
            "voices_against": [v.to_dict() for v in self.voices_against],
            "flags": self.flags,
            "evidence": [e.to_dict() for e in self.evidence],
            "atoms": [a.to_dict() for a in self.atoms],
            "unread_other_language": unread_dict(self.unread_other_language),
        }


def unread_dict(by_language: dict[str, int]) -> dict[str, Any]:
    """The report's ``unread_other_language``: how many reports in other languages on the claim's names
    were left unread, in all and by language (docs/report-schema.md)."""
    return {"documents": sum(by_language.values()), "languages": dict(sorted(by_language.items()))}


@dataclass
class AtomVerdict:
    """One atom of a claim and its own verdict (None when the atom is not checkable)."""

    atom: Atom
    verdict: Verdict | None

    @property
    def status(self) -> str | None:
        return self.verdict.status if self.verdict else None

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {
            **self.atom.to_dict(),
            "status": v.status if v else None,
            "confidence": round(v.confidence, 4) if v else None,
            "flags": list(v.flags) if v else [],
            "voices_for": [x.to_dict() for x in v.voices_for] if v else [],
            "voices_against": [x.to_dict() for x in v.voices_against] if v else [],
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


# The two ways a passage says it relays another outlet. Only these cue words are searched for; the
# outlet's name is then read off the text beside them through a trie, so a check costs the same
# with ten registered outlets as with thousands (benchmarks/attribution.py).
_CUE_BEFORE = re.compile(r"\b(?:according to|cited by|citing|quoted by|told)\s+", re.I)  # ... NAME
_THE = re.compile(r"the\s+", re.I)
_CUE_AFTER = re.compile(r"(?=\s+(?:news agency\s+)?(?:reported|said|reports|says|cited)\b)", re.I)  # NAME ...
_WORD_CHAR = re.compile(r"\w")
_END = ""  # trie key marking that a name ends here


def _fold(ch: str) -> str:
    return ch.lower()


def _is_word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and _WORD_CHAR.match(text[i]) is not None


def _boundary(text: str, i: int) -> bool:
    """``\\b`` at position ``i``."""
    return _is_word(text, i - 1) != _is_word(text, i)


class AttributionMatcher:
    """Finds the outlet a passage relays ("according to TASS", "Xinhua reported"), built once per registry.

    A name counts after "according to / cited by / citing / quoted by / told [the]" when a word
    boundary follows it, and before "[news agency] reported / said / reports / says / cited" when a
    word boundary precedes it; case-insensitive. Names shorter than 3 characters are never matched.
    When several outlets are named, the longest name wins (ties: the order given).
    """

    def __init__(self, names: Iterable[str]) -> None:
        kept = [n for n in dict.fromkeys(names) if len(n) >= 3]
        kept.sort(key=len, reverse=True)  # stable: equal lengths keep the order given
        self._rank = {name: i for i, name in enumerate(kept)}
        self._forward: dict[str, Any] = {}
        self._backward: dict[str, Any] = {}
        for name in kept:
            folded = "".join(_fold(c) for c in name)
            for trie, chars in ((self._forward, folded), (self._backward, folded[::-1])):
                node = trie
                for ch in chars:
                    node = node.setdefault(ch, {})
                node.setdefault(_END, []).append(name)

    def __len__(self) -> int:
        return len(self._rank)

    def _names_from(self, text: str, start: int) -> Iterator[str]:
        """Names that start at ``start`` and are followed by a word boundary."""
        node = self._forward
        i = start
        while i < len(text):
            for ch in _fold(text[i]):
                child = node.get(ch)
                if child is None:
                    return
                node = child
            i += 1
            if _END in node and _boundary(text, i):
                yield from node[_END]

    def _names_before(self, text: str, end: int) -> Iterator[str]:
        """Names that end at ``end`` and are preceded by a word boundary."""
        node = self._backward
        i = end
        while i > 0:
            i -= 1
            for ch in reversed(_fold(text[i])):
                child = node.get(ch)
                if child is None:
                    return
                node = child
            if _END in node and _boundary(text, i):
                yield from node[_END]

    def match(self, quote: str, own: str | None = None) -> str | None:
        """The outlet ``quote`` relays, other than ``own`` (the outlet that published it), or None."""
        if not self._rank:
            return None
        found: set[str] = set()
        for cue in _CUE_BEFORE.finditer(quote):
            found.update(self._names_from(quote, cue.end()))
            the = _THE.match(quote, cue.end())
            if the is not None:
                found.update(self._names_from(quote, the.end()))
        for cue in _CUE_AFTER.finditer(quote):
            found.update(self._names_before(quote, cue.start()))
        if own is not None:
            found.discard(own)
        return min(found, key=self._rank.__getitem__) if found else None


def attributed_origin(quote: str, outlet_names: Iterable[str], own: str) -> str | None:
    """The outlet a passage relays, when it says so ("according to TASS", "Xinhua reported").

    Builds a matcher for each call: a caller with many quotes keeps an :class:`AttributionMatcher`.
    """
    return AttributionMatcher(outlet_names).match(quote, own)


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
        if e.origin_key:  # copies and rewrites of one text, whoever published them
            uf.union(f"group:{e.group}", f"origin:{e.origin_key}")
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
            unvetted=all(m.unvetted for m in side),
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
    resting_on = con if status == CONTRADICTED else pro
    if resting_on and all(v.unvetted for v in resting_on):
        flags.append("unvetted_sources_only")
    evidence = sorted(items, key=lambda e: (e.stance not in {"agree", "disagree"}, -e.score * e.similarity))
    return Verdict(status, round(min(1.0, max(0.0, confidence)), 4), pro, con, flags, evidence)


def _confidence(w_win: float, w_lose: float, n: int, winners: Sequence[Voice]) -> float:
    """Share of the weight on the winning side × how many voices stand behind it × their certainty."""
    share = w_win / (w_win + w_lose) if w_win + w_lose > 0 else 0.0
    breadth = 1.0 - 0.5**n
    certainty = sum(v.weight for v in winners) / len(winners)
    return share * breadth * (0.5 + 0.5 * certainty)


def decide_sentence(atoms: Sequence[AtomVerdict], settings: Settings) -> Verdict:
    """A claim sentence's verdict from its atoms' (docs/design.md, "What is judged is an atom").

    contradicted when any checkable atom is; corroborated when every distinctive atom is; otherwise
    unmatched, flagged ``partly_corroborated`` when some atom is corroborated. ``anonymous_source``
    marks a sentence whose anonymous-sourced atoms stay uncorroborated; ``not_checkable`` one whose
    atoms are all framing or opinion.
    """
    judged = [a for a in atoms if a.verdict is not None and a.atom.checkable]
    evidence = sorted(
        (e for a in judged if a.verdict for e in a.verdict.evidence),
        key=lambda e: (e.stance not in {"agree", "disagree"}, -e.score * e.similarity),
    )
    if not judged:
        return Verdict(UNMATCHED, 0.9, [], [], ["not_checkable"], evidence, list(atoms))
    verdicts = [a.verdict for a in judged if a.verdict is not None]
    distinctive = [a.verdict for a in judged if a.atom.distinctive and a.verdict is not None] or verdicts
    against = [v for v in verdicts if v.status == CONTRADICTED]
    flags: list[str] = []
    if against:
        status = CONTRADICTED
        confidence = max(v.confidence for v in against)
        pro, con = _union(v.voices_for for v in verdicts), _union(v.voices_against for v in against)
        flag_from = against
    elif all(v.status == CORROBORATED for v in distinctive):
        status = CORROBORATED
        confidence = min(v.confidence for v in distinctive)
        pro, con = _union(v.voices_for for v in distinctive), _union(v.voices_against for v in distinctive)
        flag_from = distinctive
    else:
        status = UNMATCHED
        open_ = [v for v in distinctive if v.status != CORROBORATED]
        confidence = min(v.confidence for v in open_)
        pro, con = _union(v.voices_for for v in verdicts), _union(v.voices_against for v in verdicts)
        flag_from = open_
        if any(v.status == CORROBORATED for v in verdicts):
            flags.append("partly_corroborated")
    for v in flag_from:
        for f in v.flags:
            if f not in flags:
                flags.append(f)
    if any(a.atom.anonymous and a.status != CORROBORATED for a in judged):
        flags.append("anonymous_source")
    return Verdict(status, round(confidence, 4), pro, con, flags, evidence, list(atoms))


def _union(groups: Iterable[list[Voice]]) -> list[Voice]:
    """Voices of several atoms, one per origin (the most confident)."""
    best: dict[str, Voice] = {}
    for voices_ in groups:
        for v in voices_:
            if v.key not in best or v.weight > best[v.key].weight:
                best[v.key] = v
    return sorted(best.values(), key=lambda v: -v.weight)
