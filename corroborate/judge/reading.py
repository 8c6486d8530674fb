"""The one judging path: does this evidence state, deny, or only discuss this claim?

``check`` and ``corroborate stance`` both come here. A claim is split into atoms
(:mod:`corroborate.claims.atoms`); for each checkable atom and each evidence text:

1. the evidence is split into sentences and the MiniLM bi-encoder keeps the
   ``SENTENCES_PER_EVIDENCE`` sentences closest to the atom (the judge never sees the rest);
2. the cross-encoder (:mod:`corroborate.judge.model`) gives each kept sentence
   P(entails), P(contradicts), P(neutral) on what the sentence asserts (:func:`content`: no dateline,
   lead-in or attribution tail); the most decisive sentence is the quote;
3. relatedness r grows with the quote's cosine to the atom (``RELATED_LOW`` → ``RELATED_HIGH``), and
   the four stance probabilities are agree = r·P(entails), disagree = r·P(contradicts),
   discuss = r·P(neutral)·t, unrelated = 1 − r + r·P(neutral)·(1 − t), where t is the chance that the
   text is about the atom at all (:func:`topic_relatedness`: the quote's cosine and the share of the
   atom's words in the sentences read, fitted on FNC-1 train stories by scripts/fit_relatedness.py);
   the stance is the largest;
4. attribution rules: for "S said P" a sentence that states P without naming S only discusses it
   (``reason="states it without its source"``); an atom resting on anonymous sources is agreed with
   only by a report that carries the same attributed statement (anonymous sourcing of its own);
   a sentence without any word of one of the atom's names (in it or just before it) only discusses
   it: the judge reads shared words as agreement, and a report of the same place or people that
   leaves out the railway's other end, the quay's builder, does not state the atom. A denial counts
   either way. (Chosen by ``scripts/judge_rule_ablation.py`` on FNC-1 dev stories; a like rule for
   figures did not add and is not on the path.)

Per evidence text, the atoms' stances combine as ``check`` combines them: disagree when any
checkable atom is denied, agree when every distinctive atom is stated, else the strongest of
discuss/unrelated (:func:`combine`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from corroborate.claims.atoms import MAIN, Atom, atoms_of_text
from corroborate.claims.sentences import NO_ATTRIBUTION, Attribution
from corroborate.corpus.embed import Embedder
from corroborate.corpus.passages import STOPWORDS
from corroborate.errors import ConfigError
from corroborate.judge.model import JudgeModel, Progress
from corroborate.settings import Settings

SENTENCES_PER_EVIDENCE = 2
# READ_CORE: the judge reads an evidence sentence's assertion without its lead-in and attribution tail
# (:func:`content`). Off for the shipped (eighth) judge, which reads a sentence identical to the claim as a
# contradiction ("X will cut 800 jobs." against itself: contradicts 1.00; with ", the company announced" left
# on: entails 0.99), so stripping the tail turned its agreements into denials (FNC-1 dev stories 0.8939 ->
# 0.8915 with both rules on); a judge trained on lead-ins and tails (the tenth and eleventh mixes) reads
# them whole anyway. RELAY_RULE: a sentence that only relays the atom (:func:`relays`) does not state it.
# docs/evaluation.md, scripts/judge_rule_ablation.py.
READ_CORE = False
RELAY_RULE = True
RELATED_LOW = 0.2  # cosine at which relatedness starts
RELATED_HIGH = 0.45  # cosine from which a sentence is fully related
# Is the text about the atom at all (FNC-1's related vs unrelated)? A logistic of the quote's cosine and
# the share of the atom's words in the sentences read (:func:`coverage`), fitted on FNC-1 train stories
# and its cut chosen on dev stories by scripts/fit_relatedness.py: (intercept, cosine, coverage).
TOPIC_WEIGHTS = (-8.74, 15.18, 6.24)
MAX_SENTENCE_CHARS = 600
STANCES = ("agree", "disagree", "discuss", "unrelated")

_ANONYMOUS_CUES = re.compile(
    r"\b(?:sources?|insiders?|people (?:familiar|close)|person (?:familiar|close)|unnamed|anonymous|anonymity"
    r"|officials? (?:said|say|says|told)|according to (?:officials|people|a person|one|two|three|several)"
    r"|speaking on condition|leak(?:ed|s)?)\b",
    re.IGNORECASE,
)
_TITLE_WORDS = frozenset({
    "president", "prime", "minister", "chancellor", "king", "queen", "office", "government", "ministry",
    "spokesperson", "spokesman", "spokeswoman", "secretary", "the", "a", "an", "of", "mr", "mrs", "ms", "dr",
})


@dataclass(frozen=True)
class AtomJudgement:
    """One atom against one evidence text."""

    stance: str  # agree | disagree | discuss | unrelated
    score: float  # probability of ``stance``
    probabilities: dict[str, float]  # agree/disagree/discuss/unrelated
    judge: dict[str, float]  # the cross-encoder's entails/contradicts/neutral on the quote
    quote: str
    quote_start: int  # offsets of the quote in the evidence text
    quote_end: int
    similarity: float  # cosine of the atom and the quote
    reason: str


MAX_CLAIM_CHARS = 2000


def claim_problem(claim: str, any_language: bool = False) -> str | None:
    """Why ``claim`` cannot be judged (one line), or None: the judge needs a statement with words.

    A claim written in a script without spaces between words (Chinese, Japanese, Thai, ...) is counted by
    its letters, not its spaces, and is refused naming its language: the judge reads English. With
    ``any_language`` (the ``judge_any_language`` setting) it is judged anyway, by the English judge.
    """
    flat = " ".join(claim.split())
    if not flat:
        return "the claim is empty"
    if "\x00" in flat:
        return "the claim contains binary data"
    if len(flat) > MAX_CLAIM_CHARS:
        return f"the claim is {len(flat):,} characters; the limit is {MAX_CLAIM_CHARS:,} (use `article` for long texts)"
    words = re.findall(r"[^\W\d_]{2,}", flat)
    if not words:
        return f"the claim {flat[:60]!r} has no words to check"
    language = unspaced_language(flat)
    if language is not None and not any_language:
        return (f"the claim is in {language}; the judge reads English only (setting judge_any_language = true "
                "judges it anyway, unreliably)")
    if language is not None:
        if sum(1 for ch in flat if ch.isalpha()) < 2:  # a script without spaces: one letter is one word here
            return f"the claim {flat[:60]!r} is one word; a claim says something about something"
    elif len(flat.split()) < 2:
        return f"the claim {flat[:60]!r} is one word; a claim says something about something"
    return None


# Scripts that do not separate words with spaces, and the language a claim in them is most likely in.
_UNSPACED = (
    ((0x3040, 0x30FF), "Japanese"), ((0x31F0, 0x31FF), "Japanese"), ((0xFF66, 0xFF9D), "Japanese"),  # kana
    ((0x3400, 0x4DBF), "Chinese"), ((0x4E00, 0x9FFF), "Chinese"), ((0xF900, 0xFAFF), "Chinese"),
    ((0x20000, 0x2FA1F), "Chinese"),  # Han ideographs; Japanese too when there is kana beside them
    ((0x0E00, 0x0E7F), "Thai"), ((0x0E80, 0x0EFF), "Lao"), ((0x1780, 0x17FF), "Khmer"),
    ((0x1000, 0x109F), "Burmese"), ((0x0F00, 0x0FFF), "Tibetan"),
)


def unspaced_language(text: str) -> str | None:
    """The language of ``text`` when most of its letters are of a script written without spaces, else None.

    Han with any kana is Japanese, Han alone Chinese; a few such letters in an English sentence (a name
    in its own script) do not count.
    """
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        code = ord(ch)
        for (lo, hi), name in _UNSPACED:
            if lo <= code <= hi:
                counts[name] = counts.get(name, 0) + 1
                break
    unspaced = sum(counts.values())
    if not letters or unspaced * 2 < letters:
        return None
    if counts.get("Japanese"):
        return "Japanese"
    return max(counts, key=lambda name: counts[name])


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an evidence text (spaCy's rule-based sentencizer, as passages are split:
    "4.2 million" and "U.S." stay whole); a sentence longer than MAX_SENTENCE_CHARS is cut."""
    from corroborate.corpus.passages import sentence_spans

    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):  # a line break ends a sentence (a headline above its story)
        for a, b in sentence_spans(line):
            if b - a >= 3:
                spans.append((offset + a, offset + min(b, a + MAX_SENTENCE_CHARS)))
        offset += len(line) + 1
    return spans or [(0, min(len(text), MAX_SENTENCE_CHARS))]


