"""A claim sentence → its atoms: the propositions a verdict can check one by one.

"This declaration, first reported by TASS and confirmed through access to White House briefings,
marks a stark departure from previous policies" holds several claims. Each gets its own verdict:

- ``main``: the main clause, with the parts below cut out;
- ``relative`` / ``appositive``: "a decision that has baffled Pentagon officials" → "Trump's
  refusal has baffled Pentagon officials"; set off after the main verb, an event noun ("…, a move
  that angered traders") is said of the whole clause → "The council raised the toll, which angered
  traders";
- ``provenance``: participles that say where something came from or how it is known ("first
  reported by TASS", "confirmed through …", "outlined in a memo") → "The declaration was first
  reported by TASS";
- ``qualifier``: a time or place attached to the main verb ("on Monday", "at Andrews Air Force
  Base"): the main clause *with* it, while the ``main`` atom is the clause without it, so a report
  that confirms the event but not its day corroborates the one and not the other;
- ``conjunct``: a second verb phrase of the main clause ("… and has sent shockwaves through NATO").

Atoms that only frame or judge ("is framed by his inner circle as", "marks a stark departure",
"laced with calculated calm") are kept with ``checkable=False`` and a reason: they are not claims.
Each atom carries the attribution that covers it: the sentence's own speaker ("S said P": the atom
is that S said P) unless the speaker is named inside another atom (a provenance participle: "first
reported by TASS" covers that participle only), or the atom is what the writer says of the thing
spoken about or of the speaker ("The refusal, a decision that has baffled officials, is framed by his
inner circle as …"; "Marrow, who was sacked in May, said …"). An event apposition to a reported
clause ("The office confirmed that the ferry will stop — a move that drew protests") is said of what
was reported, by the writer. A speaker carried from an earlier sentence (the second sentence of an
anonymous source's quote) covers every atom of the sentence. Quotation marks whose partner was cut
away are dropped; a relative clause that opens with "where" or "when" stays with its noun.

Everything is rules over the same spaCy parse as :mod:`corroborate.claims.sentences`; when the parse gives
nothing to cut, the sentence is one ``main`` atom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corroborate.claims.sentences import (
    _NLP_LOCK,
    _SURROGATE,
    EVALUATIVE_ADJECTIVES,
    NO_ATTRIBUTION,
    Attribution,
    ClaimSentence,
    load_nlp,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

MAX_ATOMS = 6
MIN_ATOM_WORDS = 3

MAIN, RELATIVE, APPOSITIVE, PROVENANCE, QUALIFIER, CONJUNCT = (
    "main", "relative", "appositive", "provenance", "qualifier", "conjunct",
)
KINDS = (MAIN, RELATIVE, APPOSITIVE, PROVENANCE, QUALIFIER, CONJUNCT)

# Verbs of framing: "X is framed / described / portrayed as Y" says how someone presents X.
FRAMING_VERBS = frozenset({
    "frame", "describe", "portray", "cast", "characterize", "characterise", "hail", "label", "brand", "dub",
    "depict", "paint", "view", "see", "interpret", "regard",
})
# Idioms of colour, not of fact.
FRAMING_PHRASES = re.compile(
    r"\b(?:laced with|shrouded in|sent shockwaves|sends shockwaves|send shockwaves|rooted in|a stark departure"
    r"|marks? a (?:\w+ )?(?:departure|shift|turning point|watershed)|raises? eyebrows"
    r"|signals? a (?:\w+ )?(?:shift|change))\b",
    re.IGNORECASE,
)
# Prepositions that attach a time or a place to the main verb.
QUALIFIER_PREPS = frozenset({"on", "at", "in", "near", "during", "since", "by", "from", "until", "before", "after"})
QUALIFIER_ENTS = frozenset({"DATE", "TIME", "GPE", "LOC", "FAC"})
# Participles that tell where a report came from or how it is known.
PROVENANCE_VERBS = frozenset({
    "report", "confirm", "reveal", "leak", "obtain", "outline", "publish", "disclose", "announce", "deliver",
    "cite", "attribute", "source", "first", "break",
})
RELATIVE_PRONOUNS = frozenset({"that", "which", "who", "whom", "whose"})
ADVERBIAL_RELATIVES = frozenset({"where", "when", "why", "whereby"})
# Nouns that name what the clause before them did: "…, a move that angered traders" is said of the whole event.
EVENT_NOUNS = frozenset({
    "move", "decision", "step", "development", "shift", "change", "reversal", "blow", "setback", "sign", "measure",
    "gesture", "action", "turn", "response", "compromise", "concession", "departure", "escalation",
    "u-turn", "victory", "defeat", "snub", "rebuke", "milestone", "outcome", "result", "twist",
})
FINITE_TAGS = frozenset({"VBD", "VBZ", "VBP", "VBN", "MD"})


@dataclass(frozen=True)
class Atom:
    """One checkable (or explicitly uncheckable) proposition of a claim sentence."""

    text: str  # the hypothesis the judge sees
    kind: str  # one of KINDS
    attribution: Attribution
    checkable: bool = True
    distinctive: bool = True  # must be corroborated for the sentence to be
    reason: str | None = None  # why not checkable ("framing", "opinion")

    @property
    def anonymous(self) -> bool:
        return self.attribution.kind == "anonymous"

    def to_dict(self) -> dict[str, Any]:
        a = self.attribution
        return {
            "text": self.text,
            "kind": self.kind,
            "checkable": self.checkable,
            "distinctive": self.distinctive,
            "reason": self.reason,
            "attribution": {"source": a.source, "kind": a.kind, "cue": a.cue},
        }


def split_atoms(sentence: ClaimSentence) -> list[Atom]:
    """The atoms of one claim sentence (at least one)."""
    return atoms_of_text(sentence.claim_text, sentence.attribution)


def atoms_of_text(text: str, attribution: Attribution = NO_ATTRIBUTION) -> list[Atom]:
    text = " ".join(text.split())
    if not text:
        return []
    nlp = load_nlp()
    with _NLP_LOCK:
        doc = nlp(_SURROGATE.sub("\ufffd", text))
    sents = list(doc.sents)
    if len(sents) != 1:
        # a claim given as several sentences: judge it whole
        return [_atom(text, MAIN, attribution)]
    return _atoms(doc, sents[0], attribution)


# --- the rules -----------------------------------------------------------------------------------


def _atoms(doc: Doc, sent: Span, attribution: Attribution) -> list[Atom]:
    root = sent.root
    cut: set[int] = set()  # token ids removed from the main clause
    extra: list[tuple[str, str, set[int]]] = []  # (kind, text, token ids it covers)

    events: list[Token] = []  # "…, a move that angered traders": said of the whole clause
    for tok in sent:
        if _event_appositive(tok, root):
            ids = _clause_ids(tok)
            if not ids & cut:
                events.append(tok)
                cut |= ids
        elif tok.dep_ == "relcl" and tok.head.pos_ in ("NOUN", "PROPN", "PRON") and not _is_complement(tok) and not (
            tok.tag_ == "VB" and any(c.dep_ == "aux" and c.lower_ == "to" for c in tok.children)
        ) and tok.left_edge.lower_ not in ADVERBIAL_RELATIVES:
            # "a reason to strike" is a noun phrase, not a clause with a claim of its own; "a zone where
            # talks can proceed" says nothing on its own (its noun is no subject or object of it)
            ids = _clause_ids(tok)
            anchor = _person_anchor(tok.head) if tok.left_edge.lower_ in ("who", "whom", "whose") else _anchor(tok.head)
            body = [doc[i] for i in sorted(ids) if not (i == min(ids) and doc[i].lower_ in RELATIVE_PRONOUNS)]
            body = [t for t in body if not (t.is_punct and t.i in (min(ids), max(ids)))]
            if anchor is not None and body and not (ids & cut):
                extra.append((RELATIVE, _join(_phrase(anchor, ids)) + " " + _join(body), ids))
                cut |= ids
        elif tok.dep_ == "appos" and tok.head.i != tok.i:
            ids = _clause_ids(tok)
            if ids & cut or not _set_off(tok):
                continue  # "the engineer Tomas Wrenfield" names; only ", a decision that …," is an apposition
            if doc[tok.left_edge.i - 1].text == "(" and tok.right_edge.i - tok.left_edge.i < 2:
                continue  # "(Exclusive)", "(Rumor)": a headline's tag, not a claim about the noun before it
            anchor = _anchor(tok.head)
            relcls = [c for c in tok.children if c.dep_ == "relcl"]
            if anchor is not None and relcls:
                rc = relcls[0]
                extra.append((APPOSITIVE, _join(_phrase(anchor, ids)) + " " + _join(_without_pronoun(rc)), ids))
            elif anchor is not None:
                be = "are" if anchor.tag_ in ("NNS", "NNPS") else "is"
                extra.append((APPOSITIVE, f"{_join(_phrase(anchor, ids))} {be} {_join(list(tok.subtree))}", ids))
            cut |= ids
        elif tok.dep_ == "acl" and tok.tag_ == "VBN" and tok.head.pos_ in ("NOUN", "PROPN") and not any(
            c.dep_ in ("nsubj", "nsubjpass", "aux", "auxpass", "mark") for c in tok.children
        ):
            ids = {t.i for t in tok.subtree}
            if ids & cut:
                continue
            anchor = tok.head
            be = "were" if anchor.tag_ in ("NNS", "NNPS") else "was"
            anchor_text = _join(_phrase(anchor, ids))
            for part in _split_conj(tok):
                kind = PROVENANCE if part[0].lemma_.lower() in PROVENANCE_VERBS or _has_agent(part) else RELATIVE
                lead = part[1:] if part and part[0].dep_ == "cc" else part  # "and confirmed …"; "rather than" stays
                extra.append((kind, f"{anchor_text} {be} {_join(_with_advmods(lead))}", {t.i for t in part}))
            cut |= ids

    # a second verb phrase of the main clause: "marks X and has sent Y"
    subject = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    for conj in [c for c in root.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")]:
        if any(c.dep_ in ("nsubj", "nsubjpass") for c in conj.children):
            continue  # a clause with its own subject: left in the main atom
        ids = {t.i for t in conj.subtree}
        cc = [c for c in root.children if c.dep_ == "cc" and c.i < conj.i]
        ids |= {c.i for c in cc}
        if subject is not None:
            dangling = _orphan_commas(sent, cut)
            subj = [t for t in subject.subtree if t.i not in cut and t.i not in dangling]
            extra.append((CONJUNCT, _join(subj) + " " + _join(list(conj.subtree)), ids))
            cut |= ids

    # "In a rare and unprecedented move, X did Y": the judging frame is not part of the claim
    for child in root.children:
        if child.dep_ == "prep" and child.i < root.i and any(
            t.lemma_.lower() in EVALUATIVE_ADJECTIVES for t in child.subtree
        ):
            cut |= {t.i for t in child.subtree}

    # time and place qualifiers of the main verb
    qualifiers: list[set[int]] = []
    for child in root.children:
        ids = {t.i for t in child.subtree}
        if ids & cut:
            continue
        if child.dep_ == "prep" and child.lower_ in QUALIFIER_PREPS and any(
            t.dep_ == "pobj" and t.ent_type_ in QUALIFIER_ENTS for t in child.children
        ) or child.dep_ == "npadvmod" and child.ent_type_ in ("DATE", "TIME"):
            qualifiers.append(ids)

    cut |= _orphan_commas(sent, cut)
    main_tokens = [t for t in sent if t.i not in cut]
    atoms: list[Atom] = []
    without_q = [t for t in main_tokens if not any(t.i in q for q in qualifiers)]
    cue_ids = _cue_ids(sent, attribution)
    main_attr = attribution if not (cue_ids and cue_ids <= cut) else NO_ATTRIBUTION
    speech = _speech_verb(sent, cue_ids)
    # what the sentence says *of* the thing reported or framed, or of the speaker, is the writer's:
    # "The refusal, a decision that has baffled officials, is framed by his inner circle as …"
    writers = {t.i for c in speech.children if c.dep_ in ("nsubj", "nsubjpass") for t in c.subtree} if speech else set()
    main_atom = _atom(_join(without_q), MAIN, main_attr)
    if qualifiers and main_atom.checkable:
        # the qualified atom states the main clause too: it is the one that must be corroborated
        main_atom = Atom(main_atom.text, MAIN, main_attr, checkable=True, distinctive=False)
    atoms.append(main_atom)
    for q in qualifiers:
        others = set().union(*(o for o in qualifiers if o is not q)) if len(qualifiers) > 1 else set()
        atoms.append(_atom(_join([t for t in main_tokens if t.i not in others]), QUALIFIER, main_attr))
    for kind, text, ids in extra:
        attr = _attribution_for(kind, ids, cue_ids, cut, writers, attribution)
        atoms.append(_atom(text, kind, attr))
    reported = None
    if speech is not None and speech.i == root.i:
        reported = next((c for c in speech.children if c.dep_ == "ccomp"), None)
        if reported is not None and any(c.dep_ in ("nsubj", "nsubjpass") and c.pos_ == "PRON"
                                        for c in reported.children):
            reported = None  # "The council said it would raise the toll, a move …": "it" needs the whole clause
    for noun in events:
        # the event with what the writer says of it: "X raised the toll on Monday, which angered traders";
        # in "The White House confirmed that Trump will host a summit — a move that drew praise" the
        # event is what was reported, and the praise is the writer's to report
        event = [t for t in reported.subtree if t.i not in cut] if reported is not None else list(main_tokens)
        if reported is not None and event and event[0].dep_ == "mark":
            event = event[1:]  # "that"
        while event and event[-1].is_punct:
            event.pop()
        relcls = [c for c in noun.children if c.dep_ == "relcl"]
        if relcls:
            text = f"{_join(event)}, which {_join(_without_pronoun(relcls[0]))}"
        else:
            text = f"{_join(event)}, {_join(list(noun.subtree))}"
        atoms.append(_atom(text, APPOSITIVE, NO_ATTRIBUTION if reported is not None else main_attr))
    atoms = [a for a in atoms if len(a.text.split()) >= MIN_ATOM_WORDS] or [_atom(sent.text, MAIN, attribution)]
    seen: set[str] = set()
    unique = []
    for a in atoms:
        if a.text.lower() not in seen:
            seen.add(a.text.lower())
            unique.append(a)
    return unique[:MAX_ATOMS]


def _attribution_for(
    kind: str, ids: set[int], cue_ids: set[int], cut: set[int], writers: set[int], attribution: Attribution
) -> Attribution:
    if attribution.kind == "none":
        return NO_ATTRIBUTION
    if cue_ids and cue_ids <= ids:
        return attribution  # "first reported by TASS": this atom names its source
    if kind == PROVENANCE and cue_ids:
        return NO_ATTRIBUTION  # the source is named elsewhere in the sentence: this participle is the writer's
    if cue_ids and cue_ids <= cut:
        # the source is named inside another part ("This declaration, first reported by TASS, … and has sent
        # shockwaves through NATO"): it covers that part, not the rest
        return NO_ATTRIBUTION
    if ids and ids <= writers:
        return NO_ATTRIBUTION  # said of the thing framed or of the speaker, by the writer
    # the sentence's speaker says the whole sentence, satellites included; so does a speaker carried
    # from an earlier sentence ("'It fractured the country and gave them a pretext,'" inside a quote)
    return attribution


def _speech_verb(sent: Span, cue_ids: set[int]) -> Token | None:
    """The verb the source speaks or frames with: "said" of "Sources said …", "framed" of "… is framed by his
    inner circle as …" (None when the source is not in the sentence)."""
    if not cue_ids:
        return None
    doc = sent.doc
    top = next((doc[i] for i in sorted(cue_ids) if doc[i].head.i not in cue_ids or doc[i].head.i == i), None)
    cur = top
    for _ in range(6):
        if cur is None or cur.head.i == cur.i:
            break
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            return cur
    return None


