"""Discovery: feed, sitemap and GDELT parsers on real-shaped documents, and the loopback site end to end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corroborate.errors import ConfigError, ExtractionError, FetchError, TransientFetchError
from corroborate.ingest.discover import (
    GDELT_LIMITER,
    IntervalLimiter,
    build_gdelt_url,
    discover_gdelt,
    discover_outlet,
    host_belongs,
    parse_feed,
    parse_gdelt,
    parse_sitemap,
)
from corroborate.ingest.outlets import Outlet, OutletRegistry, load_outlets
from corroborate.settings import Settings

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel>
  <title>World News</title>
  <link>https://www.example-news.com/world</link>
  <atom:link href="https://www.example-news.com/world/rss.xml" rel="self" type="application/rss+xml"/>
  <item>
    <title>Russia and Ukraine exchange prisoners &amp; bodies</title>
    <link>https://www.example-news.com/world/2024/03/01/prisoner-exchange?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">abc-123</guid>
    <pubDate>Fri, 01 Mar 2024 14:30:00 +0100</pubDate>
    <dc:creator>Jane Roe</dc:creator>
    <content:encoded><![CDATA[<p>Full text &amp; more</p>]]></content:encoded>
  </item>
  <item>
    <title>EU ministers meet in Brussels</title>
    <link>/world/2024/02/29/eu-ministers</link>
    <pubDate>Thu, 29 Feb 2024 09:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Permalink only</title>
    <guid>https://www.example-news.com/world/2024/02/28/guid-link</guid>
    <dc:date>2024-02-28T23:15:00-05:00</dc:date>
  </item>
  <item>
    <title>Via feedburner</title>
    <link>https://feeds.feedburner.com/~r/example/~3/xyz/</link>
    <feedburner:origLink>https://www.example-news.com/world/2024/02/27/origin</feedburner:origLink>
    <pubDate>not a date</pubDate>
  </item>
  <item>
    <title>Duplicate of the first</title>
    <link>https://www.example-news.com/world/2024/03/01/prisoner-exchange#comments</link>
  </item>
  <item><title>No link at all</title><guid isPermaLink="false">tag:1</guid></item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/news/">
  <title>Example Blog</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-03-01T12:00:00Z</updated>
  <link rel="self" href="https://blog.example.org/feed.atom"/>
  <entry>
    <title type="html">Budget &lt;b&gt;passes&lt;/b&gt; second reading</title>
    <link rel="alternate" type="text/html" href="2024/03/budget-passes"/>
    <link rel="edit" href="https://blog.example.org/edit/1"/>
    <id>tag:blog.example.org,2024:1</id>
    <published>2024-03-01T10:00:00+02:00</published>
    <updated>2024-03-01T11:00:00+02:00</updated>
  </entry>
  <entry>
    <title>Only updated</title>
    <link href="https://blog.example.org/news/2024/02/only-updated"/>
    <id>tag:blog.example.org,2024:2</id>
    <updated>2024-02-20</updated>
  </entry>
</feed>
"""

JSON_FEED = """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Example JSON",
  "home_page_url": "https://json.example.net/",
  "feed_url": "https://json.example.net/feed.json",
  "items": [
    {"id": "1", "url": "https://json.example.net/a/first", "title": "First item",
     "date_published": "2024-03-01T08:00:00-08:00", "content_html": "<p>x</p>"},
    {"id": "https://json.example.net/a/second", "title": "  Second\\n item ", "date_modified": "2024-02-01T00:00:00Z"},
    {"id": "3", "url": "/a/third", "content_text": "no title"},
    {"id": "4", "external_url": "https://elsewhere.example.com/only-external"},
    "not an object"
  ]
}"""

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://www.example-news.com/business/2024/03/01/markets-rally</loc>
    <news:news>
      <news:publication><news:name>Example News</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2024-03-01T07:45:00+05:30</news:publication_date>
      <news:title>Markets rally after rate decision</news:title>
    </news:news>
    <image:image><image:loc>https://img.example-news.com/1.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>https://www.example-news.com/business/2024/02/29/older</loc>
    <lastmod>2024-02-29</lastmod>
  </url>
  <url><loc>https://www.example-news.com/business/2024/02/28/undated</loc></url>