# "PORT AMSEL, 10 March (VSNA) – " / "LONDON (Reuters) - ": where and by whom, not what is claimed
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40},?\s*"  # the place, in capitals
    r"(?:[A-Z]?[a-z]{2,9}\.? \d{1,2}|\d{1,2} [A-Z][a-z]{2,8})?,?\s*"  # a date
    r"(?:\([^)]{1,40}\))?\s*[–—-]+\s+"  # (the agency) and a dash
)


# "Don't worry: …", "Update: …", "Contrary to rumours, …": how the writer leads in, not what is asserted
_LEAD = re.compile(
    r"^(?:(?:update[sd]?|breaking(?: news)?|just in|editor'?s note|correction|clarification|fact[- ]?check"
    r"|good news|bad news|don[’']?t (?:worry|panic)|relax|rest assured|spoiler|in a (?:twist|surprise)|as it turns out"
    r"|for the record|to be clear|in fact|indeed|in short|meanwhile|however|still|yet|but|and"
    r"|contrary to (?:(?:the |earlier |recent |online |widespread )?(?:rumou?rs|reports|speculation|claims|posts))"
    r"|despite (?:(?:the |earlier |recent |online )?(?:rumou?rs|reports|speculation|claims))"
    r")\s*[:,;—–-]+\s*)+",
    re.IGNORECASE,
)
# ", his agent said." / ", police said on Tuesday." / ", according to a statement.": who says it, which the
# attribution rules read from the whole sentence; the judge reads what is said
_TAIL = re.compile(
    r",\s*(?:(?:according to|as reported by|per)\s+[^,;:]{2,60}"
    r"|(?:his|her|their|its|the|a|an)?\s*[\w .'’-]{1,50}?\s+(?:said|says|confirmed|told [\w .'’-]{1,30}|announced"
    r"|added|stated|insisted|wrote|posted|reported)(?:\s+(?:on|in|late|early)\s+[\w .'’-]{1,30})?)\s*([.!]?)\s*$",
)