def _cue_ids(sent: Span, attribution: Attribution) -> set[int]:
    """Token ids of the attribution's source inside ``sent`` (empty when none is found: the speaker is
    carried from an earlier sentence). Matched on characters, so "a top-secret memo" is found whatever
    the tokenizer does with its hyphen."""
    if attribution.kind == "none" or not attribution.source:
        return set()
    source = re.escape(" ".join(attribution.source.split())).replace(r"\ ", r"\s+")
    found = re.search(rf"(?<!\w){source}(?!\w)", sent.text, re.IGNORECASE)  # "He" is not the "he" of "the"
    if found is None:
        return set()
    start, end = sent.start_char + found.start(), sent.start_char + found.end()
    return {t.i for t in sent if t.idx < end and t.idx + len(t.text) > start}


def _atom(text: str, kind: str, attribution: Attribution) -> Atom:
    text = _tidy(text)
    reason = _not_checkable(text, kind)
    return Atom(text, kind, attribution, checkable=reason is None, distinctive=reason is None, reason=reason)


def _not_checkable(text: str, kind: str) -> str | None:
    if FRAMING_PHRASES.search(text):
        return "framing"
    nlp = load_nlp()
    with _NLP_LOCK:
        doc = nlp(text)
    if not any(t.tag_ in FINITE_TAGS for t in doc):
        return "no verb"
    root = next(iter(doc.sents)).root
    if root.lemma_.lower() in FRAMING_VERBS and any(t.lower_ == "as" and t.i > root.i for t in doc):
        return "framing"
    # "X is a deliberate effort …" / "… are profound": a judgement, not a fact
    if root.lemma_.lower() in ("be", "seem", "remain", "look"):
        judged = [a for c in root.children if c.dep_ in ("acomp", "attr") for a in [c, *c.children]]
        if any(a.lemma_.lower() in EVALUATIVE_ADJECTIVES for a in judged):
            return "opinion"
    return None