</urlset>
"""

SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.example-news.com/sitemaps/2024-01.xml</loc><lastmod>2024-01-31T23:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://www.example-news.com/sitemaps/2024-03.xml.gz</loc><lastmod>2024-03-01T06:00:00Z</lastmod></sitemap>
  <sitemap><loc>/sitemaps/2024-02.xml</loc><lastmod>2024-02-29T23:00:00Z</lastmod></sitemap>
</sitemapindex>
"""

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "\n".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + '\n]>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
)

XXE = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><item><title>&xxe;</title><link>https://a.example/x</link></item></channel></rss>'
)

# The shape of a real DOC 2.0 artlist answer (fields as GDELT returns them).
GDELT_JSON = """{"articles": [
 {"url": "https://www.reuters.com/world/europe/some-story-2024-03-01/", "url_mobile": "",
  "title": "Some story about Europe", "seendate": "20240301T121500Z",
  "socialimage": "https://www.reuters.com/img.jpg", "domain": "reuters.com", "language": "English",
  "sourcecountry": "United States"},
 {"url": "https://www.unlisted-paper.co.uk/news/2024/mar/01/story", "url_mobile": "",
  "title": "Unlisted \\u2013 story", "seendate": "20240301T110000Z", "socialimage": "",
  "domain": "unlisted-paper.co.uk", "language": "English", "sourcecountry": "United Kingdom"},
 {"url": "https://www.reuters.com/world/europe/some-story-2024-03-01/", "title": "dup", "seendate": "20240301T100000Z"}
]}"""

GDELT_TOO_SHORT = (
    "<!DOCTYPE html>\n<html><head><title>GDELT</title></head><body>"
    "Your search contained a phrase that was too short.  Phrases must be at least 3 characters long."
    "</body></html>"
)


def urls(candidates: list[Any]) -> list[str]:
    return [c.url for c in candidates]


def test_rss2() -> None:
    found = parse_feed(RSS, "https://www.example-news.com/world/rss.xml", "Example News")
    assert urls(found) == [
        "https://www.example-news.com/world/2024/03/01/prisoner-exchange",
        "https://www.example-news.com/world/2024/02/29/eu-ministers",
        "https://www.example-news.com/world/2024/02/28/guid-link",
        "https://www.example-news.com/world/2024/02/27/origin",
    ]
    first, second, third, fourth = found
    assert first.title == "Russia and Ukraine exchange prisoners & bodies"
    assert first.published == datetime(2024, 3, 1, 13, 30, tzinfo=UTC)
    assert first.published.tzinfo is UTC
    assert second.published == datetime(2024, 2, 29, 9, 0, tzinfo=UTC)
    assert third.published == datetime(2024, 2, 29, 4, 15, tzinfo=UTC)
    assert fourth.published is None
    assert all(c.source == "feed" and c.outlet == "Example News" for c in found)


def test_atom() -> None:
    found = parse_feed(ATOM, "https://blog.example.org/feed.atom", "Blog")
    assert urls(found) == [
        "https://blog.example.org/news/2024/03/budget-passes",
        "https://blog.example.org/news/2024/02/only-updated",
    ]
    assert found[0].published == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert found[0].title == "Budget passes second reading"
    assert found[1].published == datetime(2024, 2, 20, tzinfo=UTC)
    assert found[1].title == "Only updated"


def test_json_feed() -> None:
    found = parse_feed(JSON_FEED, "https://json.example.net/feed.json", "JSON")
    assert urls(found) == [
        "https://json.example.net/a/first",
        "https://json.example.net/a/second",
        "https://json.example.net/a/third",
    ]
    assert found[0].published == datetime(2024, 3, 1, 16, 0, tzinfo=UTC)
    assert found[1].title == "Second item"
    assert found[2].title is None and found[2].published is None


def test_news_sitemap_and_index() -> None:
    found, children = parse_sitemap(NEWS_SITEMAP, "https://www.example-news.com/sitemap-news.xml", "Example News")
    assert children == []
    assert urls(found) == [
        "https://www.example-news.com/business/2024/03/01/markets-rally",
        "https://www.example-news.com/business/2024/02/29/older",
        "https://www.example-news.com/business/2024/02/28/undated",
    ]
    assert found[0].title == "Markets rally after rate decision"
    assert found[0].published == datetime(2024, 3, 1, 2, 15, tzinfo=UTC)
    assert found[1].published == datetime(2024, 2, 29, tzinfo=UTC)
    assert found[2].published is None
    assert all(c.source == "sitemap" for c in found)

    found, children = parse_sitemap(SITEMAP_INDEX, "https://www.example-news.com/sitemap_index.xml", "Example News")
    assert found == []
    assert children == [  # newest first
        "https://www.example-news.com/sitemaps/2024-03.xml.gz",
        "https://www.example-news.com/sitemaps/2024-02.xml",
        "https://www.example-news.com/sitemaps/2024-01.xml",
    ]


