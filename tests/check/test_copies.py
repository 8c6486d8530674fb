"""Copies, excerpts and rewrite networks (docs/design.md, "An independent voice is an origin, not a URL").

Through the real store, index, embedder and retriever: the article's own copies (an excerpt as an
archive keeps it, a reprint with another intro) are left out and listed; five sites of a rewrite
network (tests/data/rewrite_network.json, fictional) are one origin and one voice; outlets outside
the registry are unvetted, and a verdict resting only on them is flagged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from corroborate.check.checker import Article, ArticleReport
from corroborate.check.retrieve import Evidence, ExcludedCopy, Exclusions, Retriever
from corroborate.check.verdict import EvidenceItem, Verdict, decide
from corroborate.corpus.dedup import Shingled, canonicalize_url, content_hash, minhash_signature, similarity
from corroborate.corpus.embed import Embedder, load_embedder
from corroborate.corpus.index import sync_index
from corroborate.corpus.passages import split_passages
from corroborate.corpus.records import NewDocument
from corroborate.corpus.store import Store
from corroborate.report import report_schema
from corroborate.settings import Settings, load_settings
from corroborate.training.calibrate_origins import calibrate_origins

HERE = Path(__file__).resolve().parents[1]  # tests/
NETWORK = json.loads((HERE / "data" / "rewrite_network.json").read_text(encoding="utf-8"))
NEWS = HERE.parents[1] / "shared" / "data" / "news-html" / "ground-truth.json"
WEWORK_REUTERS = "06e5123e4ef7"  # VentureBeat running a Reuters wire story: the article checked
WEWORK_TECHCRUNCH = "1ace8c85aaee"  # TechCrunch's own report of the same investigation
WEWORK_LAYOFFS = "bc13ff87b263"  # The Real Deal on WeWork's layoffs
TECH_ROUNDUP = "fde930b01859"  # Business Insider's daily tech roundup


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"home": tmp_path}, environ={})


def _store_docs(store: Store, docs: list[dict[str, Any]]) -> None:
    for d in docs:
        if d.get("registered"):
            # as an outlets file registers it (register_outlets): with a country, its own group
            store.upsert_outlet(d["outlet"], group=d["outlet"], country="ZZ", kind="newspaper")
        doc = NewDocument(
            url=d["url"],
            canonical_url=canonicalize_url(d["url"]),
            outlet=d["outlet"],
            text=d["text"],
            content_hash=content_hash(d["text"]),
            title=d.get("title"),
            published=datetime.fromisoformat(d["published"]) if d.get("published") else None,
            minhash=minhash_signature(d["text"]),
        )
        store.add_document(doc, split_passages(d["text"]))


@pytest.fixture
def retriever_for(settings: Settings, embedder: Embedder) -> Iterator[Any]:
    stores: list[Store] = []

    def build(docs: list[dict[str, Any]], name: str = "corpus") -> Retriever:
        s = settings.replace(home=settings.home / name)
        store = Store(s.store_path)
        stores.append(store)
        _store_docs(store, docs)
        index, _ = sync_index(store, embedder, s)
        return Retriever(store, index, embedder, s)

    yield build
    for store in stores:
        store.close()


def _keys(evidence: list[Evidence], docs: list[dict[str, Any]]) -> dict[str, str | None]:
    """Fixture key -> the origin retrieval gave the document (only documents it found)."""
    by_url = {d["url"]: d["key"] for d in docs}
    return {by_url[ev.document.url]: ev.origin for ev in evidence}


# -- the article's own copies ------------------------------------------------------------------


@pytest.fixture(scope="module")
def wework() -> dict[str, str]:
    if not NEWS.is_file():
        pytest.skip(f"real article texts not found at {NEWS}")
    data = json.loads(NEWS.read_text(encoding="utf-8"))
    return {sha[:12]: entry["articleBody"] for sha, entry in data.items()}


def test_the_articles_copies_are_left_out_and_listed(
    wework: dict[str, str], retriever_for: Any, embedder: Embedder
) -> None:
    article = wework[WEWORK_REUTERS]
    paragraphs = [p for p in article.split("\n") if p.strip()]
    excerpt = "\n".join(paragraphs[:4])  # what a news archive keeps of it
    reprint = (
        "Our partners at Reuters report on the troubles of the office-sharing company.\n"
        + "\n".join(paragraphs[:-2])
        + "\nRead more business news in our daily newsletter."
    )
    docs = [
        {"key": "wire", "outlet": "Reuters", "registered": True, "url": "https://reuters.example/wework-nyag",
         "text": article},
        {"key": "excerpt", "outlet": "Archive Digest", "url": "https://archive-digest.example/2019/11/18/wework",
         "text": excerpt},
        {"key": "reprint", "outlet": "Partner Daily", "url": "https://partner-daily.example/wework", "text": reprint},
        {"key": "techcrunch", "outlet": "TechCrunch", "registered": True, "url": "https://techcrunch.example/wework",
         "text": wework[WEWORK_TECHCRUNCH]},
        {"key": "realdeal", "outlet": "The Real Deal", "registered": True, "url": "https://therealdeal.example/wework",
         "text": wework[WEWORK_LAYOFFS]},
        {"key": "roundup", "outlet": "Business Insider", "registered": True, "url": "https://bi.example/roundup",
         "text": wework[TECH_ROUNDUP]},
    ]
    # whole-text similarity misses the excerpt: Jaccard is far below the near-duplicate threshold
    s = Settings()
    sig = minhash_signature(article, s.minhash_permutations)
    assert similarity(sig, minhash_signature(excerpt, s.minhash_permutations)) < s.near_duplicate_threshold / 2

    retriever = retriever_for(docs)
    claim = "The New York State Attorney General is investigating WeWork."
    ex = Exclusions(outlets=frozenset({"VentureBeat"}), minhash=sig, text=article)
    found = _keys(retriever.retrieve(claim, ex), docs)
    assert "techcrunch" in found
    assert not {"wire", "excerpt", "reprint"} & set(found)
    copies = {c.url: c for c in ex.copies.values()}
    assert set(copies) == {d["url"] for d in docs if d["key"] in {"wire", "excerpt", "reprint"}}
    assert copies["https://reuters.example/wework-nyag"].containment == 1.0
    assert copies["https://archive-digest.example/2019/11/18/wework"].containment == 1.0
    # the reprint's own intro and outro are not in the article: most of it, not all, is
    assert 0.9 < copies["https://partner-daily.example/wework"].containment < 1.0
    assert copies["https://archive-digest.example/2019/11/18/wework"].outlet == "Archive Digest"

    # the same corpus for a claim checked on its own (no article): the copies are evidence again,
    # but the wire story and its copies are one origin, TechCrunch's own report another
    found = _keys(retriever.retrieve(claim), docs)
    assert {"wire", "excerpt", "reprint", "techcrunch"} <= set(found)
    assert found["wire"] is not None and found["wire"] == found["excerpt"] == found["reprint"]
    assert found["techcrunch"] != found["wire"]


def test_excluded_copies_are_in_the_report_and_its_schema() -> None:
    report = ArticleReport(
        Article("text", "title", source="a.txt"),
        [],
        {},
        [ExcludedCopy("https://archive-digest.example/x", "Archive Digest", 1.0)],
    )
    data = report.to_dict()
    assert data["article"]["excluded_copies"] == [
        {"url": "https://archive-digest.example/x", "outlet": "Archive Digest", "containment": 1.0}
    ]
    jsonschema.validate(data, report_schema())


# -- rewrite networks --------------------------------------------------------------------------

LITHIUM = NETWORK["claims"]["lithium"]
NETWORK_KEYS = {"N1", "N2", "N3", "N4", "N5"}


def _verdict(evidence: list[Evidence], stances: dict[str, str], docs: list[dict[str, Any]], s: Settings) -> Verdict:
    """The verdict with each found document's stance set by hand (the stance model is not under test)."""
    by_url = {d["url"]: d["key"] for d in docs}
    items = []
    for ev in evidence:
        key = by_url[ev.document.url]
        stance = stances.get(key, "discuss")
        items.append(
            EvidenceItem(
                outlet=ev.document.outlet, group=ev.document.owner_group, url=ev.document.url, quote=ev.excerpt,
                start=0, end=len(ev.excerpt), stance=stance, score=0.9, probabilities={stance: 0.9},
                similarity=ev.similarity, published=ev.document.published, cluster_id=ev.document.cluster_id,
                origin_key=ev.origin, unvetted=not ev.document.listed,
            )
        )
    return decide(items, s)