def _event_appositive(tok: Token, root: Token) -> bool:
    """"…, a move that angered traders" / "— a decision that surprised economists" after the main verb:
    an indefinite event noun set off at the end of the clause names the clause's event, whatever noun
    the parser hung it on ("The mayor's refusal, a decision that …, came" is said of the refusal)."""
    return (
        tok.pos_ == "NOUN"
        and tok.lemma_.lower() in EVENT_NOUNS
        and tok.dep_ not in ("nsubj", "nsubjpass", "ROOT")
        and tok.left_edge.i > root.i
        and any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in tok.children)
        and _set_off(tok)
    )


def _without_pronoun(clause: Token) -> list[Token]:
    """A relative clause's words without its leading pronoun: "that angered traders" → "angered traders"."""
    return [t for t in clause.subtree if not (t.i == clause.left_edge.i and t.lower_ in RELATIVE_PRONOUNS)]


def _is_complement(clause: Token) -> bool:
    """"the declaration that troops will not be sent": the clause is the noun's content, not a
    relative clause ("that" fills no role in it)."""
    first = clause.left_edge
    if first.lower_ != "that":
        return False
    return first.dep_ == "mark" or any(c.dep_ in ("nsubj", "nsubjpass") and c.i != first.i for c in clause.children)


def _clause_ids(tok: Token) -> set[int]:
    """Token ids of a clause set off by commas: from its first token to the closing comma (the small
    parser sometimes hangs a word of the clause elsewhere: "re-elected" split at its hyphen)."""
    doc = tok.doc
    start, end = tok.left_edge.i, tok.right_edge.i
    root = tok.sent.root.i
    if start > 0 and doc[start - 1].text in (",", "—", "–", "("):
        j = end + 1
        while j < tok.sent.end and doc[j].text not in (",", "—", "–", ")", ".", ";") and j != root:
            j += 1
        if j < tok.sent.end and j != root and not (start <= root <= j):
            end = j - 1
    return set(range(start, end + 1))


