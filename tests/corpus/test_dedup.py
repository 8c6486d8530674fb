"""Dedup on real article text: canonical URLs, content hashes, syndicated near-duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corroborate.corpus.dedup import (
    NearDuplicateIndex,
    Shingled,
    canonicalize_url,
    containment,
    content_hash,
    find_canonical,
    minhash_signature,
    ngram_hashes,
    similarity,
)
from corroborate.errors import ConfigError
from corroborate.settings import Settings

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "news-html"
WEWORK_REUTERS = "06e5123e4ef7"  # VentureBeat running a Reuters wire story
NYT_OPINION = "04a6711caa7c"
CT_POST_SUVS = "05844573ca7e"
TECHCRUNCH_WEWORK = "1ace8c85aaee"  # TechCrunch's own report of the investigation in WEWORK_REUTERS


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    truth = DATA / "ground-truth.json"
    if not truth.is_file():
        pytest.skip(f"real article texts not found at {truth}")
    data = json.loads(truth.read_text(encoding="utf-8"))
    return {sha[:12]: entry["articleBody"] for sha, entry in data.items()}


def republished(text: str) -> str:
    """What a syndication partner does to wire copy: own intro and outro, a few words edited."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    body = "\n".join(paragraphs[1:-1])
    for old, new in [(" said ", " told reporters "), (" investigating ", " probing "), ("WeWork", "We Work")]:
        body = body.replace(old, new, 2)
    intro = "This story was republished from our wire partner. Sign up for our morning newsletter to get it first."
    outro = "Copyright 2019 Partner Media Group. All rights reserved. Follow us on social media for more."
    return f"{intro}\n{body}\n{outro}"


def test_lightly_edited_wire_copy_is_a_near_duplicate(bodies: dict[str, str]) -> None:
    s = Settings()
    original = bodies[WEWORK_REUTERS]
    copy = republished(original)
    assert copy != original and content_hash(copy) != content_hash(original)
    sig_a = minhash_signature(original, s.minhash_permutations)
    sig_b = minhash_signature(copy, s.minhash_permutations)
    assert similarity(sig_a, sig_b) >= s.near_duplicate_threshold

    index = NearDuplicateIndex(s.near_duplicate_threshold, s.minhash_permutations)
    index.add(1, sig_a)
    for key, sha in enumerate([NYT_OPINION, CT_POST_SUVS], start=2):
        index.add(key, minhash_signature(bodies[sha], s.minhash_permutations))
    assert index.query(sig_b) == [1]
    assert len(index) == 3


def test_different_real_articles_are_not_near_duplicates(bodies: dict[str, str]) -> None:
    s = Settings()
    shas = list(bodies)[:40]
    sigs = {sha: minhash_signature(bodies[sha], s.minhash_permutations) for sha in shas}
    index = NearDuplicateIndex(s.near_duplicate_threshold, s.minhash_permutations)
    for key, sha in enumerate(shas):
        index.add(key, sigs[sha])
    for key, sha in enumerate(shas):
        # each article finds itself and nothing else (the benchmark has no duplicate pages)
        assert index.query(sigs[sha]) == [key], sha
    assert similarity(sigs[shas[0]], sigs[shas[1]]) < 0.2


def test_excerpts_and_reprints_are_contained_where_jaccard_misses_them(bodies: dict[str, str]) -> None:
    s = Settings()
    original = bodies[WEWORK_REUTERS]
    paragraphs = [p for p in original.split("\n") if p.strip()]
    excerpt = "\n".join(paragraphs[:4])  # as a news archive keeps it
    in_a_page = f"{bodies[CT_POST_SUVS]}\n{original}\n{bodies[NYT_OPINION][:2000]}"  # beside other stories
    whole = Shingled.of(original)
    for copy in (excerpt, in_a_page):
        jaccard = similarity(minhash_signature(original), minhash_signature(copy))
        assert jaccard < s.near_duplicate_threshold, jaccard  # whole-text similarity does not see it
        assert whole.copy_containment(Shingled.of(copy)) == 1.0
    edited = whole.copy_containment(Shingled.of(republished(original)))
    assert s.copy_containment < edited < 1.0
    # another report of the same event (TechCrunch), and unrelated articles, are not copies
    for sha in [TECHCRUNCH_WEWORK, NYT_OPINION, CT_POST_SUVS]:
        other = Shingled.of(bodies[sha])
        assert whole.copy_containment(other) < 0.1, sha
        assert whole.rewrite_containment(other) < s.rewrite_containment, sha


def test_containment_is_over_the_shorter_text_and_ignores_scraps() -> None:
    long = ngram_hashes("one two three four five six seven eight nine ten eleven twelve thirteen fourteen", 2)
    short = ngram_hashes("six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen", 2)
    assert len(long) == 13 and len(short) == 10 and len(long & short) == 8
    assert containment(long, short) == containment(short, long) == 0.8
    assert containment(long, short, min_ngrams=11) == 0.0  # the shorter is too short to be a copy of anything
    assert containment(frozenset(), long) == 0.0


def test_quotations_are_not_rewrite_passages() -> None:
    statement = (
        '"Every public well in the valley is tested monthly, and lithium has never been above the limit in the '
        'water we deliver, and anyone can ask us for the results of their own street," the director said.'
    )
    a = Shingled.of("The water board answered questions on Wednesday morning at a hall in Tressan. " + statement)
    b = Shingled.of("Reporters from three papers waited outside the closed gates of the pumping station. " + statement)
    assert a.copy_containment(b) > 0.5  # most of the words are one statement, quoted by both
    assert a.rewrite_containment(b) == 0.0  # but the two reports share no narrative


