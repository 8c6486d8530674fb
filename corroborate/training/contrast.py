"""Contrastive pair sources for the judge: real claim/evidence text where each cue sits on every side.

The judge of the first nine passes learnt cues instead of meaning (*the same names ⇒ entails, a
denial word ⇒ contradicts*). These sources are built so that no surface cue predicts the label:

- ``fever``: FEVER claims against their gold Wikipedia evidence (SUPPORTS → entails, REFUTES →
  contradicts; the refutations are mutations of true claims), the evidence detokenised from the
  Penn Treebank form so the form says nothing; and as many *neutral* pairs as a third of the
  claims: the claim against the evidence of another claim that names the same entity but shares
  almost none of its other words ("same entity, another fact"). Split by evidence text.
- ``cad-snli``: counterfactually augmented SNLI (minimal human edits that flip the label); its own
  split, which keeps an original and its edits together.
- ``mined-neutral``: two sentences of one real news text (FNC-1 *train* stories' bodies and the
  news-html pages) that name the same entity and share few other words: neutral. Split by text.
- ``antonyms``: real sentences (CANNOT's Wikipedia sentences, FNC-1 train bodies, news-html) that
  contain a word with a clear antonym (alive/dead, rose/fell, won/lost, acquitted/convicted,
  opened/closed, …): the sentence against its swapped form contradicts; the swapped form with more
  context against itself entails, so the antonym words appear on both sides.
- ``synonyms``: the mirror of ``antonyms``: real sentences with a word or phrase replaced by a synonym
  ("began" for "started", "nation" for "country", a small number written out): entails, either way
  round, so "one word changed" says nothing about the label.
- ``contrast``: label-preserving rewrites of the evidence of real pairs (FEVER, CANNOT, CAD-SNLI):
  a leading discourse phrase ("Update:", "Don't worry:", "In a twist,"), an attribution tail
  (", officials said"), a negated sentence repeated with context (a denial word on the agreeing
  side); and relayed reports of a claim ("…, a report says", "unverified posts claim that …",
  a question) as neutral evidence. A small share: the wrappers are templates.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import re
from pathlib import Path

from corroborate.training.fnc1 import body_sentences, fnc1_split_of
from corroborate.training.pair import Pair, split_of
from corroborate.training.pair import data_root as _root
from corroborate.training.pair import read_tsv as _tsv

_PTB = [
    (re.compile(r"-LRB-\s*"), "("), (re.compile(r"\s*-RRB-"), ")"), (re.compile(r"-LSB-\s*"), "["),
    (re.compile(r"\s*-RSB-"), "]"), (re.compile(r"-LCB-\s*"), "{"), (re.compile(r"\s*-RCB-"), "}"),
    (re.compile(r"``\s*"), "\""), (re.compile(r"\s*''"), "\""), (re.compile(r"\s+([.,;:!?%)\]])"), r"\1"),
    (re.compile(r"([(\[$])\s+"), r"\1"), (re.compile(r"\s+('s|'re|'ve|n't|'ll|'d|'m)\b"), r"\1"),
    (re.compile(r"\s+--\s+"), " – "), (re.compile(r"\s{2,}"), " "),
]


def detokenize(text: str) -> str:
    """FEVER's Penn Treebank tokens back to plain text ("-LRB- 1997 -RRB- ," → "(1997),")."""
    out = text
    for pattern, repl in _PTB:
        out = pattern.sub(repl, out)
    return out.strip()


_STOP = frozenset((
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "but", "is", "are",
    "was", "were", "be", "been", "being", "has", "have", "had", "this", "that", "these", "those", "it", "its",
    "as", "into", "than", "then", "there", "their", "they", "he", "she", "his", "her", "him", "who", "whom",
    "which", "what", "when", "where", "also", "after", "before", "over", "under", "about", "between", "during",
    "not", "no", "only", "one", "two", "three", "first", "new", "more", "most", "other", "such",
))


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z'-]{2,}", text.lower()) if w not in _STOP}


def _names(text: str) -> set[str]:
    """Capitalised words not at the sentence start: a cheap stand-in for named entities."""
    words = re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,}|[A-Z]{2,})\b", text)
    return {w for w in words if w.lower() not in _STOP}