def test_text_sitemap() -> None:
    found, children = parse_sitemap("https://a.example/x\nhttps://a.example/y\n", "https://a.example/s.txt", "A")
    assert urls(found) == ["https://a.example/x", "https://a.example/y"] and children == []
    with pytest.raises(ExtractionError):
        parse_sitemap("hello world", "https://a.example/s.txt", "A")


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken &amp feed</title><item>',
        "<html><body>Not a feed</body></html>",
        '{"version": "https://jsonfeed.org/version/1.1", "items": 3}',
        "{not json",
        "   ",
        "<rss>\x00\x01</rss>",
    ],
)
def test_malformed_feeds_raise_extraction_error(text: str) -> None:
    with pytest.raises(ExtractionError, match="feed"):
        parse_feed(text, "https://a.example/feed", "A")


def test_entity_bomb_and_external_entities_are_refused_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(ExtractionError, match="refused"):
        parse_feed(BILLION_LAUGHS, "https://a.example/feed", "A")
    with pytest.raises(ExtractionError, match="refused"):
        parse_sitemap(BILLION_LAUGHS.replace("rss", "urlset"), "https://a.example/sitemap.xml", "A")
    with pytest.raises(ExtractionError, match="refused"):
        parse_feed(XXE, "https://a.example/feed", "A")
    assert time.perf_counter() - start < 1.0


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parse_feed_raises_only_extraction_error(text: str) -> None:
    try:
        result = parse_feed(text, "https://a.example/feed.xml", "A")
    except ExtractionError:
        return
    assert isinstance(result, list)