def test_signature_is_stable_bytes_and_sizes_must_match(bodies: dict[str, str]) -> None:
    text = bodies[NYT_OPINION]
    sig = minhash_signature(text, 64)
    assert isinstance(sig, bytes) and len(sig) == 64 * 8
    assert sig == minhash_signature(text, 64)  # same seed in every process
    assert similarity(sig, sig) == 1.0
    with pytest.raises(ConfigError):
        similarity(sig, minhash_signature(text, 128))
    with pytest.raises(ConfigError):
        NearDuplicateIndex(0.7, 128).add(1, sig)


def test_re_adding_a_key_replaces_its_signature(bodies: dict[str, str]) -> None:
    index = NearDuplicateIndex(0.7, 128)
    a = minhash_signature(bodies[NYT_OPINION])
    b = minhash_signature(bodies[CT_POST_SUVS])
    index.add(7, a)
    index.add(7, b)
    assert index.query(a) == [] and index.query(b) == [7]
    index.remove(7)
    assert index.query(b) == [] and 7 not in index


def test_content_hash_ignores_case_and_whitespace_only(bodies: dict[str, str]) -> None:
    text = bodies[CT_POST_SUVS]
    assert content_hash(text) == content_hash("  " + text.upper().replace(" ", "\n\t "))
    assert content_hash(text) != content_hash(text.replace("electric", "electrical", 1))
    assert len(content_hash(text)) == 64


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.Reuters.com:443/world/europe/story-id?utm_source=twitter&utm_medium=social&id=42#comments",
            "https://www.reuters.com/world/europe/story-id?id=42",
        ),
        ("http://example.com:80/a?fbclid=IwAR0x&gclid=abc&mc_cid=1&mc_eid=2", "http://example.com/a"),
        ("https://example.com/a?ref=tw&cmpid=rss&ocid=msn&page=2", "https://example.com/a?page=2"),
        ("https://EXAMPLE.com?", "https://example.com/"),
        ("http://127.0.0.1:8080/news/x.html?UTM_Campaign=x", "http://127.0.0.1:8080/news/x.html"),
        ("https://example.com/search?q=a+b%2Fc&utm_term=z", "https://example.com/search?q=a+b%2Fc"),
    ],
)
def test_canonicalize_url_strips_tracking(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected
    assert canonicalize_url(expected) == expected


def test_find_canonical_reads_link_rel_then_og_url() -> None:
    page = (
        "<html><head><title>x</title>"
        '<meta property="og:url" content="https://example.com/og-version">'
        '<link rel="canonical" href="/2019/11/18/story.html?utm_source=rss">'
        "</head><body><p>text</p></body></html>"
    )
    assert find_canonical(page, "https://Example.com/amp/story?x=1") == "https://example.com/2019/11/18/story.html"
    og_only = page.replace('<link rel="canonical" href="/2019/11/18/story.html?utm_source=rss">', "")
    assert find_canonical(og_only, "https://example.com/amp/story") == "https://example.com/og-version"
    bare = "<html><head><title>x</title></head><body><p>text</p></body></html>"
    assert find_canonical(bare, "https://example.com/a?fbclid=1#top") == "https://example.com/a"
    assert find_canonical("", "https://example.com/a?utm_source=x") == "https://example.com/a"


def test_find_canonical_on_real_pages() -> None:
    import gzip

    truth = DATA / "ground-truth.json"
    if not truth.is_file():
        pytest.skip(f"real pages not found at {truth}")
    data = json.loads(truth.read_text(encoding="utf-8"))
    sha = next(s for s in data if s.startswith(WEWORK_REUTERS))
    html = gzip.decompress((DATA / "html" / f"{sha}.html.gz").read_bytes()).decode("utf-8", "replace")
    canonical = find_canonical(html, data[sha]["url"] + "?utm_source=feedburner#x")
    assert canonical.startswith("https://venturebeat.com/2019/11/18/new-york-state-attorney-general")
    assert "utm_" not in canonical and "#" not in canonical


def test_banding_finds_what_datasketch_lsh_finds(bodies: dict[str, str]) -> None:
    """The lean band tables give the same verified answers as datasketch's MinHashLSH with the
    same bands, over real articles, sentence-level rewrites of them, removals and shared bands."""
    import random

    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from corroborate.corpus.dedup import _SCHEME, _SEED

    s = Settings()
    rng = random.Random(3)
    texts = []
    for text in list(bodies.values())[:60]:
        texts.append(text)
        words = text.split()
        for _ in range(2):  # rewrites: drop or swap a few words, so some are near and some are not
            w = list(words)
            for _ in range(rng.choice([1, 3, 12, 40])):
                if len(w) > 5:
                    del w[rng.randrange(len(w))]
            texts.append(" ".join(w))
    sigs = [minhash_signature(t, s.minhash_permutations) for t in texts]
    ours = NearDuplicateIndex(s.near_duplicate_threshold, s.minhash_permutations)
    theirs = MinHashLSH(threshold=s.near_duplicate_threshold, num_perm=s.minhash_permutations)

    def mh(sig: bytes) -> MinHash:
        values = np.frombuffer(sig, dtype="<u8").astype(np.uint64)
        return MinHash(num_perm=len(values), seed=_SEED, hashvalues=values, scheme=_SCHEME)

    for key, sig in enumerate(sigs):
        ours.add(key, sig)
        theirs.insert(key, mh(sig))
    for key in range(0, len(sigs), 7):
        ours.remove(key)
        theirs.remove(key)
    near_pairs = 0
    for sig in sigs:
        expected = sorted(k for k in theirs.query(mh(sig))
                          if similarity(sig, sigs[k]) >= s.near_duplicate_threshold)
        found = ours.query(sig)
        assert sorted(found) == expected
        near_pairs += max(0, len(found) - 1)
    assert near_pairs > 20  # the rewrites did produce near-duplicates to find
