"""Sentence-level checks on the stance model's document-level call.

The stance model is trained on FNC-1, where a body "agrees" with a headline when it reports the
same story. A verdict needs more: the quoted evidence sentence must state (or deny) *this* claim.
:func:`judge_quote` turns the model's probabilities plus the claim-vs-quote similarity into the
stance that counts for the verdict:

- a quote that is not close to the claim (``min_quote_similarity``) is only ``discuss``;
- a close quote that flips the claim's polarity (approved/rejected, not, "false") is ``disagree``;
- a near-paraphrase (``paraphrase_similarity``) the model called ``discuss`` states the claim, so
  it is ``agree`` unless hedged.

Each rule names its reason, so users see why a quote counts the way it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
HEDGES = _wordset(
    """reportedly allegedly rumoured rumored unconfirmed may might could possibly perhaps expected likely
    considering mulling weighing"""
)
STOP = _wordset(
    """the a an of to in on at for by and or is are was were be been has have had with that this it its as from will
    would"""
)


@dataclass(frozen=True)
class QuoteJudgement:
    stance: str  # agree | disagree | discuss | unrelated
    score: float  # how sure, in [0, 1]
    reason: str  # why this stance counts ("model", "antonym approv/reject", "not close to the claim", ...)


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


def judge_quote(
    claim: str,
    quote: str,
    probabilities: dict[str, float],
    quote_similarity: float,
    min_quote_similarity: float,
    paraphrase_similarity: float,
) -> QuoteJudgement:
    """The stance that counts for the verdict (see module docstring)."""
    label = max(probabilities, key=lambda k: probabilities[k])
    p = probabilities
    if label == "unrelated":
        return QuoteJudgement("unrelated", p["unrelated"], "model")
    if quote_similarity < min_quote_similarity:
        return QuoteJudgement("discuss", 1.0 - max(p["agree"], p["disagree"]), "quote not close to the claim")
    related = 1.0 - p["unrelated"]
    conflict = polarity_conflict(claim, quote)
    if conflict is not None:
        # as sure as the quote is close to the claim and the model thinks the story is the same
        return QuoteJudgement("disagree", max(p["disagree"], min(related, quote_similarity)), conflict)
    if label == "disagree":
        return QuoteJudgement("disagree", p["disagree"], "model")
    if label == "discuss" and quote_similarity >= paraphrase_similarity and not HEDGES & set(_words(quote)):
        return QuoteJudgement("agree", max(p["agree"], min(related, quote_similarity)), "quote restates the claim")
    return QuoteJudgement(label, p[label], "model")
