"""Dedup keys: canonical URL, exact content hash, MinHash near-duplicate index; containment.

Three levels, cheapest first: the same page under different URLs (tracking parameters,
``rel=canonical``), the same text byte for byte after normalisation (``content_hash``), and the
same story republished with small edits and other boilerplate (syndicated wire copy), found by
MinHash over word 5-shingles and verified on the estimated Jaccard similarity.

Jaccard compares whole texts, so an excerpt, or a reprint inside a longer page, is not similar
to its original. :func:`containment` asks instead how much of the *shorter* text the longer one
holds: over word 5-grams it finds copies and excerpts (``copy_containment``), over word 8-grams
the long passages that rewrites keep from their source (``rewrite_containment``, with dates
within ``rewrite_window_days``). Both are computed at check time, between an article and its
evidence and among the evidence documents of one claim (see retrieve.py).

A network that rewords one template sentence by sentence keeps few 8-grams but all of the
template's *details*: its names, places, numbers and rare words. :class:`Details` weighs a text's
rare words by their IDF over a background of news (``data/detail_frequencies.json``) and
:meth:`Shingled.template_similarity` compares two texts' details (IDF-weighted Jaccard); retrieval
joins two unvetted documents of the same day at or above ``TEMPLATE_SIMILARITY``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import lxml.etree  # type: ignore[import-untyped,unused-ignore]  # no stubs; ask: lxml.* in mypy overrides
import lxml.html  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from datasketch import MinHash

from corroborate.errors import ConfigError
from corroborate.screens import has_userinfo as has_userinfo  # credentials: defined in corroborate.screens
from corroborate.screens import strip_userinfo as strip_userinfo

# Parameters that identify the click, not the page. Matched case-insensitively.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "icid", "ito", "smid", "smtyp",
        "sr_share", "spm", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "ns_mchannel",
        "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "cmp", "s_cid", "wt.mc_id", "xtor",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "vero_", "oly_")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# The text is already decoded; bytes in, so pages with an XML encoding declaration parse too.
_UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")
_WORD = re.compile(r"\w+", re.UNICODE)
_SHINGLE = 5
# Fixed so signatures stored by one process compare with those computed by another. affine64
# (datasketch >= 2.0) stores uint64 natively and avoids the legacy scheme's large-set bias.
_SEED = 1
_SCHEME = "affine64"
MINHASH_SLICE = 4096  # shingles hashed per update_batch call


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


# Not courlan's normalize_url (installed with trafilatura), measured against this one (issue 23 item 6;
# scripts/courlan_vs_canonicalize.py): it changes what the dedup tests mean in both modes. Non-strict, it
# keeps the #fragment (two keys for one page), keeps tracking parameters it does not know (cmpid, ocid),
# drops the root path's "/" (keys already stored no longer match) and sorts the query (some sites route
# on its order); 5 dedup and discovery tests fail with it. Strict, it drops every parameter outside its
# list: two different articles of news_view.html?idx=8576 and ?idx=8723 (entermedia.co.kr, in news-html)
# get one key and the second is stored as a duplicate of the first; 2 tests fail.
def canonicalize_url(url: str) -> str:
    """Normalise a URL so one page has one spelling.

    Lowercases scheme and host, drops credentials (``user:password@``), the default port, the
    fragment, tracking parameters and an empty query. The remaining parameters keep their order:
    some sites route on it.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw  # malformed (bad port, bad IPv6 literal): leave it for the fetcher to reject
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return urlunsplit((scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, ""))
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    # filter the raw pieces rather than re-encoding, so kept parameters keep their exact spelling
    kept = [
        piece for piece in parts.query.split("&") if piece and not _is_tracking(unquote_plus(piece.split("=", 1)[0]))
    ]
    query = "&".join(kept)
    return urlunsplit((scheme, netloc, path, query, ""))