@given(
    st.one_of(
        st.builds(lambda body: f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>', st.text()),
        st.builds(lambda body: '{"items": [' + body + "]}", st.text()),
        st.builds(lambda body: f'<feed xmlns="http://www.w3.org/2005/Atom"><entry>{body}</entry></feed>', st.text()),
    )
)
@settings(max_examples=300, deadline=None)
def test_parse_feed_fuzz_near_valid_documents(text: str) -> None:
    with contextlib.suppress(ExtractionError):
        parse_feed(text, "https://a.example/feed.xml", "A")


def test_gdelt_url() -> None:
    s = Settings().model_copy(update={"gdelt_max_records": 500})  # past its range: Settings(...) would refuse it
    url = build_gdelt_url('"troops to Ukraine" sourcelang:english', s, since=datetime(2024, 3, 1, 12, 0, tzinfo=UTC))
    assert url.startswith(s.gdelt_url + "?")
    assert "query=%22troops%20to%20Ukraine%22%20sourcelang%3Aenglish" in url
    assert "mode=artlist" in url and "format=json" in url and "sort=datedesc" in url
    assert "maxrecords=250" in url  # GDELT's own ceiling
    assert "startdatetime=20240301120000" in url
    assert "startdatetime" not in build_gdelt_url("ukraine", s)
    with pytest.raises(ConfigError):
        build_gdelt_url("  ", s)


def _registry() -> OutletRegistry:
    reuters = Outlet(
        name="Reuters", domains=("reuters.com",), country="INT", language="en", owner="Thomson Reuters",
        group="Thomson Reuters", state_media=False, kind="wire", feeds=(), sitemaps=(),
    )  # fmt: skip
    return OutletRegistry([reuters])


def test_parse_gdelt() -> None:
    found = parse_gdelt(GDELT_JSON, _registry())
    assert [(c.outlet, c.source) for c in found] == [("Reuters", "gdelt"), ("unlisted-paper.co.uk", "gdelt")]
    assert found[0].published == datetime(2024, 3, 1, 12, 15, tzinfo=UTC)
    assert found[1].title == "Unlisted \u2013 story"
    assert parse_gdelt("{}", _registry()) == []
    assert parse_gdelt("", _registry()) == []


def test_gdelt_error_pages_with_status_200() -> None:
    with pytest.raises(ConfigError, match="phrase that was too short"):
        parse_gdelt(GDELT_TOO_SHORT, _registry())
    with pytest.raises(TransientFetchError):
        parse_gdelt("Please limit requests to one every 5 seconds or contact us.", _registry())
    with pytest.raises(FetchError, match="non-JSON"):
        parse_gdelt("<html><body>Service temporarily unavailable</body></html>", _registry())


def test_interval_limiter_spaces_requests() -> None:
    limiter = IntervalLimiter()

    async def three() -> list[float]:
        stamps = []
        for _ in range(3):
            await limiter.wait(0.15)
            stamps.append(time.monotonic())
        return stamps

    stamps = asyncio.run(three())
    assert stamps[1] - stamps[0] >= 0.14 and stamps[2] - stamps[1] >= 0.14
    assert GDELT_LIMITER is not limiter  # the module-level one is shared by every caller


def test_host_belongs() -> None:
    assert host_belongs("https://www.reuters.com/x", ["reuters.com"])
    assert host_belongs("https://reuters.com:8443/x", ["reuters.com"])
    assert not host_belongs("https://notreuters.com/x", ["reuters.com"])
    assert host_belongs("http://127.0.0.1:4000/x", ["127.0.0.1"])
    assert not host_belongs("http://127.0.0.11/x", ["127.0.0.1"])


# -- end to end against the loopback news site ------------------------------------------------


@pytest.fixture
def site_outlet(news_site: Any, tmp_path: Path) -> Outlet:
    path = tmp_path / "outlets.toml"
    path.write_text(news_site.outlets_toml(), encoding="utf-8")
    return load_outlets(path)[0]


def _discover(outlet: Outlet, settings: Settings, since: datetime | None = None) -> Any:
    from corroborate.ingest.fetch import Fetcher

    async def run() -> Any:
        async with Fetcher(settings) as fetcher:
            return await discover_outlet(outlet, fetcher, settings, since)

    return asyncio.run(run())


def test_discover_outlet_finds_every_page(news_site: Any, site_outlet: Outlet, loopback_settings: Settings) -> None:
    found = _discover(site_outlet, loopback_settings)
    assert found.errors == []
    assert sorted(urls(found.candidates)) == sorted(news_site.pages.values())
    assert all(c.outlet == site_outlet.name and c.published is not None for c in found.candidates)


def test_discover_outlet_from_sitemaps_alone(news_site: Any, site_outlet: Outlet, loopback_settings: Settings) -> None:
    from dataclasses import replace

    only_sitemaps = replace(site_outlet, feeds=())
    found = _discover(only_sitemaps, loopback_settings)
    assert found.errors == []
    assert sorted(urls(found.candidates)) == sorted(news_site.pages.values())  # incl. the gzipped child sitemap
    assert {c.source for c in found.candidates} == {"sitemap"}


def test_discover_outlet_records_bad_sources_and_filters(
    news_site: Any, site_outlet: Outlet, loopback_settings: Settings
) -> None:
    from dataclasses import replace

    broken = replace(
        site_outlet,
        feeds=(news_site.url("/bad/malformed.xml"), news_site.url("/bad/xml-bomb"), news_site.url("/missing.xml")),
        sitemaps=(news_site.sitemap_index_url,),
    )
    found = _discover(broken, loopback_settings.replace(max_items_per_source=20))
    failed = dict(found.errors)
    assert set(failed) == {news_site.url(p) for p in ("/bad/malformed.xml", "/bad/xml-bomb", "/missing.xml")}
    assert "refused" in failed[news_site.url("/bad/xml-bomb")]
    assert len(found.candidates) == 40  # two child sitemaps, capped at 20 each

    future = _discover(site_outlet, loopback_settings, since=datetime.now(UTC) + timedelta(days=1))
    assert future.candidates == [] and future.errors == []

    elsewhere = replace(site_outlet, domains=("example.com",))
    assert _discover(elsewhere, loopback_settings).candidates == []


def test_discover_gdelt_against_a_real_server(news_site: Any, loopback_settings: Settings) -> None:
    """The loopback site has no GDELT: whatever it answers must end as a FetchError, never garbage."""
    from corroborate.ingest.fetch import Fetcher

    s = loopback_settings.replace(gdelt_url=news_site.url("/api/v2/doc/doc"), gdelt_interval_s=0.0)

    async def run() -> Any:
        async with Fetcher(s) as fetcher:
            return await discover_gdelt("ukraine troops", fetcher, s, _registry())

    with pytest.raises((FetchError, ConfigError)):
        asyncio.run(run())