def test_a_rewrite_network_is_one_origin_and_one_voice(retriever_for: Any, settings: Settings) -> None:
    docs = NETWORK["documents"]
    retriever = retriever_for(docs)
    evidence = retriever.retrieve(LITHIUM)
    found = _keys(evidence, docs)
    assert set(found) == {d["key"] for d in docs}
    network_origins = {found[k] for k in NETWORK_KEYS}
    assert len(network_origins) == 1 and None not in network_origins
    assert found["I1"] is None and found["I2"] is None and found["U1"] is None
    assert {ev.document.listed for ev in evidence if ev.document.outlet in {"The Tressan Herald",
                                                                           "Coastal Broadcasting"}} == {True}
    assert not any(ev.document.listed for ev in evidence if ev.document.url.startswith("https://kestreltruth"))

    # five sites agreeing are one unvetted voice: not corroborated (it was, with five voices)
    v = _verdict(evidence, {k: "agree" for k in NETWORK_KEYS}, docs, settings)
    assert v.status == "unmatched" and len(v.voices_for) == 1
    assert sorted(v.voices_for[0].outlets) == sorted(d["outlet"] for d in docs if d["key"] in NETWORK_KEYS)
    assert {"single_source", "unvetted_sources_only"} <= set(v.flags)

    # an unvetted site writing its own account is a second voice; still resting only on unvetted ones
    v = _verdict(evidence, {**{k: "agree" for k in NETWORK_KEYS}, "U1": "agree"}, docs, settings)
    assert v.status == "corroborated" and len(v.voices_for) == 2
    assert "unvetted_sources_only" in v.flags and "single_source" not in v.flags

    # with a registered outlet among them the status no longer rests only on unvetted voices
    v = _verdict(evidence, {**{k: "agree" for k in NETWORK_KEYS}, "I2": "agree"}, docs, settings)
    assert v.status == "corroborated" and len(v.voices_for) == 2 and "unvetted_sources_only" not in v.flags

    # one registered outlet denying it against the network: one voice each, a tie
    v = _verdict(evidence, {**{k: "agree" for k in NETWORK_KEYS}, "I1": "disagree"}, docs, settings)
    assert v.status == "unmatched" and "disputed" in v.flags
    v = _verdict(evidence, {"I1": "disagree", "I2": "disagree"}, docs, settings)
    assert v.status == "contradicted" and "unvetted_sources_only" not in v.flags