def content(sentence: str) -> str:
    """What the judge reads of an evidence sentence: the sentence without a leading dateline, a leading
    discourse phrase ("Don't worry:", "Update:", "Contrary to rumours,") or an attribution tail
    (", his agent said"); what is asserted stays, who asserts it is read by the attribution rules."""
    stripped = _DATELINE.sub("", sentence, count=1)
    if not READ_CORE:
        return stripped if len(stripped) >= 3 else sentence
    stripped = _LEAD.sub("", stripped, count=1)
    tail = _TAIL.search(stripped)
    if tail and tail.start() >= 12:
        stripped = stripped[: tail.start()] + (tail.group(1) or ".")
    if stripped[:1].islower():
        stripped = stripped[0].upper() + stripped[1:]
    return stripped if len(stripped) >= 3 else sentence


# Evidence that only relays the claim as someone else's unconfirmed report or as a possibility ("…, report
# says", "reportedly", "is said to", "may", "rumours", "unverified posts claim", a question) does not state
# it: the outlet does not say so itself. Confirmations ("police confirmed reports that …") do.
_RELAY = re.compile(
    r"\b(?:reportedly|allegedly|purportedly|supposedly|unconfirmed|unverified|unsubstantiated|rumou?r(?:s|ed)?"
    r"|speculat(?:e|es|ed|ion)|hoax claims?"
    r"|(?:is|are|was|were|been|being)\s+(?:said|believed|thought|reported|alleged|rumou?red|claimed|understood)\s+to"
    r"|(?:reports?|media|tabloids?|posts?|websites?|sites?|bloggers?|users?|footage|videos?)\s+(?:say|says|said|claim"
    r"|claims|claimed|suggest|suggests|suggested|allege|alleges|alleged|purport|purports)"
    r"|(?:claims?|reports?|speculation|suggestions?|allegations?)\s+that"
    r"|according to (?:(?:unconfirmed|unverified|media|press|some|several|local|news|early|initial) )*reports?)\b"
    r"|(?<!\w)(?-i:may|might|could)\s+(?!not\b)",  # lower case: "in May 2024" is a month
    re.IGNORECASE,
)
_STATES_ITSELF = re.compile(r"\b(?:confirm(?:s|ed|ing)?|verif(?:y|ies|ied)|it is true|proved|proven)\b", re.IGNORECASE)