def _set_off(appos: Token) -> bool:
    doc = appos.doc
    before = appos.left_edge.i - 1
    return before >= 0 and doc[before].text in (",", "—", "–", "(")


def _orphan_commas(sent: Span, cut: set[int]) -> set[int]:
    """Commas and dashes left standing next to a part that was cut out."""
    out = set()
    for t in sent:
        if t.i in cut or t.text not in (",", "—", "–", ";"):
            continue
        if t.i - 1 in cut or t.i + 1 in cut:
            out.add(t.i)
    return out


def _anchor(tok: Token) -> Token | None:
    """The noun phrase an appositive or relative clause describes: climb out of "of"/"to" phrases
    to the argument of a verb ("Trump's refusal to deploy troops to Ukraine, a decision …")."""
    cur = tok
    for _ in range(8):
        if cur.dep_ in ("nsubj", "nsubjpass", "dobj", "attr", "ROOT", "conj", "appos") and cur.pos_ in (
            "NOUN", "PROPN", "PRON",
        ):
            return cur
        if cur.head.i == cur.i:
            break
        cur = cur.head
    return tok if tok.pos_ in ("NOUN", "PROPN", "PRON") else None


def _person_anchor(tok: Token) -> Token | None:
    """Whom "…, who …" describes: the people of "some members of the council, who have …" (the parser
    hangs the clause on the council), but never further out ("support among some members …")."""
    cur = tok
    while cur.dep_ == "pobj" and cur.head.lower_ == "of" and cur.head.head.pos_ in ("NOUN", "PROPN", "PRON"):
        cur = cur.head.head
    return cur if cur.pos_ in ("NOUN", "PROPN", "PRON") else None