def fever(data_dir: Path, split: str, seed: int = 13, neutral_share: float = 0.35) -> list[Pair]:
    root = _root(data_dir, "fever-rte")
    rows = [(detokenize(r["evidence"]), r["claim"].strip(), r["label"]) for r in _tsv(root / "pairs.tsv")
            if r.get("evidence") and r.get("claim")]
    mine = [(e, c, lab) for e, c, lab in rows if split_of("fever-evidence:" + e) == split]
    out: list[Pair] = []
    by_name: dict[str, list[int]] = {}
    for i, (e, _, _) in enumerate(mine):
        for n in _names(e[:200]):
            by_name.setdefault(n, []).append(i)
    rng = random.Random(f"{seed}:fever:{split}")
    for e, c, lab in mine:
        g = "fever-evidence:" + e
        out.append(Pair(e, c, "entails" if lab == "entailment" else "contradicts", "fever", g))
        if rng.random() >= neutral_share:
            continue
        claim_words = _content(c) - {w.lower() for w in _names(c)}
        cands = {j for n in _names(c) for j in by_name.get(n, ())[:300] if mine[j][0] != e}
        cands = {j for j in cands if len(claim_words & _content(mine[j][0])) <= 1}
        if cands:
            j = rng.choice(sorted(cands))
            out.append(Pair(mine[j][0], c, "neutral", "fever", g))
    return out


_CAD = {"entailment": "entails", "contradiction": "contradicts", "neutral": "neutral"}