def relays(sentence: str) -> bool:
    """Does ``sentence`` only relay what it says (someone else's unconfirmed report, a possibility, a
    question) instead of stating it?"""
    text = sentence.strip()
    if text.rstrip("\"'”’ )").endswith("?"):
        return True
    if not _RELAY.search(text):
        return False
    return not _STATES_ITSELF.search(text)


def relatedness(cosine: float) -> float:
    return float(np.clip((cosine - RELATED_LOW) / (RELATED_HIGH - RELATED_LOW), 0.0, 1.0))


_WORD = re.compile(r"\w+")


def _stems(text: str) -> list[str]:
    return [w[:5] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS]


def coverage(atom: str, evidence: str, spans: Sequence[tuple[int, int]]) -> float:
    """Share of the atom's words (5-letter stems, common words left out) found in the sentences
    read, each with the 300 characters before it."""
    wanted = _stems(atom)
    if not wanted:
        return 1.0
    window: set[str] = set()
    for a, b in spans:
        window.update(_stems(evidence[max(0, a - 300) : b]))
    return sum(w in window for w in wanted) / len(wanted)


def topic_relatedness(cosine: float, covered: float) -> float:
    """P(the text is about the atom) from the quote's cosine and :func:`coverage` (``TOPIC_WEIGHTS``)."""
    b0, b1, b2 = TOPIC_WEIGHTS
    return float(1.0 / (1.0 + np.exp(-(b0 + b1 * cosine + b2 * covered))))


def source_keys(attribution: Attribution) -> list[str]:
    """Words that name a source in other reports ("President Zelenskyy's office" → ["Zelenskyy"])."""
    if not attribution.source:
        return []
    words = re.findall(r"[\w\-]+", attribution.source.replace("’s", "").replace("'s", ""))
    named = [w for w in words if w[:1].isupper() and w.lower() not in _TITLE_WORDS]
    return named or [w for w in words[-1:] if w.lower() not in _TITLE_WORDS]


def closest_sentences(
    vec_of: Mapping[str, npt.NDArray[np.float32]], atom: str, evidence: str, spans: Sequence[tuple[int, int]], k: int
) -> list[tuple[int, int, float]]:
    """The ``k`` sentences of ``evidence`` the judge reads for ``atom``: ``(start, end, cosine)``, closest
    first by the bi-encoder (``vec_of`` maps the atom and each sentence's :func:`content` to its vector)."""
    av = vec_of[atom]
    scored = sorted(((float(vec_of[content(evidence[a:b])] @ av), a, b) for a, b in spans), reverse=True)
    return [(a, b, cos) for cos, a, b in scored[:k]]


class Judge:
    """The loaded judge: the cross-encoder plus the bi-encoder that picks the sentences it reads."""

    def __init__(self, model: JudgeModel, embedder: Embedder, sentences: int = SENTENCES_PER_EVIDENCE) -> None:
        self.model = model
        self.embedder = embedder
        self.sentences = sentences

    @classmethod
    def load(
        cls, embedder: Embedder | None = None, folder: Path | None = None, sentences: int = SENTENCES_PER_EVIDENCE,
        precision: str = "auto",
    ) -> Judge:
        """The bundled judge (or a retrained one in ``folder``) with the MiniLM bi-encoder."""
        from corroborate.corpus.embed import load_embedder

        return cls(JudgeModel.load(folder, precision), embedder or load_embedder(), sentences)

    @classmethod
    def for_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Judge:
        return cls.load(embedder, settings.judge_model, settings.judge_sentences, settings.judge_precision)

    def judge_atoms(
        self,
        jobs: Sequence[tuple[Atom, str]],
        progress: Progress | None = None,
    ) -> list[AtomJudgement]:
        """Judge each ``(atom, evidence text)``; one embedding batch and one cross-encoder batch."""
        if not jobs:
            return []
        for atom, _ in jobs:
            if not atom.text.strip():
                raise ConfigError("the judge needs a non-empty claim")
        spans = [sentences(ev) for _, ev in jobs]
        texts = sorted({content(ev[a:b]) for (_, ev), ss in zip(jobs, spans, strict=True) for a, b in ss}
                       | {atom.text for atom, _ in jobs})
        vecs = self.embedder.encode(texts) if texts else np.zeros((0, self.embedder.dimension), np.float32)
        vec_of = {t: vecs[i] for i, t in enumerate(texts)}
        picked: list[list[Read]] = []
        pairs: list[tuple[str, str]] = []
        for (atom, ev), ss in zip(jobs, spans, strict=True):
            keep = [Read(a, b, cos, content(ev[a:b])) for a, b, cos in
                    closest_sentences(vec_of, atom.text, ev, ss, self.sentences)]
            picked.append(keep)
            # a sentence at or below RELATED_LOW is unrelated whatever the judge says (r = 0): not asked
            pairs.extend((r.text, atom.text) for r in keep if relatedness(r.cosine) > 0.0)
        probs = iter(self.model.predict(pairs, progress=progress))
        unasked = np.array([0.0, 0.0, 1.0], dtype=np.float32)
        rows = [np.stack([next(probs) if relatedness(r.cosine) > 0.0 else unasked for r in keep])
                for keep in picked]
        return [_decide(atom, ev, keep, r) for (atom, ev), keep, r in zip(jobs, picked, rows, strict=True)]