def _phrase(anchor: Token, skip: set[int]) -> list[Token]:
    """The anchor's noun phrase without the clause being split off and without other satellites."""
    out = []
    for t in anchor.subtree:
        if t.i in skip:
            continue
        if any(a.dep_ in ("relcl", "appos", "acl") and a.tag_ != "VB" and t in a.subtree and a.i != anchor.i
               for a in anchor.subtree if a.head.i == anchor.i):
            continue
        out.append(t)
    # drop a trailing or leading comma left behind
    while out and out[-1].is_punct:
        out.pop()
    while out and out[0].is_punct:
        out.pop(0)
    if out and out[0].lower_ in ("this", "that", "these", "those"):
        out = out[1:]
        return [*out] if out and out[0].lower_ == "the" else out
    return out


def _split_conj(verb: Token) -> list[list[Token]]:
    """"reported by TASS and confirmed through X" → [reported by TASS], [confirmed through X]."""
    conjs = [c for c in verb.children if c.dep_ == "conj" and c.pos_ == "VERB"]
    if not conjs:
        return [list(verb.subtree)]
    conj_ids = {t.i for c in conjs for t in c.subtree}
    first = [t for t in verb.subtree if t.i not in conj_ids and not (t.dep_ == "cc" and t.head.i == verb.i)]
    while first and first[-1].is_punct:
        first.pop()
    return [first] + [list(c.subtree) for c in conjs]


