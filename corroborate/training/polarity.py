"""The retired word-list rules (opposite wording, negation, refuting words), kept for one job: the
ablation ``corroborate eval denials|fnc1 --word-rules``, which measures whether letting them override
the sentence judge (:mod:`corroborate.judge.reading`) would add anything. They are not on the check path:
the ablation showed they do not add to the judge (docs/evaluation.md), and they flip agreeing
sentences that deny something else ("The council approved the bridge, rejecting a rival tunnel plan").
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+(?:'t)?")

def _wordset(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


def _pairs(spaced: str) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in spaced.split():
        old, new = pair.replace("_", " ").split("/")
        out.append((old, new))
    return tuple(out)


# Word stems whose meanings exclude each other in news reporting (either direction); "_" is a space.
ANTONYM_STEMS = _pairs(
    """approv/reject approv/block approv/veto approv/refus approv/turn_down accept/reject accept/refus confirm/deny
    confirm/deni win/lose won/lost rise/fall rose/fell increas/decreas increas/cut rais/lower open/clos allow/ban
    allow/forbid pass/fail support/oppos guilty/innocent convict/acquit aliv/dead expand/shrink build/cancel
    sign/withdr agree/disagree elect/defeat launch/scrap start/halt resum/suspend back/reject green_light/reject"""
)
NEGATIONS = _wordset(
    """not no never n't neither nor without didn't doesn't don't won't isn't wasn't aren't weren't hasn't
    haven't hadn't cannot"""
)
REFUTATIONS = _wordset(
    """false untrue denied denies deny fake hoax debunked incorrect wrong refuted contrary misleading baseless
    unfounded fabricated"""
)
STOP = _wordset(
    """the a an of to in on at for by and or is are was were be been has have had with that this it its as from will
    would"""
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def polarity_conflict(claim: str, evidence: str) -> str | None:
    """A reason when ``evidence`` states the opposite of ``claim``, else None."""
    c_text, e_text = claim.lower(), evidence.lower()
    c_words, e_words = _words(claim), _words(evidence)
    for a, b in ANTONYM_STEMS:
        for x, y in ((a, b), (b, a)):
            if _has(c_text, c_words, x) and _has(e_text, e_words, y) and not _has(c_text, c_words, y):
                return f"opposite wording: {x}… / {y}…"
    if not NEGATIONS & set(c_words):
        claim_stems = {w[:5] for w in c_words if w not in STOP and len(w) > 3}
        for i, w in enumerate(e_words):
            if w in NEGATIONS and any(v[:5] in claim_stems for v in e_words[i + 1 : i + 4] if v not in STOP):
                return f"negated: {' '.join(e_words[i : i + 4])}"
    refuting = (REFUTATIONS & set(e_words)) - set(c_words)
    if refuting:
        return f"refuting word: {sorted(refuting)[0]}"
    return None


def _has(text: str, words: list[str], stem: str) -> bool:
    if " " in stem:
        return stem in text
    return any(w.startswith(stem) for w in words)