def test_rewrites_are_one_origin_only_within_the_window(retriever_for: Any) -> None:
    # N3 and N4 are linked by their shared long passages only (too reworded to count as copies)
    docs = {d["key"]: d for d in NETWORK["documents"]}
    n3, n4 = Shingled.of(docs["N3"]["text"]), Shingled.of(docs["N4"]["text"])
    s = Settings()
    assert n3.copy_containment(n4) < s.copy_containment <= 0.5
    assert n3.rewrite_containment(n4) >= s.rewrite_containment

    same_day = [docs["N3"], docs["N4"], docs["I1"]]
    found = _keys(retriever_for(same_day, "same-day").retrieve(LITHIUM), same_day)
    assert found["N3"] is not None and found["N3"] == found["N4"] and found["I1"] is None

    later = dict(docs["N4"], url=docs["N4"]["url"] + "-later",
                 published=(datetime.fromisoformat(docs["N4"]["published"]) + timedelta(days=10)).isoformat())
    apart = [docs["N3"], later, docs["I1"]]
    found = _keys(retriever_for(apart, "apart").retrieve(LITHIUM), apart)
    assert found == {"N3": None, "N4": None, "I1": None}


def test_the_calibration_gives_the_default_thresholds() -> None:
    data = NEWS.parents[1]
    if not (data / "fnc1" / "train_bodies.csv").is_file() or not NEWS.is_file():
        pytest.skip(f"FNC-1 or news-html not found under {data}")
    result = calibrate_origins(data, HERE / "data" / "rewrite_network.json")
    s = Settings()
    assert (result.copy.threshold, result.rewrite.threshold) == (s.copy_containment, s.rewrite_containment)
    # every same-origin pair is caught; most independent reports of one story are kept apart
    assert result.copy.grid[0.5] == (1.0, pytest.approx(0.021, abs=0.001))
    assert result.rewrite.grid[0.15][0] == 1.0 and result.rewrite.grid[0.15][1] < 0.05