def _with_advmods(tokens: list[Token]) -> list[Token]:
    return sorted(tokens, key=lambda t: t.i)


def _has_agent(tokens: list[Token]) -> bool:
    return any(t.dep_ == "agent" for t in tokens)


def _join(tokens: list[Token]) -> str:
    tokens = sorted(tokens, key=lambda t: t.i)
    parts = []
    for k, t in enumerate(tokens):
        parts.append(t.text_with_ws)
        if not t.whitespace_ and k + 1 < len(tokens) and tokens[k + 1].i != t.i + 1:
            parts.append(" ")  # a cut part followed this token
    return "".join(parts).strip()


_SPACE_PUNCT = re.compile(r"\s+([,.;:!?’”])")


def _balanced(text: str) -> str:
    """Without brackets left empty or unopened by a cut ("… $300,000 )")."""
    text = re.sub(r"\(\s*\)", "", text)
    out, depth = [], 0
    for ch in text:
        if ch == ")" and depth == 0:
            continue
        depth += (ch == "(") - (ch == ")")
        out.append(ch)
    return "".join(out)


def _quotes_balanced(text: str) -> str:
    """Without quotation marks whose partner was cut away ("A ‘neutral zone where …", "… approach’.’").
    A ’ before a letter or digit ("Trump’s", "’90s"), or after an s inside the text with no quote open
    ("the workers’ union"), is an apostrophe; headlines close ‘ with ’, ′ or ', so a ‘ stays when any
    of them follows it."""
    drop: set[int] = set()
    for opening, closers in (("‘", "’′'"), ("“", "”″")):  # straight quotes are left as they are
        open_at: list[int] = []
        closed_nowhere: list[int] = []
        for i, ch in enumerate(text):
            prev, nxt = text[i - 1 : i], text[i + 1 : i + 2]
            if ch == opening:
                open_at.append(i)
            elif ch in closers and not nxt.isalnum() and not (
                ch == "’" and not open_at and prev in "sS" and text[i + 1 :].strip(" .,;:!?")
            ):
                if open_at:
                    open_at.pop()
                elif ch in "’”":
                    closed_nowhere.append(i)
        drop.update(open_at)
        # a closing mark opened nowhere is dropped only at the very end ("… not deepen it.’"), and not where
        # a ’ opens a quote in the text (":’You’ve just eaten your son’")
        opens_elsewhere = any(text[k] == "’" and (k == 0 or not text[k - 1].isalnum()) and text[k + 1 : k + 2].isalnum()
                              for k in range(len(text)))
        drop.update(k for k in closed_nowhere if not text[k + 1 :].strip(" .,;:!?") and not opens_elsewhere)
    return "".join(ch for i, ch in enumerate(text) if i not in drop)


def _tidy(text: str) -> str:
    text = _SPACE_PUNCT.sub(r"\1", " ".join(_quotes_balanced(_balanced(text)).split()))
    text = re.sub(r"(?:,\s*){2,}", ", ", text)
    text = re.sub(r"^[,;:\s]+|[,;:\s]+$", "", text)
    text = re.sub(r",\s*\.$", ".", text)
    if text and text[0].islower() and not text[1:2].isupper():  # "iPhone", "eBay" keep their case
        text = text[0].upper() + text[1:]
    return text