def _parse_html(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=_UTF8_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None


def find_canonical(html: str, url: str) -> str:
    """The page's canonical URL (``<link rel=canonical>``, then ``og:url``), absolute and canonicalised.

    Falls back to ``canonicalize_url(url)`` when the page declares none usable.
    """
    root = _parse_html(html)
    if root is None:
        return canonicalize_url(url)
    base = url
    for href in root.xpath("//base/@href"):
        base = urljoin(url, str(href).strip())
        break
    declared: list[str] = []
    for link in root.xpath("//link[@rel and @href]"):
        rels = str(link.get("rel", "")).lower().split()
        if "canonical" in rels:
            declared.append(str(link.get("href", "")))
    for meta in root.xpath("//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key == "og:url":
            declared.append(str(meta.get("content", "")))
    for candidate in declared:
        candidate = candidate.strip()
        if not candidate:
            continue
        absolute = urljoin(base, candidate)
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.hostname:
            return canonicalize_url(absolute)
    return canonicalize_url(url)


def normalize_text(text: str) -> str:
    """Lowercase with runs of whitespace collapsed: what the content hash and shingles see."""
    return " ".join(text.lower().split())


def content_hash(text: str) -> str:
    """sha256 hex of the whitespace- and case-normalised text."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def _shingles(text: str) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) < _SHINGLE:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + _SHINGLE]).encode("utf-8") for i in range(len(words) - _SHINGLE + 1)}


# Word n-gram sizes for containment. 5 as for MinHash: short enough that a copy with a few edited
# words keeps most of them. 8 for rewrites: two independent reports of one event rarely share
# eight words in a row outside a quotation, a rewrite of one text keeps many such runs.
COPY_NGRAM = 5
REWRITE_NGRAM = 8
# A text with fewer n-grams than this is too short to call a copy of anything (a headline, a
# one-line blurb): its containment is 0.
MIN_CONTAINMENT_NGRAMS = 10
# Quotations, left out of the rewrite measure: independent reports of one event quote the same
# statement word for word; what a rewrite keeps from its source is the narrative around the quotes.
_QUOTATION = re.compile(
    r'"[^"\n]{1,3000}"'  # straight
    r"|\u201c[^\u201d\n]{1,3000}\u201d"  # curly
    r"|\u201e[^\u201c\u201d\n]{1,3000}[\u201c\u201d]"  # German
    r"|\u00ab[^\u00bb\n]{1,3000}\u00bb"  # guillemets
)


def ngram_hashes(text: str, n: int) -> frozenset[int]:
    """Hashes of the text's word n-grams (lowercased words, as for MinHash).

    Python's string hash is salted per process: compare sets made in the same process only.
    """
    words = _WORD.findall(text.lower())
    return frozenset(hash(" ".join(words[i : i + n])) for i in range(len(words) - n + 1))


def containment(a: Set[int], b: Set[int], min_ngrams: int = MIN_CONTAINMENT_NGRAMS) -> float:
    """|A ∩ B| / min(|A|, |B|): the share of the shorter text's n-grams found in the longer one.

    1.0 for an excerpt of the other text or the other text inside a longer page; 0.0 when either
    text has fewer than ``min_ngrams`` n-grams.
    """
    if min(len(a), len(b)) < min_ngrams:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small)


# Template rewrites (issue 24, finding 7; docs/hardening.md). The threshold is chosen by
# training/calibrate_origins.py on its dev part: rewrites written for the tests
# (tests/data/template_networks.json) against independent reports of one story (FNC-1 bodies by story,
# the fixtures' own independent accounts); RARE_IDF and MIN_DETAILS were compared there too.
DETAIL_FREQUENCIES = Path(__file__).resolve().parents[1] / "data" / "detail_frequencies.json"
# A word is a detail when its IDF over the background is at least this: with the shipped table's 300
# documents, a word found in at most 13 of them (1 in 23). Names, places, numbers and rare words pass;
# "said", "water", "council" do not.
RARE_IDF = 3.0
# A text with fewer distinct details is too short to call a rewrite of anything (a one-line blurb).
MIN_DETAILS = 10
# IDF-weighted Jaccard of two texts' details from which two unvetted documents published within
# TEMPLATE_WINDOW_DAYS are one origin.
TEMPLATE_SIMILARITY = 0.55
TEMPLATE_WINDOW_DAYS = 1  # "the same day": at most 24 hours apart (an unknown date may be any)
# numbers keep their decimal point and lose their thousands separators ("1,200" and "1200" are one
# detail); words are letters only, two or more ("valley's" is "valley")
_DETAIL_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]{2,}")


_THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")  # "1,200" -> "1200"; "0.28" stays


def _detail_word(word: str) -> str:
    return _THOUSANDS.sub("", word) if word[0].isdigit() else word


def detail_words(text: str) -> list[str]:
    """The text's words as :class:`Details` sees them: lowercased, numbers without thousands separators."""
    return [_detail_word(w) for w in _DETAIL_TOKEN.findall(text.lower())]


def _distinct_details(text: str) -> set[str]:
    """``set(detail_words(text))``, normalising each distinct token once (a long page repeats most)."""
    return {_detail_word(w) for w in set(_DETAIL_TOKEN.findall(text.lower()))}


@dataclass(frozen=True)
class DetailFrequencies:
    """How many documents of a background of news hold each word: what makes a word a rare detail."""

    documents: int
    df: Mapping[str, int]

    def idf(self, word: str) -> float:
        """Smoothed IDF: ln((N + 1) / (df + 1)); a word the background never has gets the most."""
        return math.log((self.documents + 1) / (self.df.get(word, 0) + 1))

    @classmethod
    def count(cls, documents: Iterable[str], min_df: int = 1) -> DetailFrequencies:
        """Count the words of ``documents`` (each a text); words in fewer than ``min_df`` are left out (count 0)."""
        df: dict[str, int] = {}
        n = 0
        for text in documents:
            n += 1
            for word in _distinct_details(text):
                df[word] = df.get(word, 0) + 1
        return cls(n, {w: c for w, c in sorted(df.items()) if c >= min_df})

    def to_json(self, note: str) -> dict[str, Any]:
        return {"_note": note, "documents": self.documents, "df": dict(sorted(self.df.items()))}

    @classmethod
    def load(cls, path: Path = DETAIL_FREQUENCIES) -> DetailFrequencies:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["documents"]), {str(w): int(c) for w, c in data["df"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot read the detail frequencies {path}: {exc}") from exc


@functools.cache
def detail_frequencies() -> DetailFrequencies:
    """The shipped background (``data/detail_frequencies.json``), read once per process."""
    return DetailFrequencies.load()


@dataclass(frozen=True)
class Details:
    """A text's rare words (details), each weighted by its IDF over the background."""

    weights: Mapping[str, float]
    total: float

    @classmethod
    def of(cls, text: str, frequencies: DetailFrequencies | None = None, rare_idf: float = RARE_IDF) -> Details:
        freq = frequencies or detail_frequencies()
        weights = {}
        for word in _distinct_details(text):
            idf = freq.idf(word)
            if idf >= rare_idf:
                weights[word] = idf
        return cls(weights, sum(weights.values()))

    def similarity(self, other: Details, min_details: int = MIN_DETAILS) -> float:
        """Weight of the details both texts have over the weight of those either has (0 for a short text).

        A template and its rewordings share nearly all their details; independent reports of one event
        share its names and numbers, and each has its own: who else was asked, what else was found.
        """
        if min(len(self.weights), len(other.weights)) < min_details:
            return 0.0
        small, large = (self, other) if len(self.weights) <= len(other.weights) else (other, self)
        shared = sum(w for word, w in small.weights.items() if word in large.weights)
        union = self.total + other.total - shared
        return shared / union if union > 0 else 0.0


@dataclass(frozen=True)
class Shingled:
    """A text's word n-grams for :func:`containment` (5-grams for copies, 8-grams outside quotations for
    rewrites) and its :class:`Details` for template rewrites (made when first asked for)."""

    copy: frozenset[int]
    rewrite: frozenset[int]
    text: str = field(default="", repr=False, compare=False)

    @classmethod
    def of(cls, text: str) -> Shingled:
        # the text between quotations, piece by piece, so no n-gram spans the words around a quotation
        narrative = frozenset().union(*(ngram_hashes(part, REWRITE_NGRAM) for part in _QUOTATION.split(text)))
        return cls(ngram_hashes(text, COPY_NGRAM), narrative, text)

    @functools.cached_property
    def details(self) -> Details:
        return Details.of(self.text)

    def copy_containment(self, other: Shingled) -> float:
        return containment(self.copy, other.copy)

    def rewrite_containment(self, other: Shingled) -> float:
        return containment(self.rewrite, other.rewrite)

    def template_similarity(self, other: Shingled) -> float:
        return self.details.similarity(other.details)


_PERMUTATIONS: dict[int, Any] = {}


def _minhash(**kwargs: Any) -> MinHash:
    """datasketch's MinHash, imported on first use: datasketch brings scipy (~1 s), which a client of the
    warm checker, unpickling a verdict, must not pay for."""
    from datasketch import MinHash

    return MinHash(**kwargs)


def _permutations(num_perm: int) -> Any:
    """The seeded permutation parameters, made once per size (MinHash() would redo them each time)."""
    perms = _PERMUTATIONS.get(num_perm)
    if perms is None:
        perms = _PERMUTATIONS[num_perm] = _minhash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME).permutations
    return perms


def minhash_signature(text: str, num_perm: int = 128) -> bytes:
    """MinHash of the text's word 5-shingles, as little-endian uint64 bytes (8 per permutation)."""
    if num_perm <= 0:
        raise ConfigError(f"minhash permutations must be > 0, got {num_perm}")
    mh = _minhash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME, permutations=_permutations(num_perm))
    shingles = list(_shingles(text))
    # update_batch holds a uint64 array of shingles x permutations (1.1 GB for a 4.8 MB article at 128):
    # in slices it stays a few MB, and the minimum over the slices is the same signature
    for i in range(0, len(shingles), MINHASH_SLICE):
        mh.update_batch(shingles[i : i + MINHASH_SLICE])
    return np.asarray(mh.hashvalues, dtype="<u8").tobytes()


def _hashvalues(signature: bytes) -> npt.NDArray[np.uint64]:
    if not signature or len(signature) % 8:
        raise ConfigError(f"not a MinHash signature: {len(signature)} bytes is not a multiple of 8")
    return np.frombuffer(signature, dtype="<u8").astype(np.uint64)


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts behind the signatures."""
    a, b = _hashvalues(sig_a), _hashvalues(sig_b)
    if a.shape != b.shape:
        raise ConfigError(
            f"MinHash signatures differ in size ({a.size} vs {b.size} permutations); "
            "was minhash_permutations changed? recompute the stored signatures"
        )
    return float(np.count_nonzero(a == b)) / float(a.size)


class NearDuplicateIndex:
    """Signatures by integer key; ``query`` returns the keys of verified near-duplicates.

    LSH banding gives candidates cheaply; each is then checked against ``threshold`` on the
    estimated Jaccard similarity, so banding false positives never come back. The bands and rows
    are datasketch's optimum for the threshold (``MinHashLSH(threshold, num_perm).b / .r``); the
    band tables are kept here as plain ``{band hash: key}`` dicts, about a third of the memory of
    datasketch's own tables (which keep every band's bytes twice), because the index holds every
    stored document's signature while an ingest or import runs.
    """

    def __init__(self, threshold: float, num_perm: int) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        if num_perm <= 1:
            raise ConfigError(f"minhash permutations must be > 1, got {num_perm}")
        self.threshold = threshold
        self.num_perm = num_perm
        bands, rows = _banding(threshold, num_perm)
        self._ranges = [(i * rows, (i + 1) * rows) for i in range(bands)]
        # band hash -> one key, or a list of keys when several signatures share the band
        self._tables: list[dict[int, int | list[int]]] = [{} for _ in range(bands)]
        self._signatures: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: object) -> bool:
        return key in self._signatures

    def _band_hashes(self, signature: bytes) -> list[int]:
        values = _hashvalues(signature)
        if values.size != self.num_perm:
            raise ConfigError(
                f"MinHash signature has {values.size} permutations, the index expects {self.num_perm}; "
                "was minhash_permutations changed? recompute the stored signatures"
            )
        raw = values.tobytes()
        # Python's hash of bytes is salted per process: fine for an index that lives in memory
        return [hash(raw[a * 8 : b * 8]) for a, b in self._ranges]

    def add(self, key: int, signature: bytes) -> None:
        """Index ``signature`` under ``key`` (re-adding a key replaces its signature)."""
        hashes = self._band_hashes(signature)
        if key in self._signatures:
            self.remove(key)
        for table, h in zip(self._tables, hashes, strict=True):
            held = table.get(h)
            if held is None:
                table[h] = key
            elif isinstance(held, list):
                held.append(key)
            else:
                table[h] = [held, key]
        self._signatures[key] = signature

    def remove(self, key: int) -> None:
        signature = self._signatures.pop(key, None)
        if signature is None:
            return
        for table, h in zip(self._tables, self._band_hashes(signature), strict=True):
            held = table.get(h)
            if held == key:
                del table[h]
            elif isinstance(held, list) and key in held:
                held.remove(key)
                if len(held) == 1:
                    table[h] = held[0]

    def _candidates(self, hashes: list[int]) -> set[int]:
        found: set[int] = set()
        for table, h in zip(self._tables, hashes, strict=True):
            held = table.get(h)
            if held is None:
                continue
            if isinstance(held, list):
                found.update(held)
            else:
                found.add(held)
        return found

    def query(self, signature: bytes) -> list[int]:
        """Keys whose estimated Jaccard similarity to ``signature`` is at least the threshold, most similar first."""
        scored = []
        for key in self._candidates(self._band_hashes(signature)):
            score = similarity(signature, self._signatures[key])
            if score >= self.threshold:
                scored.append((score, key))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [key for _, key in scored]


_BANDING: dict[tuple[float, int], tuple[int, int]] = {}


def _banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH picks for this threshold (cached: it integrates)."""
    found = _BANDING.get((threshold, num_perm))
    if found is None:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        found = _BANDING[(threshold, num_perm)] = (int(lsh.b), int(lsh.r))
    return found
