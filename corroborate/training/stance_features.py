"""Features for the stance model: claim-focused sentence selection plus similarity, lexical and NLI signals.

Kept apart from :mod:`corroborate.judge.pairs` so training (:mod:`corroborate.training.train_stance`), evaluation
(:mod:`corroborate.training.evaluate`) and prediction build exactly the same matrix from the same code.

Every distinct claim and every distinct evidence sentence is embedded once per call; an evidence
vector is the normalised mean of its sentence vectors, so long bodies cost no extra encoder pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from corroborate.corpus.embed import Embedder
from corroborate.errors import ConfigError

FloatArray = npt.NDArray[np.float32]
Progress = Callable[[int, int], None]

# Above this the tail of a very long body adds encoder time but almost never the best sentence.
MAX_SENTENCES = 120
TOP_K = 3
NLI_LABELS = ("contradiction", "entailment", "neutral")


def _vocab(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ABBREVIATIONS = _vocab(
    "mr mrs ms dr prof st jr sr gen col lt sgt capt gov sen rep rev inc ltd co corp vs etc no fig jan feb mar apr "
    "jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m"
)
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+|\n\s*")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Word lists after the FNC-1 baseline, widened with denial vocabulary seen in news copy.
REFUTING = _vocab(
    """fake fraud hoax false deny denies denied denial not despite nope doubt doubts bogus debunk debunked debunks
    pranks prank retract retracts retracted retraction refute refutes refuted rebut rebuts rebutted dismiss dismissed
    dismisses untrue baseless unfounded fabricated fabrication myth rumor rumors rumour rumours misleading
    incorrect wrong lie lies lied satire satirical spoof parody disproved disprove disproves contrary contradict
    contradicts contradicted never"""
)
HEDGING = _vocab(
    """allegedly reportedly apparently purportedly supposedly claims claimed claim according unconfirmed unverified
    rumored rumoured may might could possibly perhaps suggest suggests suggested appears appear seems seem
    believed thought speculation speculate speculated report reports reported sources source said says alleged
    purported unclear unknown investigating investigation"""
)
NEGATION = _vocab(
    """not no never none nobody nothing neither nor without cannot isn't aren't wasn't weren't don't doesn't didn't
    won't wouldn't can't couldn't shouldn't hasn't haven't hadn't n't"""
)
AGREEING = _vocab(
    """confirmed confirms confirm confirmation indeed verified proves proven official officially announced
    revealed shows showed footage video photos evidence"""
)
STOPWORDS = _vocab(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that these
    those he she they we you i his her their our your my him them us me who whom which what when where why how
    has have had do does did will would shall should can could may might must about into over after before
    than then so such also just more most very up down out off s t"""
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``[start, end)`` in ``text``, whitespace trimmed; at least one span for non-blank text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        punct_end = match.start() + len(match.group(0).rstrip())
        if match.group(0)[0] in ".!?" and _ends_with_abbreviation(text, start, match.start()):
            continue
        _add_span(text, start, punct_end, spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _ends_with_abbreviation(text: str, start: int, dot: int) -> bool:
    words = text[start:dot].split()
    if not words:
        return False
    last = words[-1].lower().strip("\"'(\u201c\u2018")
    # A lone capital initial ("J. Smith") or a known abbreviation does not end a sentence.
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return
    lead = len(chunk) - len(chunk.lstrip())
    spans.append((start + lead, start + lead + len(stripped)))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1}


@dataclass(frozen=True)
class Evidence:
    """One distinct evidence text cut into sentences (spans index into ``text``)."""

    text: str
    spans: list[tuple[int, int]]

    @property
    def sentences(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]


def prepare_evidence(text: str) -> Evidence:
    spans = split_sentences(text)[:MAX_SENTENCES]
    if not spans:
        # Blank evidence still gets one (empty-text) sentence so shapes stay regular.
        spans = [(0, len(text))]
    return Evidence(text, spans)


@dataclass
class Prepared:
    """Everything about a batch of pairs that does not depend on fitted models except the NLI head."""

    claim_index: list[int]  # pair -> distinct claim
    evidence_index: list[int]  # pair -> distinct evidence
    claims: list[str]
    evidences: list[Evidence]
    claim_vecs: FloatArray
    sentence_vecs: list[FloatArray]  # per distinct evidence: (n_sentences, dim)
    top: list[list[int]]  # per pair: sentence indices, most similar first
    sims: list[FloatArray]  # per pair: similarity of the claim to every sentence

    @cached_property
    def evidence_vecs(self) -> FloatArray:
        """Per distinct evidence: the normalised mean of its sentence vectors (the evidence as a whole)."""
        return np.vstack([_normalise(v.mean(axis=0)) for v in self.sentence_vecs])


def prepare(
    pairs: Sequence[tuple[str, str]],
    embedder: Embedder,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> Prepared:
    """Embed distinct claims and distinct evidence sentences once; select claim-relevant sentences per pair."""
    claim_ids: dict[str, int] = {}
    ev_ids: dict[str, int] = {}
    claim_index = [claim_ids.setdefault(c, len(claim_ids)) for c, _ in pairs]
    evidence_index = [ev_ids.setdefault(e, len(ev_ids)) for _, e in pairs]
    claims = list(claim_ids)
    evidences = [prepare_evidence(e) for e in ev_ids]

    text_ids: dict[str, int] = {}
    for c in claims:
        text_ids.setdefault(c, len(text_ids))
    for ev in evidences:
        for s in ev.sentences:
            text_ids.setdefault(s, len(text_ids))
    texts = list(text_ids)
    vecs = _encode_in_chunks(texts, embedder, batch_size, progress)

    claim_vecs = vecs[[text_ids[c] for c in claims]] if claims else np.zeros((0, vecs.shape[1]), np.float32)
    sentence_vecs = [vecs[[text_ids[s] for s in ev.sentences]] for ev in evidences]

    top: list[list[int]] = []
    sims: list[FloatArray] = []
    for ci, ei in zip(claim_index, evidence_index, strict=True):
        s = sentence_vecs[ei] @ claim_vecs[ci]
        sims.append(s.astype(np.float32))
        top.append([int(i) for i in np.argsort(-s, kind="stable")[:TOP_K]])
    return Prepared(claim_index, evidence_index, claims, evidences, claim_vecs, sentence_vecs, top, sims)


def _encode_in_chunks(texts: list[str], embedder: Embedder, batch_size: int, progress: Progress | None) -> FloatArray:
    dim = int(getattr(embedder, "dimension", 384))
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    # Longest first so padded batches are tight; chunks let callers see progress on big jobs.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), dim), dtype=np.float32)
    chunk = max(batch_size * 16, 1)
    done = 0
    for lo in range(0, len(order), chunk):
        idx = order[lo : lo + chunk]
        out[idx] = embedder.encode([texts[i] for i in idx], batch_size=batch_size)
        done += len(idx)
        if progress is not None:
            progress(done, len(texts))
    return out


def nli_pair_features(premise: FloatArray, hypothesis: FloatArray) -> FloatArray:
    """The InferSent-style [u, v, |u-v|, u*v] input of the NLI head."""
    return np.hstack([premise, hypothesis, np.abs(premise - hypothesis), premise * hypothesis]).astype(np.float32)


def _count(tokens: Sequence[str], vocab: frozenset[str]) -> int:
    return sum(1 for t in tokens if t in vocab)


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _cos_sparse(a: Any, b: Any) -> npt.NDArray[np.float64]:
    # TfidfVectorizer rows are L2-normalised, so the row-wise dot product is the cosine.
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


FEATURE_NAMES: tuple[str, ...] = (
    "cos_body",
    "cos_lead",
    "sim_max",
    "sim_2",
    "sim_3",
    "sim_top_mean",
    "sim_mean",
    "sim_std",
    "n_sim_over_50",
    "best_pos",
    "log_n_sent",
    "claim_len",
    "tfidf_body",
    "tfidf_top1",
    "tfidf_top3",
    "overlap_body",
    "overlap_top3",
    "bigram_body",
    "bigram_top3",
    "claim_refute",
    "claim_hedge",
    "claim_neg",
    "claim_question",
    "top1_refute",
    "top3_refute",
    "top3_hedge",
    "top1_neg",
    "top3_neg",
    "neg_mismatch",
    "top3_agree",
    "body_refute_rate",
    "body_hedge_rate",
    "body_agree_rate",
    "rel_refute_rate",
    "nli_c_top1",
    "nli_e_top1",
    "nli_n_top1",
    "nli_c_max3",
    "nli_e_max3",
    "nli_c_mean3",
    "nli_c_body_max",
    "nli_c_sim_weighted",
    "nli_c_rev_top1",
    "nli_e_rev_top1",
)


TFIDF_COLUMNS = [FEATURE_NAMES.index(name) for name in ("tfidf_body", "tfidf_top1", "tfidf_top3")]


def build_matrix(prep: Prepared, nli_head: Any, tfidf: Any) -> tuple[FloatArray, list[tuple[int, int]]]:
    """Feature matrix (n_pairs, len(FEATURE_NAMES)) and each pair's quote span in its evidence."""
    feats, quotes = base_matrix(prep, nli_head)
    if len(quotes):
        feats[:, TFIDF_COLUMNS] = tfidf_columns(prep, tfidf)
    return feats, quotes


def tfidf_columns(prep: Prepared, tfidf: Any) -> FloatArray:
    """The TF-IDF cosine features: the only ones that depend on data-fitted state besides the NLI head."""
    n = len(prep.claim_index)
    top1_texts = [prep.evidences[prep.evidence_index[i]].sentences[prep.top[i][0]] for i in range(n)]
    top3_texts = [" ".join(prep.evidences[prep.evidence_index[i]].sentences[j] for j in prep.top[i]) for i in range(n)]
    claim_tf = tfidf.transform(prep.claims)[prep.claim_index]
    ev_tf = tfidf.transform([ev.text for ev in prep.evidences])[prep.evidence_index]
    cols = [
        _cos_sparse(claim_tf, ev_tf),
        _cos_sparse(claim_tf, tfidf.transform(top1_texts)),
        _cos_sparse(claim_tf, tfidf.transform(top3_texts)),
    ]
    return np.column_stack(cols).astype(np.float32)


def base_matrix(prep: Prepared, nli_head: Any) -> tuple[FloatArray, list[tuple[int, int]]]:
    """All features except the TF-IDF columns (left at 0), and the quote spans."""
    n = len(prep.claim_index)
    feats = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    quotes: list[tuple[int, int]] = []
    if n == 0:
        return feats, quotes

    ev_tokens = [[words(s) for s in ev.sentences] for ev in prep.evidences]
    ev_sent_refute = [np.array([_count(t, REFUTING) for t in sent], np.float32) for sent in ev_tokens]
    ev_sent_hedge = [np.array([_count(t, HEDGING) for t in sent], np.float32) for sent in ev_tokens]
    ev_sent_agree = [np.array([_count(t, AGREEING) for t in sent], np.float32) for sent in ev_tokens]
    ev_vocab = [{w for t in sent for w in t} for sent in ev_tokens]
    ev_bigrams = [set().union(*(_ngrams(t, 2) for t in sent)) for sent in ev_tokens]
    ev_vecs = prep.evidence_vecs
    claim_tokens = [words(c) for c in prep.claims]
    claim_content = [content_words(c) for c in prep.claims]

    # NLI: evidence sentence as premise, claim as hypothesis; over every pair's top sentences at once.
    rows_p: list[int] = []
    rows_s: list[tuple[int, int]] = []  # (evidence, sentence)
    for i in range(n):
        ei = prep.evidence_index[i]
        for si in prep.top[i]:
            rows_p.append(i)
            rows_s.append((ei, si))
    sent_mat = np.vstack([prep.sentence_vecs[e][s] for e, s in rows_s])
    claim_mat = prep.claim_vecs[[prep.claim_index[i] for i in rows_p]]
    nli_fwd = _nli_proba(nli_head, nli_pair_features(sent_mat, claim_mat))
    nli_rev = _nli_proba(nli_head, nli_pair_features(claim_mat, sent_mat))

    pos = 0
    for i in range(n):
        ci, ei = prep.claim_index[i], prep.evidence_index[i]
        ev = prep.evidences[ei]
        sims = prep.sims[i]
        top = prep.top[i]
        k = len(top)
        srt = np.sort(sims)[::-1]
        nf = nli_fwd[pos : pos + k]
        nr = nli_rev[pos : pos + k]
        pos += k
        toks = ev_tokens[ei]
        top_tok = [w for j in top for w in toks[j]]
        c_tok = claim_tokens[ci]
        c_content = claim_content[ci]
        top_content = {w for w in top_tok if w not in STOPWORDS and len(w) > 1}
        c_bi = _ngrams(c_tok, 2)
        top_bi = set().union(*(_ngrams(toks[j], 2) for j in top))
        n_sent = len(ev.spans)
        relevant = sims >= 0.4
        weights = np.clip(sims[top], 0.0, None)
        claim_neg = _count(c_tok, NEGATION)
        top1_neg = _count(toks[top[0]], NEGATION)
        feats[i] = (
            float(ev_vecs[ei] @ prep.claim_vecs[ci]),
            float(sims[0]),
            float(srt[0]),
            float(srt[1]) if len(srt) > 1 else float(srt[0]),
            float(srt[2]) if len(srt) > 2 else float(srt[-1]),
            float(srt[:TOP_K].mean()),
            float(sims.mean()),
            float(sims.std()),
            float((sims >= 0.5).sum()),
            top[0] / max(n_sent - 1, 1),
            math.log1p(n_sent),
            len(c_tok),
            0.0,  # TF-IDF columns are filled by tfidf_columns
            0.0,
            0.0,
            len(c_content & ev_vocab[ei]) / max(len(c_content), 1),
            len(c_content & top_content) / max(len(c_content), 1),
            len(c_bi & ev_bigrams[ei]) / max(len(c_bi), 1),
            len(c_bi & top_bi) / max(len(c_bi), 1),
            _count(c_tok, REFUTING),
            _count(c_tok, HEDGING),
            claim_neg,
            float("?" in prep.claims[ci]),
            ev_sent_refute[ei][top[0]],
            ev_sent_refute[ei][top].sum(),
            ev_sent_hedge[ei][top].sum(),
            top1_neg,
            _count(top_tok, NEGATION),
            float((claim_neg > 0) != (top1_neg > 0)),
            ev_sent_agree[ei][top].sum(),
            ev_sent_refute[ei].sum() / n_sent,
            ev_sent_hedge[ei].sum() / n_sent,
            ev_sent_agree[ei].sum() / n_sent,
            float(ev_sent_refute[ei][relevant].sum() / max(int(relevant.sum()), 1)),
            nf[0, 0],
            nf[0, 1],
            nf[0, 2],
            nf[:, 0].max(),
            nf[:, 1].max(),
            nf[:, 0].mean(),
            max(nf[:, 0].max(), nr[:, 0].max()),
            float((nf[:, 0] * weights).sum() / max(float(weights.sum()), 1e-6)),
            nr[0, 0],
            nr[0, 1],
        )
        quotes.append(ev.spans[top[0]])
    return feats, quotes


EMBEDDING_BLOCKS = ("claim", "body", "claim_x_top1")


def embedding_blocks(prep: Prepared, names: Iterable[str]) -> dict[str, FloatArray]:
    """Per pair, the named MiniLM blocks for the stage-2 projections (only those asked for):
    ``claim``, ``body`` (the evidence as a whole) and ``claim_x_top1`` (the claim times its best
    sentence, element-wise)."""
    wanted = set(names)
    unknown = wanted - set(EMBEDDING_BLOCKS)
    if unknown:
        known = ", ".join(EMBEDDING_BLOCKS)
        raise ConfigError(f"unknown embedding block(s) {', '.join(sorted(unknown))}; known: {known}")
    dim = prep.claim_vecs.shape[1] if prep.claim_vecs.ndim == 2 else 384
    if not prep.claim_index:
        return {name: np.zeros((0, dim), dtype=np.float32) for name in wanted}
    out: dict[str, FloatArray] = {}
    claim = prep.claim_vecs[prep.claim_index]
    if "claim" in wanted:
        out["claim"] = claim.astype(np.float32)
    if "body" in wanted:
        out["body"] = prep.evidence_vecs[prep.evidence_index].astype(np.float32)
    if "claim_x_top1" in wanted:
        top1 = np.vstack([prep.sentence_vecs[e][t[0]] for e, t in zip(prep.evidence_index, prep.top, strict=True)])
        out["claim_x_top1"] = (claim * top1).astype(np.float32)
    return out


def _nli_proba(nli_head: Any, x: FloatArray) -> FloatArray:
    """Probabilities in NLI_LABELS order, whatever order the classifier stored its classes in."""
    proba = np.asarray(nli_head.predict_proba(x), dtype=np.float32)
    order = [list(nli_head.classes_).index(label) for label in NLI_LABELS]
    return proba[:, order]


def _normalise(v: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v.astype(np.float32)
