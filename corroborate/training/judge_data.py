"""Sentence-level pairs for the judge: (evidence sentence, claim) → entails / contradicts / neutral.

Every source is split *by group* with a stable hash, so a split never changes between runs and a
group (an SNLI premise, a CANNOT sentence, a Perspectrum claim, an FNC-1 story) never sits on two
sides. ``test`` parts are frozen: no recipe or threshold choice looks at them (docs/evaluation.md).

- ``snli``: train_subset.tsv (train/dev by premise); test.tsv is the test part.
- ``cannot``: a Wikipedia sentence and its negation (contradicts), balanced with paraphrases
  (entails, from sem_anto_neg), the sentence itself with more context (entails) and the most
  word-similar *other* sentence (neutral: related, neither); split by sentence.
- ``perspectrum``: claim and perspective, SUPPORT → entails, UNDERMINE → contradicts; its own split.
- ``fnc1``: each headline against the body sentence that matches it best (TF-IDF): agree →
  entails, disagree → contradicts, discuss/unrelated → neutral; split by story
  (:func:`corroborate.training.fnc1.topic_groups`).
- ``news``: invented news facts stated, denied, changed and merely discussed, from templates
  (:mod:`corroborate.training.news`); split by fact.
- ``debunks``: the same kind of facts with a denial as the claim ("Reports of X's death are false"):
  other denials entail it, statements of the fact contradict it; split by fact.
- ``fnc1-denials``: news denials made from FNC-1 *train-split* headlines by templates ("Reports
  that … are false", "… denied that …"), with as many agreeing and merely related framings.
- ``headlines`` / ``headline-evidence``: the pairs of ``news``, ``debunks``, ``fnc1-denials`` and
  ``synthetic`` with the claim (or the evidence sentence) rewritten as a headline
  (:func:`headline_form`); labels and groups kept (``headline-figures``: the evidence's figures change
  form too). Tried in the fifth to seventh passes, not shipped.
"""

from __future__ import annotations

import csv
import functools
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

from corroborate.errors import ConfigError
from corroborate.training.fnc1 import body_sentences as body_sentences
from corroborate.training.fnc1 import fnc1_rows, fnc_dir
from corroborate.training.fnc1 import fnc1_split_of as fnc1_split_of
from corroborate.training.pair import Pair as Pair
from corroborate.training.pair import data_root, read_tsv
from corroborate.training.pair import split_of as split_of

LABELS = ("entails", "contradicts", "neutral")
SOURCES = ("snli", "cannot", "perspectrum", "fnc1", "fnc1-denials", "fnc1-headlines", "synthetic", "news", "debunks",
           "headlines", "headline-evidence", "headline-figures", "fever", "cad-snli", "mined-neutral", "antonyms",
           "contrast", "synonyms")
SPLITS = ("train", "dev", "test")


# corroborate.training.contrast still imports these from here (it is to import them from pair.py and fnc1.py)
_root, _tsv, _fnc1_rows = data_root, read_tsv, fnc1_rows


_NLI = {"entailment": "entails", "contradiction": "contradicts", "neutral": "neutral"}


def snli(data_dir: Path, split: str) -> list[Pair]:
    root = data_root(data_dir, "snli")
    if split == "test":
        rows = read_tsv(root / "test.tsv")
        return [Pair(r["sentence1"], r["sentence2"], _NLI[r["gold_label"]], "snli", r["sentence1"])
                for r in rows if r["gold_label"] in _NLI]
    out = []
    for r in read_tsv(root / "train_subset.tsv"):
        if r["gold_label"] not in _NLI:
            continue
        # dev is carved from the train file by premise; test.tsv stays the test part
        part = "dev" if split_of("snli:" + r["sentence1"], dev=0.04, test=0.0) == "dev" else "train"
        if part == split:
            out.append(Pair(r["sentence1"], r["sentence2"], _NLI[r["gold_label"]], "snli", r["sentence1"]))
    return out


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())}