@dataclass(frozen=True)
class Read:
    """What the judge reads of an evidence text: one sentence, its offsets and its cosine to the atom."""

    start: int
    end: int
    cosine: float
    text: str

    def quote(self, evidence: str) -> str:
        """The sentence as written (the report quotes the whole sentence, lead-in and attribution included)."""
        return evidence[self.start : self.end]


@dataclass(frozen=True)
class PairJudgement:
    """What ``check`` decides for one (claim, evidence text): the combined stance and its atoms'."""

    stance: str
    probabilities: dict[str, float]
    quote: str
    reason: str
    atoms: list[tuple[Atom, AtomJudgement | None]]


def judge_pairs(
    judge: Judge, pairs: Sequence[tuple[str, str]], progress: Progress | None = None
) -> list[PairJudgement]:
    """The stance of each (claim, evidence) as ``check`` would count it (the ``stance`` command)."""
    atoms_of: dict[str, list[Atom]] = {}
    for claim, _ in pairs:
        if claim not in atoms_of:
            problem = claim_problem(claim)
            if problem:
                raise ConfigError(problem)
            atoms_of[claim] = claim_atoms(claim)
    jobs: list[tuple[Atom, str]] = []
    for claim, evidence in pairs:
        jobs.extend((a, evidence) for a in atoms_of[claim] if a.checkable)
    results = iter(judge.judge_atoms(jobs, progress=progress))
    out: list[PairJudgement] = []
    for claim, _ in pairs:
        atoms = atoms_of[claim]
        judged = [next(results) if a.checkable else None for a in atoms]
        best = combine(atoms, judged)
        if best is None:  # claim_atoms always leaves one checkable atom; kept for type safety
            out.append(PairJudgement("unrelated", {s: float(s == "unrelated") for s in STANCES}, "", "no atom",
                                     list(zip(atoms, judged, strict=True))))
            continue
        out.append(PairJudgement(best.stance, best.probabilities, best.quote, best.reason,
                                 list(zip(atoms, judged, strict=True))))
    return out


def _decide(atom: Atom, evidence: str, keep: Sequence[Read], rows: npt.NDArray[np.float32]) -> AtomJudgement:
    # the most decisive reading speaks for the text: a clear denial or statement beats a vaguer one
    best = max(range(len(keep)), key=lambda i: (max(rows[i][0], rows[i][1]) * relatedness(keep[i].cosine),
                                                keep[i].cosine))
    read = keep[best]
    a, b, cos = read.start, read.end, read.cosine
    pe, pc, pn = (float(x) for x in rows[best])
    r = relatedness(cos)
    # what the judge calls neither stated nor denied is discussed only by a text about the atom
    t = topic_relatedness(cos, coverage(atom.text, evidence, [(x.start, x.end) for x in keep]))
    p = {"agree": r * pe, "disagree": r * pc, "discuss": r * pn * t, "unrelated": 1.0 - r + r * pn * (1.0 - t)}
    stance = max(STANCES, key=lambda s: p[s])
    reason = "judge"
    quote = read.quote(evidence)
    if stance == "agree":
        why = (_attribution_missing(atom.attribution, evidence, a, b) or _names_missing(atom.text, evidence, a, b)
               or _relayed(atom.text, quote))
        if why:
            p = {"agree": 0.0, "disagree": p["disagree"], "discuss": p["discuss"] + p["agree"],
                 "unrelated": p["unrelated"]}
            stance, reason = "discuss", why
    return AtomJudgement(
        stance=stance,
        score=p[stance],
        probabilities=p,
        judge={"entails": pe, "contradicts": pc, "neutral": pn},
        quote=quote,
        quote_start=a,
        quote_end=b,
        similarity=cos,
        reason=reason,
    )


