"""Conditional GET for feeds and sitemaps: the validators each source answered with, kept per outlet in the
store, make an unchanged source answer 304 and list nothing, on the loopback news site."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import make_loopback_settings
from newssite import NewsSite

from corroborate.corpus.store import Store
from corroborate.ingest.discover import OutletDiscovery, discover_outlet
from corroborate.ingest.fetch import Fetcher
from corroborate.ingest.health import health_of
from corroborate.ingest.outlets import load_outlets
from corroborate.settings import Settings

Validators = dict[str, tuple[str | None, str | None]]


def _discover(settings: Settings, toml: Path, validators: Validators | None) -> OutletDiscovery:
    (outlet,) = load_outlets(toml)

    async def go() -> OutletDiscovery:
        async with Fetcher(settings) as fetcher:
            return await discover_outlet(outlet, fetcher, settings, validators=validators)

    return asyncio.run(go())


def test_unchanged_feeds_and_sitemaps_answer_304_and_list_nothing(news_site: NewsSite, tmp_path: Path) -> None:
    settings = make_loopback_settings(tmp_path)
    toml = tmp_path / "outlets.toml"
    toml.write_text(news_site.outlets_toml(), encoding="utf-8")
    news_site.reset_log()
    first = _discover(settings, toml, None)
    assert len(first.candidates) == 181 and first.not_modified == []
    # every feed, the sitemap index and its two children answered with validators; none was sent
    assert len(first.validators) == first.fetched == 6
    assert not [r for r in news_site.requests if r.headers.get("If-None-Match")]
    full = sum(r.bytes for r in news_site.requests)

    news_site.reset_log()
    second = _discover(settings, toml, first.validators)
    assert second.candidates == [] and second.fetched == 0
    # the index answered 304, so its children were not asked for: 3 feeds + 1 index
    assert sorted(second.not_modified) == sorted([*news_site.feed_urls, news_site.sitemap_index_url])
    sources = [r for r in news_site.requests if r.path != "/robots.txt"]
    assert len(sources) == 4 and all(r.status == 304 and r.headers.get("If-None-Match") for r in sources)
    assert sum(r.bytes for r in sources) == 0 < full
    assert second.validators == {url: first.validators[url] for url in second.not_modified}
    # the ingest's source-health table says so, instead of "empty"
    health = health_of(load_outlets(toml), [second])
    assert {h.state for h in health} == {"unchanged"} and {h.status for h in health} == {304}


def test_a_changed_source_is_read_again(news_site: NewsSite, tmp_path: Path) -> None:
    """Validators that no longer match (the feed changed) get the whole feed, as without them."""
    settings = make_loopback_settings(tmp_path)
    toml = tmp_path / "outlets.toml"
    toml.write_text(news_site.outlets_toml(), encoding="utf-8")
    stale = {url: ('"not-the-current-etag"', None) for url in news_site.feed_urls}
    found = _discover(settings, toml, stale)
    assert len(found.candidates) == 181 and found.not_modified == []


def test_source_validators_are_kept_per_outlet(tmp_path: Path) -> None:
    with Store(tmp_path / "corroborate.db") as store:
        assert store.source_validators("A") == {}
        store.keep_source_validators("A", {"https://a.example/feed": ('"1"', None), "https://a.example/": (None, None)})
        store.keep_source_validators("B", {"https://b.example/sitemap.xml": (None, "Fri, 01 Mar 2024 06:00:00 GMT")})
        store.keep_source_validators("A", {"https://a.example/feed": ('"2"', "Fri, 01 Mar 2024 06:00:00 GMT")})
        assert store.source_validators("A") == {"https://a.example/feed": ('"2"', "Fri, 01 Mar 2024 06:00:00 GMT")}
        assert store.source_validators("B") == {
            "https://b.example/sitemap.xml": (None, "Fri, 01 Mar 2024 06:00:00 GMT")
        }