def cad_snli(data_dir: Path, split: str) -> list[Pair]:
    root = _root(data_dir, "cad-snli")
    name = {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"}[split]
    out = []
    for i, r in enumerate(_tsv(root / name)):
        lab = _CAD.get(r.get("gold_label", ""))
        if lab and r["sentence1"] and r["sentence2"]:
            # originals and their edits come in runs of five lines (one original, four edits)
            out.append(Pair(r["sentence1"], r["sentence2"], lab, "cad-snli", f"cad-snli:{split}:{i // 5}"))
    return out


@functools.cache
def _texts(data_dir: Path, split: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Real news texts of ``split`` as (group, sentences): FNC-1 bodies of that split's stories and
    news-html's article bodies (split by URL hash)."""
    from corroborate.training.fnc1 import fnc1_rows

    out: list[tuple[str, tuple[str, ...]]] = []
    try:
        _, bodies, body_ids, _, topics = fnc1_rows(data_dir)
        seen: set[int] = set()
        for body, bid, topic in zip(bodies, body_ids, topics, strict=True):
            if bid in seen or fnc1_split_of(topic) != split:
                continue
            seen.add(bid)
            out.append((f"fnc1-story:{topic}", tuple(body_sentences(body))))
    except Exception:  # noqa: BLE001 - FNC-1 is optional for this source
        pass
    try:
        gt = json.loads((_root(data_dir, "news-html") / "ground-truth.json").read_text(encoding="utf-8"))
        for key, rec in sorted(gt.items()):
            body = rec.get("articleBody", "") if isinstance(rec, dict) else ""
            if not body or sum(ch.isascii() for ch in body) < 0.97 * len(body):
                continue  # English only
            g = "news-html:" + key
            if split_of(g) == split:
                out.append((g, tuple(body_sentences(body))))
    except Exception:  # noqa: BLE001
        pass
    return tuple(out)


def _claimish(s: str) -> bool:
    n = len(s.split())
    return 6 <= n <= 30 and not s.endswith("?") and '"' not in s and "“" not in s


def mined_neutral(data_dir: Path, split: str, seed: int = 13, per_text: int = 4) -> list[Pair]:
    rng = random.Random(f"{seed}:mined:{split}")
    out: list[Pair] = []
    for g, sents in _texts(data_dir, split):
        cands = [s for s in sents if _claimish(s)]
        made = 0
        order = list(range(len(cands)))
        rng.shuffle(order)
        for i in order:
            if made >= per_text:
                break
            a = cands[i]
            names_a = _names(a)
            if not names_a:
                continue
            words_a = _content(a) - {w.lower() for w in names_a}
            for j in rng.sample(range(len(cands)), min(8, len(cands))):
                b = cands[j]
                if j == i or not (names_a & _names(b)):
                    continue
                if len(words_a & _content(b)) <= 1:
                    out.append(Pair(b, a, "neutral", "mined-neutral", g))
                    made += 1
                    break
    return out


# antonym swaps: word → its opposite (both directions are added below)
_ANTONYMS = {
    "alive": "dead", "rose": "fell", "risen": "fallen", "increased": "decreased", "won": "lost",
    "acquitted": "convicted", "opened": "closed", "reopened": "closed", "approved": "rejected",
    "accepted": "rejected", "confirmed": "denied", "higher": "lower", "more": "fewer", "gained": "lost",
    "success": "failure", "succeeded": "failed", "allowed": "banned", "lifted": "imposed", "arrived": "left",
    "released": "detained", "hired": "fired", "winner": "loser", "legal": "illegal", "guilty": "innocent",
    "survived": "died", "expanded": "shrank", "before": "after", "supported": "opposed", "largest": "smallest",
    "first": "last", "earliest": "latest", "victory": "defeat", "start": "end", "started": "ended",
    "joined": "left", "entered": "exited", "raised": "cut", "strengthened": "weakened", "male": "female",
    "north": "south", "east": "west", "older": "younger", "oldest": "youngest", "major": "minor",
    "positive": "negative", "profit": "loss", "win": "lose", "rise": "fall", "open": "closed",
}
_SWAP = {**_ANTONYMS, **{v: k for k, v in _ANTONYMS.items() if v not in _ANTONYMS}}
_SWAP_RE = re.compile(r"\b(" + "|".join(sorted(_SWAP, key=len, reverse=True)) + r")\b")


def _swapped(sentence: str, rng: random.Random) -> str | None:
    found = list(_SWAP_RE.finditer(sentence))
    if not found or len(found) > 2:
        return None
    m = rng.choice(found)
    return sentence[: m.start()] + _SWAP[m.group(1)] + sentence[m.end():]


def _real_sentences(data_dir: Path, split: str) -> list[tuple[str, tuple[str, ...]]]:
    """``split``'s real news texts (:func:`_texts`) and CANNOT's Wikipedia sentences, as (group, sentences):
    what the antonym and synonym swaps rewrite."""
    texts = list(_texts(data_dir, split))
    try:
        root = _root(data_dir, "cannot")
        wiki = [r["sentence"] for r in _tsv(root / "wikifactcheck_negated.tsv") if r.get("sentence")]
        texts += [("cannot:" + s, (s,)) for s in wiki if split_of("cannot:" + s) == split]
    except Exception:  # noqa: BLE001 - CANNOT is optional for these sources
        pass
    return texts


def antonyms(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    rng = random.Random(f"{seed}:antonyms:{split}")
    texts = _real_sentences(data_dir, split)
    out: list[Pair] = []
    for g, sents in texts:
        for s in sents:
            if not _claimish(s):
                continue
            t = _swapped(s, rng)
            if t is None:
                continue
            r = rng.random()
            if r < 0.5:  # the original and its opposite, either way round
                out.append(Pair(s, t, "contradicts", "antonyms", g) if rng.random() < 0.5
                           else Pair(t, s, "contradicts", "antonyms", g))
            else:  # the opposite word on the agreeing side too
                other = rng.choice(sents)
                ev = t if other == s or rng.random() < 0.5 else f"{other} {t}"
                out.append(Pair(ev, t, "entails", "antonyms", g))
    return out


# synonym swaps: word → a word that says the same here (both directions are added below); numbers written out
_SYNONYMS = {
    "started": "began", "start": "begin", "died": "passed away", "big": "large", "biggest": "largest",
    "huge": "enormous", "fast": "quick", "helped": "assisted", "help": "assist", "built": "constructed",
    "build": "construct", "children": "kids", "film": "movie", "films": "movies", "shop": "store",
    "shops": "stores", "region": "area", "country": "nation", "countries": "nations", "almost": "nearly",
    "attempted": "tried", "received": "got", "ended": "finished", "chose": "selected", "choose": "select",
    "permitted": "allowed", "stopped": "halted", "showed": "demonstrated", "enough": "sufficient",
    "main": "principal", "difficult": "hard", "declared": "announced", "mostly": "largely",
    "currently": "presently", "approximately": "about", "wealthy": "rich", "ill": "sick", "later": "afterwards",
    "authorities": "officials", "said": "stated", "told": "informed",
    "rise": "increase", "rose": "climbed", "fell": "dropped", "grew": "expanded", "talks": "negotiations",
    "killed": "slain", "injured": "wounded", "purchase": "acquisition", "begins": "starts",
    "percent": "per cent", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "twenty": "20", "fifty": "50", "hundred": "100",
    "dozen": "12", "half": "50 per cent",
}
_SYN = {**_SYNONYMS, **{v: k for k, v in _SYNONYMS.items() if v not in _SYNONYMS}}
_SYN_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(_SYN, key=len, reverse=True)) + r")\b")


def synonyms(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    rng = random.Random(f"{seed}:synonyms:{split}")
    texts = _real_sentences(data_dir, split)
    out: list[Pair] = []
    for g, sents in texts:
        for s in sents:
            if not _claimish(s):
                continue
            found = list(_SYN_RE.finditer(s))
            if not found:
                continue
            # one or two words swapped: a paraphrase in other words, never the same sentence
            t = s
            for m in sorted(rng.sample(found, min(len(found), rng.choice((1, 2)))), key=lambda m: -m.start()):
                t = t[: m.start()] + _SYN[m.group(1)] + t[m.end():]
            other = rng.choice(sents)
            ev, claim = (s, t) if rng.random() < 0.5 else (t, s)
            if other != s and rng.random() < 0.3:
                ev = f"{other} {ev}"
            out.append(Pair(ev, claim, "entails", "synonyms", g))
    return out


_LEADS = ("Update: ", "Don't worry: ", "In a twist, ", "Contrary to rumours, ", "Good news: ", "For the record, ",
          "As it turns out, ", "Breaking: ", "Fact check: ", "In short, ", "To be clear, ", "Meanwhile, ")
_TAILS = (", officials said", ", police said", ", a spokesperson said", ", his agent said", ", her lawyer said",
          ", the company said in a statement", ", according to a statement", ", the ministry confirmed",
          ", sources close to the family said")
_RELAY = ("Reports say that {p}.", "{P}, a report says.", "It is rumoured that {p}.",
          "Unverified posts on social media claim that {p}.", "{P}, according to unconfirmed reports.",
          "Some outlets reported that {p}, but this has not been confirmed.", "Is it true that {p}?",
          "Rumours are circulating that {p}.", "It is possible that {p}.", "A tabloid claims that {p}.")


def _lead(text: str, lead: str) -> str:
    if lead.endswith(", ") and text[:1].isupper() and not text[:2].isupper() and not _names(text[:30]):
        return lead + text[0].lower() + text[1:]
    return lead + text


def _tail(text: str, tail: str) -> str:
    t = text.rstrip()
    if t.endswith((".", "!")):
        return t[:-1] + tail + t[-1]
    return t + tail + "."


def _as_clause(text: str) -> str:
    t = text.strip().rstrip(".!")
    return t[0].lower() + t[1:] if t[:1].isupper() and not t[1:2].isupper() and not _names(t.split(" ")[0] + " x")\
        else t


def contrast(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    rng = random.Random(f"{seed}:contrast:{split}")
    base: list[Pair] = []
    for loader in (fever, cad_snli):
        with contextlib.suppress(Exception):  # a missing data folder leaves that source out
            base += loader(data_dir, split)
    out: list[Pair] = []
    for p in base:
        if len(p.premise) > 400:
            continue
        r = rng.random()
        if r < 0.35:
            out.append(Pair(_lead(p.premise, rng.choice(_LEADS)), p.hypothesis, p.label, "contrast", p.group))
        elif r < 0.65:
            out.append(Pair(_tail(p.premise, rng.choice(_TAILS)), p.hypothesis, p.label, "contrast", p.group))
        elif r < 0.8 and p.label in ("entails", "contradicts"):
            # a relayed, unconfirmed report of the claim (or of its denial) takes no side
            clause = _as_clause(p.hypothesis)
            t = rng.choice(_RELAY)
            out.append(Pair(t.format(p=clause, P=clause[0].upper() + clause[1:]), p.hypothesis, "neutral",
                            "contrast", p.group))
    try:
        root = _root(data_dir, "cannot")
        for row in _tsv(root / "wikifactcheck_negated.tsv"):
            s, neg = row.get("sentence", ""), row.get("negated", "")
            if not s or not neg or split_of("cannot:" + s) != split or rng.random() > 0.25:
                continue
            g = "cannot:" + s
            # a denial word on the agreeing side: the negated sentence, wrapped, entails itself
            wrapped = _tail(neg, rng.choice(_TAILS)) if rng.random() < 0.5 else _lead(neg, rng.choice(_LEADS))
            out.append(Pair(wrapped, neg, "entails", "contrast", g))
            # and the wrapped original still contradicts the negation
            out.append(Pair(_lead(s, rng.choice(_LEADS)), neg, "contradicts", "contrast", g))
    except Exception:  # noqa: BLE001
        pass
    return out