def _relayed(atom: str, quote: str) -> str | None:
    """Why a sentence that repeats the atom does not state it: it relays it as an unconfirmed report or a
    possibility (unless the atom itself is hedged the same way)."""
    if RELAY_RULE and relays(quote) and not relays(atom):
        return "relays it as an unconfirmed report or a possibility; the outlet does not state it"
    return None


def _attribution_missing(attribution: Attribution, evidence: str, a: int, b: int) -> str | None:
    """Why a sentence that states P does not state "S said P" (None when it does)."""
    if attribution.kind == "named":
        keys = source_keys(attribution)
        # the source may be named in the sentence or the one before it ("TASS reported. It said …")
        window = evidence[max(0, a - 300) : b]
        if keys and not any(re.search(rf"\b{re.escape(k)}\b", window, re.IGNORECASE) for k in keys):
            return f"states it without its source ({attribution.source})"
    elif attribution.kind == "anonymous":
        if not _ANONYMOUS_CUES.search(evidence[max(0, a - 300) : b]):
            return "the claim rests on anonymous sources; this report does not carry the attributed statement"
    return None


_NAME_RUN = re.compile(r"\b[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s$")
_NOT_NAMES = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december",
}) | _TITLE_WORDS


def names(text: str) -> list[set[str]]:
    """The names in ``text``, each a set of its words ("Tomas Wrenfield" → {tomas, wrenfield}); a lone
    capitalised first word, weekdays, months, titles and all-capital abbreviations are not names here."""
    out = []
    for m in _NAME_RUN.finditer(text):
        if m.start() == 0 and " " not in m.group(0):
            continue  # a sentence's first word is capitalised anyway
        words = {_POSSESSIVE.sub("", w.lower()) for w in m.group(0).split()} - _NOT_NAMES
        if words:
            out.append(words)
    return out


def _names_missing(atom: str, evidence: str, a: int, b: int) -> str | None:
    """Why a sentence the judge reads as stating the atom does not: no word of one of the atom's names
    is in it or just before it (a report of the Kessel terminal does not state a railway to Dravo)."""
    window = {_POSSESSIVE.sub("", w.lower()) for w in re.findall(r"[\w'’-]+", evidence[max(0, a - 300) : b])}
    missing = [n for n in names(atom) if not n & window]
    if missing:
        return f"states it without the claim's names ({', '.join(' '.join(sorted(n)) for n in missing)})"
    return None


def combine(atoms: Sequence[Atom], judged: Sequence[AtomJudgement | None]) -> AtomJudgement | None:
    """One evidence text's stance towards the whole claim, from its atoms' (None = not judged)."""
    pairs = [(a, j) for a, j in zip(atoms, judged, strict=True) if j is not None and a.checkable]
    if not pairs:
        return None
    denials = [j for _, j in pairs if j.stance == "disagree"]
    if denials:
        return max(denials, key=lambda j: j.score)
    distinctive = [j for a, j in pairs if a.distinctive] or [j for _, j in pairs]
    if all(j.stance == "agree" for j in distinctive):
        return min(distinctive, key=lambda j: j.score)
    # the claim as a whole is discussed or unrelated: report the weakest part's view
    rest = [j for j in distinctive if j.stance != "agree"]
    return max(rest, key=lambda j: (j.stance == "discuss", j.score))


def claim_atoms(claim: str) -> list[Atom]:
    """Atoms of a free-standing claim (a ``check`` argument or a CSV row), attribution included."""
    from corroborate.claims.sentences import split_claims

    try:
        found = [s for s in split_claims(claim) if s.text.strip()]
    except ConfigError:
        found = []
    if len(found) == 1:
        atoms = atoms_of_text(found[0].claim_text, found[0].attribution)
    else:
        atoms = atoms_of_text(claim, found[0].attribution if found else NO_ATTRIBUTION)
    if not any(a.checkable for a in atoms):
        # a claim the user asked about explicitly is judged whole even when it reads as framing
        attribution = found[0].attribution if len(found) == 1 else NO_ATTRIBUTION
        atoms = [Atom(" ".join(claim.split()), MAIN, attribution)]
    return atoms