def cannot(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    root = data_root(data_dir, "cannot")
    rng = random.Random(seed)
    out: list[Pair] = []
    wiki = [(r["sentence"], r["negated"]) for r in read_tsv(root / "wikifactcheck_negated.tsv")
            if r["sentence"] and r["negated"]]
    mine = [(s, n) for s, n in wiki if split_of("cannot:" + s) == split]
    # a word index over this split's sentences, for "merely related" neighbours
    by_word: dict[str, list[int]] = {}
    words = [_content_words(s) for s, _ in mine]
    for i, ws in enumerate(words):
        for w in ws:
            by_word.setdefault(w, []).append(i)
    for i, (s, neg) in enumerate(mine):
        g = "cannot:" + s
        # either direction: the claim may be the negation and the evidence the original
        if rng.random() < 0.5:
            out.append(Pair(s, neg, "contradicts", "cannot", g))
        else:
            out.append(Pair(neg, s, "contradicts", "cannot", g))
        r = rng.random()
        if r < 0.3:
            # the claim stated again with more context around it: still entails
            j = rng.randrange(len(mine))
            extra = mine[j][0] if j != i else ""
            out.append(Pair((s + " " + extra).strip(), s, "entails", "cannot", g))
        elif r < 0.7:
            counts: dict[int, int] = {}
            for w in words[i]:
                for j in by_word.get(w, ())[:200]:
                    if j != i:
                        counts[j] = counts.get(j, 0) + 1
            if counts:
                j = max(counts, key=lambda k: counts[k])
                if rng.random() < 0.5:
                    out.append(Pair(mine[j][0], s, "neutral", "cannot", g))
                else:
                    out.append(Pair(mine[j][1], s, "neutral", "cannot", g))
    for row in read_tsv(root / "sem_anto_neg.tsv"):
        g = "cannot-sem:" + row["premise"]
        if split_of(g) != split:
            continue
        label = "contradicts" if row["label"] == "1" else "entails"
        out.append(Pair(row["premise"], row["hypothesis"], label, "cannot", g))
    return out


def perspectrum(data_dir: Path, split: str) -> list[Pair]:
    root = data_root(data_dir, "perspectrum")
    splits = json.loads((root / "dataset_split_v1.0.json").read_text(encoding="utf-8"))
    pool = {p["pId"]: p["text"] for p in json.loads((root / "perspective_pool_v1.0.json").read_text(encoding="utf-8"))}
    claims = json.loads((root / "perspectrum_with_answers_v1.0.json").read_text(encoding="utf-8"))
    out: list[Pair] = []
    for c in claims:
        if splits.get(str(c["cId"])) != split:
            continue
        for persp in c["perspectives"]:
            label = {"SUPPORT": "entails", "UNDERMINE": "contradicts"}.get(persp["stance_label_3"])
            if label is None:
                continue
            for pid in persp["pids"][:1]:  # the first paraphrase; the others repeat it
                if pid in pool:
                    out.append(Pair(pool[pid], c["text"], label, "perspectrum", f"perspectrum:{c['cId']}"))
    return out


_FNC = {"agree": "entails", "disagree": "contradicts", "discuss": "neutral", "unrelated": "neutral"}


def fnc1(data_dir: Path, split: str, seed: int = 13, unrelated_share: float = 0.15) -> list[Pair]:
    """Each headline against its best-matching body sentence (TF-IDF cosine)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    claims, bodies, body_ids, labels, topics = fnc1_rows(data_dir)
    rng = random.Random(seed)
    keep = [i for i in range(len(claims)) if fnc1_split_of(topics[i]) == split
            and (labels[i] != "unrelated" or rng.random() < unrelated_share)]
    sentences: dict[int, list[str]] = {}
    for i in keep:
        sentences.setdefault(body_ids[i], body_sentences(bodies[i]))
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1)
    vec.fit([s for ss in sentences.values() for s in ss] + [claims[i] for i in keep])
    out: list[Pair] = []
    for i in keep:
        cands = sentences[body_ids[i]]
        if not cands:
            continue
        sims = (vec.transform(cands) @ vec.transform([claims[i]]).T).toarray().ravel()
        best = int(sims.argmax())
        out.append(Pair(cands[best], claims[i], _FNC[labels[i]], "fnc1", f"fnc1-story:{topics[i]}"))
    return out


# Framings of a headline claim P. Denials state that P is false; agreeing ones state P; related ones
# talk about P without taking a side. Used only on train-split stories (the test denial set in
# tests/ is written separately, with invented names).
_DENY = (
    "Reports that {p} are false.",
    "There is no evidence that {p}.",
    "Officials denied reports that {p}.",
    "It is not true that {p}, a spokesperson said.",
    "The claim that {p} has been debunked.",
    "Contrary to rumours, it is false that {p}.",
    "Claims that {p} turned out to be a hoax.",
    "The story that {p} was fabricated, the outlet admitted in a retraction.",
)
_AGREE = (
    "Officials confirmed that {p}.",
    "It is now confirmed that {p}.",
    "{P}, according to several witnesses.",
    "{P}, the ministry said on Tuesday.",
)
_RELATED = (
    "It is unclear whether {p}.",
    "Some readers asked whether {p}.",
    "Police are investigating claims that {p}.",
    "Questions have been raised over whether {p}.",
)


def _clause(headline: str) -> str | None:
    h = headline.strip().rstrip(".!?").strip()
    if len(h.split()) < 4 or any(ch in h for ch in ":?\"“”'‘’|") or h.isupper():
        return None
    return h[0].lower() + h[1:] if not h[:2].isupper() else h


def fnc1_denials(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    claims, _, _, _, topics = fnc1_rows(data_dir)
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[Pair] = []
    for claim, topic in zip(claims, topics, strict=True):
        if claim in seen or fnc1_split_of(topic) != split:
            continue
        seen.add(claim)
        p = _clause(claim)
        if p is None:
            continue
        g = f"fnc1-story:{topic}"
        hyp = claim.strip()
        per_class = 2 if split == "train" else 1
        for templates, label in ((_DENY, "contradicts"), (_AGREE, "entails"), (_RELATED, "neutral")):
            for t in rng.sample(templates, per_class):
                out.append(Pair(t.format(p=p, P=p[0].upper() + p[1:]), hyp, label, "fnc1-denials", g))
    return out


def fnc1_headlines(data_dir: Path, split: str, seed: int = 13, per_claim: int = 3) -> list[Pair]:
    """Real headlines of one FNC-1 story judged against each other (claim: one headline; evidence:
    another), the form of claim/headline pairs.

    FNC-1 labels a (headline, body) pair by combining the headline's stance to the story's claim (for,
    against, or only observing) with the body's: *agree* when both take the same side, *disagree*
    when they take opposite sides, *discuss* when either only observes. So two headlines that are
    agree/disagree against one body take the same side (entails) or opposite sides (contradicts): "No,
    A Spider Did Not Burrow Under A Man's Skin" against "Tropical spider burrows under man's skin". A
    headline that is *discuss* against a body that takes a side with another headline only observes
    ("… Have Contracted Ebola, Iraqi Media Sources Claim"): neutral evidence for a headline that takes
    a side. The side relation is the same on every shared body in FNC-1 train (checked: no pair of
    headlines is same-side on one body and opposite on another); a pair that ever disagrees is dropped.
    Split by story, as ``fnc1``.
    """
    claims, _, body_ids, labels, topics = fnc1_rows(data_dir)
    on_body: dict[int, dict[str, str]] = {}
    story: dict[str, int] = {}
    for claim, body, label, topic in zip(claims, body_ids, labels, topics, strict=True):
        if label != "unrelated" and fnc1_split_of(topic) == split:
            on_body.setdefault(body, {})[claim] = label
            story[claim] = topic
    relation: dict[tuple[str, str], set[str]] = {}
    observing: set[str] = set()
    sided: set[str] = set()
    for heads in on_body.values():
        side = sorted(h for h, lab in heads.items() if lab != "discuss")
        sided.update(side)
        if side:  # the body takes a side, so a headline that only discusses it only observes
            observing.update(h for h, lab in heads.items() if lab == "discuss")
        for a in side:
            for b in side:
                if a != b:
                    relation.setdefault((a, b), set()).add("entails" if heads[a] == heads[b] else "contradicts")
    observing -= sided
    by_story: dict[int, list[str]] = {}
    for h in sorted(observing):
        by_story.setdefault(story[h], []).append(h)
    rng = random.Random(f"{seed}:fnc1-headlines:{split}")
    agreeing: dict[str, list[str]] = {}
    out: list[Pair] = []
    for (claim, evidence), got in sorted(relation.items()):
        if len(got) != 1 or _norm(claim) == _norm(evidence):
            continue
        label = got.pop()
        if label == "entails":
            agreeing.setdefault(claim, []).append(evidence)
        else:
            out.append(Pair(evidence.strip(), claim.strip(), label, "fnc1-headlines", f"fnc1-story:{story[claim]}"))
    for claim in sorted(sided):
        g = f"fnc1-story:{story[claim]}"
        # most headlines of a story take its side: at most `per_claim` agreeing and observing ones per claim,
        # so same-story headlines are not mostly "entails"
        for label, pool in (("entails", agreeing.get(claim, [])), ("neutral", by_story.get(story[claim], []))):
            for evidence in rng.sample(pool, min(per_claim, len(pool))):
                out.append(Pair(evidence.strip(), claim.strip(), label, "fnc1-headlines", g))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")


def _changed_number(text: str, rng: random.Random) -> str | None:
    found = list(_NUMBER.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    raw = m.group(0).replace(",", "")
    try:
        n = float(raw)
    except ValueError:
        return None
    if 1900 <= n <= 2100 and "." not in raw:
        new = str(int(n) + rng.choice((-3, -2, -1, 1, 2, 3)))
    else:
        factor = rng.choice((2, 3, 5, 10))
        new_n = n * factor if rng.random() < 0.5 or n < 10 else n / factor
        new = f"{new_n:,.0f}" if new_n >= 1 else f"{new_n:.2f}"
        if new.replace(",", "") == raw:
            return None
    return text[: m.start()] + new + text[m.end():]


def _changed_weekday(text: str, rng: random.Random) -> str | None:
    for day in _WEEKDAYS:
        if re.search(rf"\b{day}\b", text):
            other = rng.choice([d for d in _WEEKDAYS if d != day])
            return re.sub(rf"\b{day}\b", other, text)
    return None


def _negated(doc: object) -> str | None:
    """A sentence with its main verb negated ("will close" → "will not close", "closed" → "did not close")."""
    sent = next(iter(doc.sents))  # type: ignore[attr-defined]
    root = sent.root
    text: str = sent.text
    if any(c.dep_ == "neg" for c in root.children):
        return None
    auxes = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]
    if auxes:
        a = auxes[0]
        cut = a.idx - sent.start_char + len(a.text)
        return text[:cut] + " not" + text[cut:]
    if root.lemma_ == "be" and root.pos_ == "AUX":
        cut = root.idx - sent.start_char + len(root.text)
        return text[:cut] + " not" + text[cut:]
    aux = {"VBD": "did", "VBZ": "does", "VBP": "do"}.get(root.tag_)
    if aux is None or root.pos_ != "VERB":
        return None
    start = root.idx - sent.start_char
    return text[:start] + f"{aux} not {root.lemma_}" + text[start + len(root.text):]


def synthetic(data_dir: Path, split: str, seed: int = 13) -> list[Pair]:
    """Minimal edits that flip a statement: a negated main verb, a changed number or year, another
    weekday (contradicts, both directions), balanced by the statement again inside reporting
    ("…, officials said."; entails). Made from FNC-1 headlines of this split's stories and CANNOT
    sentences of this split, so the split by group holds."""
    from corroborate.claims.sentences import load_nlp

    rng = random.Random(seed)
    claims, _, _, _, topics = fnc1_rows(data_dir)
    seen: set[str] = set()
    texts: list[tuple[str, str]] = []
    for claim, topic in zip(claims, topics, strict=True):
        c = " ".join(claim.split())
        if c not in seen and fnc1_split_of(topic) == split and len(c.split()) >= 4 and not c.isupper():
            seen.add(c)
            texts.append((c, f"fnc1-story:{topic}"))
    root = data_root(data_dir, "cannot")
    wiki = [r["sentence"] for r in read_tsv(root / "wikifactcheck_negated.tsv") if r["sentence"]]
    texts += [(w, "cannot:" + w) for w in wiki if split_of("cannot:" + w) == split and len(w) < 200]
    nlp = load_nlp()
    out: list[Pair] = []
    docs = nlp.pipe([t for t, _ in texts], batch_size=256, disable=["ner"])
    for (text, group), doc in zip(texts, docs, strict=True):
        edits = [e for e in (_negated(doc), _changed_number(text, rng), _changed_weekday(text, rng)) if e]
        for edit in edits:
            if rng.random() < 0.5:
                out.append(Pair(edit, text, "contradicts", "synthetic", group))
            else:
                out.append(Pair(text, edit, "contradicts", "synthetic", group))
        if edits:
            frame = rng.choice(("{s}, officials said.", "{s}, the agency reported.", "According to police, {s}",
                                "{s}, according to a statement.", "Witnesses said {s}",
                                "BRENHAM, May 4 (Wire Service) – {s}", "OSLEY, 12 June (Newsdesk) – {s}"))
            body = text.rstrip(".")
            lower = frame[0] != "{" and "–" not in frame and not body[:2].isupper()
            body = body[0].lower() + body[1:] if lower else body
            out.append(Pair(frame.format(s=body), text, "entails", "synthetic", group))
    return out


def news(data_dir: Path, split: str) -> list[Pair]:
    """Invented news facts told, denied, changed and discussed (:mod:`corroborate.training.news`); needs no data."""
    from corroborate.training.news import news as made

    del data_dir
    return made({"train": 6000}.get(split, 400), split)


def debunks(data_dir: Path, split: str) -> list[Pair]:
    """Invented facts whose claim is itself a denial (:func:`corroborate.training.news.debunks`); needs no data."""
    from corroborate.training.news import debunks as made

    del data_dir
    return made({"train": 3000}.get(split, 300), split)


LOADERS: dict[str, Callable[[Path, str], list[Pair]]] = {
    "snli": snli, "cannot": cannot, "perspectrum": perspectrum, "fnc1": fnc1, "fnc1-denials": fnc1_denials,
    "fnc1-headlines": fnc1_headlines,
    "synthetic": synthetic, "news": news, "debunks": debunks,
}


def check_data(source: str, data_dir: Path) -> None:
    """A one-line ConfigError when ``data_dir`` lacks what ``source`` needs (before any model loads)."""
    if source not in LOADERS:
        raise ConfigError(f"unknown judge data source {source!r}; one of {', '.join(SOURCES)}")
    if source in ("fnc1", "fnc1-denials", "fnc1-headlines", "synthetic"):
        fnc_dir(data_dir)
    if source in ("snli", "cannot", "perspectrum", "synthetic"):
        data_root(data_dir, "cannot" if source == "synthetic" else source)


def load(source: str, data_dir: Path, split: str) -> list[Pair]:
    if source not in LOADERS:
        raise ConfigError(f"unknown judge data source {source!r}; one of {', '.join(SOURCES)}")
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    return list(_made(source, data_dir, split))


@functools.cache
def _made(source: str, data_dir: Path, split: str) -> tuple[Pair, ...]:
    """One source's pairs, made once per process: the headline sources rewrite the pairs of four
    others, which a training run loads as well (some parse every sentence with spaCy)."""
    csv.field_size_limit(sys.maxsize)
    return tuple(LOADERS[source](data_dir, split))


# --- headline form -------------------------------------------------------------------------------
# Claims arrive as headlines ("ISIS Getting Ebola", "Urgent: The Leader of ISIL 'Abu Bakr al-Baghdadi'
# Killed! / Photo"). The fourth pass judged "Reports that Isis fighters in Iraq have contracted Ebola are
# false" to *entail* "ISIS Getting Ebola" (0.91) while it read the sentence form right, and a kicker
# ("BREAKING: … Has Died!") halved a clear denial's share; as evidence, "Mara Velt Alive And Well, Says
# Her Agent" *stated* her death. ``headlines`` rewrites the claims of the invented and templated sources
# in headline form, ``headline-evidence`` their evidence; the meaning, and so the label, is unchanged.

_KICKERS = ("BREAKING: ", "Breaking: ", "Urgent: ", "URGENT: ", "Report: ", "EXCLUSIVE: ", "Exclusive: ",
            "WATCH: ", "Update: ", "Just in: ")
_TAILS = (" (VIDEO)", " / Photo", " [PHOTOS]", " (Photos)", " | Video", " (UPDATED)")
_SMALL = frozenset({"a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "by", "as", "from",
                    "with", "after", "over"})
_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def _present(lemma: str) -> str:
    """Third person present of a verb lemma ("approve" → "approves", "deny" → "denies")."""
    if lemma in _IRREGULAR:
        return _IRREGULAR[lemma]
    if re.search(r"(?:s|sh|ch|x|z|o)$", lemma):
        return lemma + "es"
    if re.search(r"[^aeiou]y$", lemma):
        return lemma[:-1] + "ies"
    return lemma + "s"


def _gerund(lemma: str) -> str:
    if lemma.endswith("ie"):
        return lemma[:-2] + "ying"
    if lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")) and lemma != "be":
        return lemma[:-1] + "ing"
    if re.fullmatch(r"[^aeiou]*[aeiou][bdgmnprt]", lemma):  # stop → stopping, win → winning
        return lemma + lemma[-1] + "ing"
    return lemma + "ing"


def _title(words: list[str]) -> list[str]:
    out = []
    for i, w in enumerate(words):
        if w.isupper() or not w[:1].isalpha() or (i and w.lower() in _SMALL):
            out.append(w)
        else:
            out.append(w[0].upper() + w[1:])
    return out


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def _figures(text: str, rng: random.Random) -> str:
    """The same figures written the way headlines write them: "$600 million" → "$600M", "12" ↔ "twelve",
    "4,000" → "4000" — a change of form on every label, so form alone never reads as a denial."""
    text = re.sub(r"(\$?\d+(?:\.\d+)?) (million|billion)\b",
                  lambda m: m.group(1) + ("M" if m.group(2).lower() == "million" else "bn"), text, flags=re.IGNORECASE)
    text = re.sub(r"\b(\d{1,3}),(\d{3})\b", r"\1\2", text)

    def word(m: re.Match[str]) -> str:
        n = int(m.group(0))
        return _NUMBER_WORDS[n - 2] if 2 <= n <= 12 and rng.random() < 0.5 else m.group(0)

    months = "|".join(_MONTH_NAMES)
    # a count, not a score ("9-4"), a date ("3 October") or part of a larger figure
    text = re.sub(rf"(?<![\d.,$-])\d+(?![\d.,%-])(?! (?:{months})\b)", word, text)
    for n, w in enumerate(_NUMBER_WORDS, start=2):
        text = re.sub(rf"\b{w}\b", str(n), text, flags=re.IGNORECASE) if rng.random() < 0.5 else text
    return text


def headline_form(claim: str, rng: random.Random, numbers: bool = False) -> str:
    """``claim`` written as a headline: no articles, headline tenses ("has approved" → "approves",
    "will close" → "to close", "was arrested" → "arrested"), often Title Case, sometimes a kicker, a
    tag or an exclamation mark. Negated verbs keep their auxiliary, so "has not died" stays a denial.
    With ``numbers`` the figures may change form too (:func:`_figures`; the seventh pass's data)."""
    from corroborate.claims.sentences import load_nlp

    doc = load_nlp()(claim.strip().rstrip("."))
    root = next(iter(doc.sents)).root
    negated = any(c.dep_ == "neg" for c in root.children)
    aux = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]
    drop: set[int] = set()
    swap: dict[int, str] = {}
    style = rng.random()
    plural = any(c.dep_ in ("nsubj", "nsubjpass") and "Plur" in c.morph.get("Number", []) for c in root.children)

    def present(lemma: str) -> str:
        return lemma if plural else _present(lemma)

    if not negated and root.pos_ in ("VERB", "AUX"):
        lemmas = [a.lemma_.lower() for a in aux]
        if "will" in lemmas:
            swap[aux[lemmas.index("will")].i] = "to"  # "will close the school" → "to close school"
        elif aux and root.tag_ == "VBN" and lemmas[-1] == "be":
            drop |= {a.i for a in aux}  # passive: "was arrested" → "arrested"
        elif aux and root.tag_ == "VBN" and lemmas == ["have"]:
            drop.add(aux[0].i)
            swap[root.i] = present(root.lemma_.lower()) if style < 0.6 else root.text
        elif not aux and root.tag_ in ("VBZ", "VBP") and root.lemma_.lower() != "be" and style < 0.3:
            swap[root.i] = _gerund(root.lemma_.lower())  # "ISIS Getting Ebola"
        elif not aux and root.tag_ == "VBD" and root.lemma_.lower() != "be" and style < 0.6:
            swap[root.i] = present(root.lemma_.lower())  # the headline's present for a past deed
    if rng.random() < 0.7:
        drop |= {t.i for t in doc if t.lower_ in ("the", "a", "an") and t.dep_ == "det"}
    words: list[str] = []
    for t in doc:
        if t.i in drop:
            continue
        w = swap.get(t.i, t.text)
        if words and t.i - 1 not in drop and doc[t.i - 1].whitespace_ == "" and not words[-1].endswith(" "):
            words[-1] += w  # keep "Kovac's" and "9-4" whole
        else:
            words.append(w)
    if words:
        words[0] = words[0][0].upper() + words[0][1:]
    if rng.random() < 0.5:
        words = _title(words)
    text = " ".join(words).rstrip(" ,;")
    if numbers and rng.random() < 0.6:
        text = _figures(text, rng)
    if rng.random() < 0.12:
        text += "!"
    r = rng.random()
    if r < 0.15:
        text = rng.choice(_KICKERS) + text
    elif r < 0.27:
        text += rng.choice(_TAILS)
    return text


def headlines(data_dir: Path, split: str) -> list[Pair]:
    """The claims of ``news``, ``debunks``, ``fnc1-denials`` and ``synthetic`` in headline form (one
    rewrite per distinct claim, labels and groups kept, so the split is theirs)."""
    return _in_headline_form(data_dir, split, "headlines", evidence=False)


def headline_evidence(data_dir: Path, split: str) -> list[Pair]:
    """The same sources with the *evidence* written as a headline ("Mara Velt Alive and Well, Agent
    Says" against "Singer Mara Velt died on Sunday."), which the fourth pass misread."""
    return _in_headline_form(data_dir, split, "headline-evidence", evidence=True)


def headline_figures(data_dir: Path, split: str) -> list[Pair]:
    """``headline-evidence`` with figures in headline forms as well ("$600M", "twelve"), on every label."""
    return _in_headline_form(data_dir, split, "headline-figures", evidence=True, numbers=True)


def _in_headline_form(data_dir: Path, split: str, name: str, evidence: bool, numbers: bool = False) -> list[Pair]:
    out: list[Pair] = []
    sources = ("news", "debunks") + (("fnc1-denials", "synthetic") if (_has_fnc(data_dir)) else ())
    for source in sources:
        rng = random.Random(f"{name}:{source}:{split}")
        rewritten: dict[str, str] = {}
        for p in _made(source, data_dir, split):
            text = p.premise if evidence else p.hypothesis
            if text not in rewritten:
                rewritten[text] = headline_form(text, rng, numbers)
            h = rewritten[text]
            if h.rstrip("!").lower() != text.rstrip(".").lower():
                out.append(Pair(h, p.hypothesis, p.label, name, p.group) if evidence
                           else Pair(p.premise, h, p.label, name, p.group))
    return out


def _has_fnc(data_dir: Path) -> bool:
    try:
        check_data("synthetic", data_dir)
    except ConfigError:
        return False
    return True


def _contrastive(name: str) -> Callable[[Path, str], list[Pair]]:
    def load_it(data_dir: Path, split: str) -> list[Pair]:
        from corroborate.training import contrast as judge_contrast

        fn = {"fever": judge_contrast.fever, "cad-snli": judge_contrast.cad_snli,
              "mined-neutral": judge_contrast.mined_neutral, "antonyms": judge_contrast.antonyms,
              "contrast": judge_contrast.contrast, "synonyms": judge_contrast.synonyms}[name]
        return fn(data_dir, split)

    return load_it


for _name in ("fever", "cad-snli", "mined-neutral", "antonyms", "contrast", "synonyms"):
    LOADERS[_name] = _contrastive(_name)
LOADERS["headlines"] = headlines
LOADERS["headline-evidence"] = headline_evidence
LOADERS["headline-figures"] = headline_figures
