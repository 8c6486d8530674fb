"""The bundled demo news site, served for real on loopback addresses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from defusedxml import ElementTree

from corroborate.ingest.demosite import DemoSite, demo_article_text, demo_expected, load_demo, write_demo_outlets
from corroborate.ingest.outlets import OutletRegistry, load_outlets, parse_outlets

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def feed_links(client: httpx.Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    if root.tag == "rss":
        assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
        return [item.findtext("link") or "" for item in root.iter("item")]
    assert root.tag == f"{ATOM}feed"
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    return [link.get("href") or "" for link in root.iter(f"{ATOM}link") if link.get("rel") == "alternate"][1:]


def test_starts_on_one_free_port_on_every_address(site: DemoSite) -> None:
    assert site.port > 0
    outlets, _ = load_demo()
    assert 6 <= len(site.urls) == len(outlets) <= 8
    assert all(url.endswith(f":{site.port}/") for url in site.urls.values())
    assert len({url.split("//")[1].split(":")[0] for url in site.urls.values()}) == len(outlets)


def test_each_feed_lists_its_outlets_articles(site: DemoSite, client: httpx.Client) -> None:
    outlets, articles = load_demo()
    kinds = set()
    for outlet in outlets:
        kinds.add(outlet.feed)
        links = feed_links(client, site.feeds[outlet.name])
        base = outlet.base_url(site.port)
        expected = {base + a.path for a in articles if a.outlet == outlet.id}
        assert set(links) == expected, outlet.name
    assert kinds == {"rss", "atom"}


def test_article_pages_are_html_with_metadata(site: DemoSite, client: httpx.Client) -> None:
    url = site.article_url("council-rejects-halvik-tram-line")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert f'<link rel="canonical" href="{url}">' in html
    assert '<meta property="og:site_name" content="The Veloria Observer">' in html
    published = re.search(r'<meta property="article:published_time" content="([^"]+)">', html)
    assert published is not None
    assert datetime.fromisoformat(published.group(1)).utcoffset() is not None
    assert "<article>" in html and "rejected the proposed tram line" in html
    assert "FICTIONAL" in html


def test_conditional_get_and_head(site: DemoSite, client: httpx.Client) -> None:
    url = site.feeds["Meridian Wire"]
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"}).status_code == 200
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert client.get(site.urls["Meridian Wire"] + "no-such-page.html").status_code == 404


def test_robots_and_sitemaps(site: DemoSite, client: httpx.Client) -> None:
    outlets, articles = load_demo()
    for outlet in outlets:
        base = outlet.base_url(site.port)
        robots = client.get(base + "/robots.txt")
        assert robots.status_code == 200 and robots.headers["content-type"] == "text/plain; charset=utf-8"
        assert "Disallow: /private/" in robots.text
        sitemap_url = re.search(r"^Sitemap: (\S+)$", robots.text, re.M)
        assert sitemap_url is not None
        root = ElementTree.fromstring(client.get(sitemap_url.group(1)).content)
        if root.tag == f"{SM}sitemapindex":
            children = [loc.text or "" for loc in root.iter(f"{SM}loc")]
            assert len(children) >= 2
            urls = [
                loc.text
                for child in children
                for loc in ElementTree.fromstring(client.get(child).content).iter(f"{SM}loc")
            ]
        else:
            assert root.tag == f"{SM}urlset"
            assert root.find(f"{SM}url/{NEWS}news/{NEWS}publication_date") is not None
            urls = [loc.text for loc in root.iter(f"{SM}loc")]
        assert sorted(u or "" for u in urls) == sorted(base + a.path for a in articles if a.outlet == outlet.id)
    assert any(o.sitemap == "index" for o in outlets)


def test_outlets_toml_matches_the_running_site(site: DemoSite, tmp_path: Path) -> None:
    registry = OutletRegistry(parse_outlets(site.outlets_toml, "demo"))
    assert all(o.fictional for o in registry)
    assert registry.for_url(site.article_url("government-to-build-kessel-dravo-freight-railway")).state_media  # type: ignore[union-attr]
    post, gazette = registry.get("Amsel Evening Post"), registry.get("The Northern Gazette")
    assert post is not None and gazette is not None and post.group == gazette.group
    assert len({o.group for o in registry}) == len(registry) - 1
    written = load_outlets(write_demo_outlets(tmp_path / "demo.toml", site.port))
    assert [o.feeds for o in written] == [o.feeds for o in registry]


def test_demo_data_has_the_stories_claim_checking_needs() -> None:
    outlets, articles = load_demo()
    by_id = {o.id: o for o in outlets}
    assert 25 <= len(articles) <= 35
    for a in articles:
        words = len(a.text.split())
        assert 150 <= words <= 400, (a.slug, words)
        assert a.published.year == 2026 and a.published.utcoffset() is not None
    syndicated = [a for a in articles if a.syndicated_from]
    assert len(syndicated) == 1
    origin_outlet, origin_slug = syndicated[0].syndicated_from.split("/")  # type: ignore[union-attr]
    origin = next(a for a in articles if a.slug == origin_slug)
    assert by_id[origin_outlet].kind == "wire" and by_id[syndicated[0].outlet].owner != by_id[origin_outlet].owner
    shared = set(origin.text.split()) & set(syndicated[0].text.split())
    assert len(shared) / len(set(origin.text.split())) > 0.9
    state = [o for o in outlets if o.state_media]
    assert len(state) == 1
    owners = [o.owner for o in outlets]
    assert len(owners) - len(set(owners)) == 1  # exactly one pair of sister papers


def test_expected_sentences_occur_in_the_article() -> None:
    article = demo_article_text()
    expected = demo_expected()
    claims = expected["claims"]
    assert {c["status"] for c in claims if c["is_claim"]} == {"corroborated", "contradicted", "unmatched"}
    assert any("state_media_only" in c["flags"] for c in claims)
    assert any(c["attribution"] == "anonymous" for c in claims)
    assert any(not c["is_claim"] and c["text"].endswith("?") for c in claims)
    for claim in claims:
        assert article.count(claim["text"]) == 1, claim["key"]
    body = " ".join(article.split("\n", 1)[1].split())
    sentences = re.split(r"(?<=[.?!])\s+", body)
    assert sorted(sentences) == sorted(c["text"] for c in claims)  # every sentence has an expectation
    json.dumps(expected)  # stays plain JSON
