"""The fetcher against a real HTTP server on loopback: politeness, retries, and every refusal."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from conftest import make_loopback_settings
from newssite import NewsSite, RequestRecord

from corroborate.corpus.records import FetchResult
from corroborate.errors import AddressRefusedError, FetchError, PermanentFetchError, TransientFetchError
from corroborate.ingest import netguard
from corroborate.ingest.fetch import Fetcher, check_url_allowed, fetch_url_sync
from corroborate.settings import Settings

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch_one(settings: Settings, url: str, **kwargs: Any) -> tuple[FetchResult, Fetcher]:
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(url, **kwargs), fetcher


async def fetch_error(settings: Settings, url: str, **kwargs: Any) -> tuple[FetchError, Fetcher]:
    async with Fetcher(settings) as fetcher:
        try:
            await fetcher.fetch(url, **kwargs)
        except FetchError as exc:
            return exc, fetcher
    raise AssertionError(f"fetching {url} did not fail")


def hits(site: NewsSite, prefix: str) -> list[RequestRecord]:
    return [r for r in site.requests if r.path.startswith(prefix)]


def first_page(site: NewsSite) -> tuple[str, str]:
    sha = sorted(site.pages)[0]
    return sha, site.pages[sha]


def test_page_is_fetched_and_decoded(news_site: NewsSite, loopback_settings: Settings) -> None:
    news_site.reset_log()
    sha, url = first_page(news_site)
    result, fetcher = run(fetch_one(loopback_settings, url))
    assert result.status == 200 and result.final_url == url and result.redirects == 0
    assert result.content_type == "text/html"
    assert result.etag and result.last_modified
    assert result.text is not None
    assert news_site.page_title(sha)[:30] in result.text
    assert "\ufffd" not in result.text
    # the page is UTF-8 with curly quotes and dashes; they must survive decoding
    assert any(ch in result.text for ch in "’“”—")
    seen = hits(news_site, "/news/")
    assert len(seen) == 1 and "corroborate" in seen[0].headers["User-Agent"]
    # the site sends pages gzip-encoded; fewer bytes crossed the wire than the text holds
    assert fetcher.stats["bytes"] < len(result.text.encode()) // 2
    assert [r.path for r in hits(news_site, "/robots.txt")] == ["/robots.txt"]
    assert fetcher.requests_by_host == {"127.0.0.1": 2}
    assert fetcher.stats["requests"] == 2 and fetcher.stats["retries"] == 0


def test_conditional_get_returns_304_without_body(news_site: NewsSite, loopback_settings: Settings) -> None:
    _, url = first_page(news_site)

    async def go() -> tuple[FetchResult, FetchResult, FetchResult, Fetcher]:
        async with Fetcher(loopback_settings) as fetcher:
            first = await fetcher.fetch(url)
            by_etag = await fetcher.fetch(url, etag=first.etag)
            by_date = await fetcher.fetch(url, last_modified=first.last_modified)
            return first, by_etag, by_date, fetcher

    news_site.reset_log()
    first, by_etag, by_date, fetcher = run(go())
    assert first.status == 200
    for again in (by_etag, by_date):
        assert again.status == 304 and again.not_modified and again.text is None
        assert again.etag == first.etag and again.last_modified == first.last_modified
    assert fetcher.stats["not_modified"] == 2
    page_hits = hits(news_site, "/news/")
    assert [r.status for r in page_hits] == [200, 304, 304]
    assert page_hits[1].headers.get("If-None-Match") == first.etag
    assert page_hits[2].headers.get("If-Modified-Since") == first.last_modified


def test_undeclared_latin1_is_decoded(news_site: NewsSite, loopback_settings: Settings) -> None:
    result, _ = run(fetch_one(loopback_settings, news_site.url("/bad/nocharset")))
    assert result.text is not None
    assert "Café society" in result.text and "Señora Muñoz" in result.text
    assert "\ufffd" not in result.text


def test_gzipped_sitemap_is_inflated(news_site: NewsSite, loopback_settings: Settings) -> None:
    result, _ = run(fetch_one(loopback_settings, news_site.url("/sitemaps/news2.xml.gz"), kind="sitemap"))
    assert result.text is not None and result.text.startswith("<?xml") and "<urlset" in result.text
    assert result.text.count("<loc>") == len(news_site.pages) - len(news_site.pages) // 2


def test_json_feed_is_a_feed_but_not_a_page(news_site: NewsSite, loopback_settings: Settings) -> None:
    url = news_site.url("/feeds/feed.json")
    result, _ = run(fetch_one(loopback_settings, url, kind="feed"))
    assert result.text is not None and '"items"' in result.text
    exc, _ = run(fetch_error(loopback_settings, url, kind="page"))
    assert isinstance(exc, PermanentFetchError) and "content type application/feed+json" in str(exc)


def test_flaky_server_is_retried(news_site: NewsSite, loopback_settings: Settings) -> None:
    news_site.reset_log()
    url = news_site.url(f"/bad/flaky?key={uuid.uuid4().hex}")
    result, fetcher = run(fetch_one(loopback_settings, url))
    assert result.status == 200 and result.text is not None and "Recovered" in result.text
    assert fetcher.stats["retries"] == 1
    assert [r.status for r in hits(news_site, "/bad/flaky")] == [500, 200]


def test_retry_after_is_honoured(news_site: NewsSite, loopback_settings: Settings) -> None:
    news_site.reset_log()
    url = news_site.url(f"/bad/ratelimit?key={uuid.uuid4().hex}")
    result, fetcher = run(fetch_one(loopback_settings, url))
    assert result.status == 200 and fetcher.stats["retries"] == 1
    limited, ok = hits(news_site, "/bad/ratelimit")
    assert (limited.status, ok.status) == (429, 200)
    assert ok.start - limited.end >= 0.95


def test_retry_after_beyond_backoff_max_is_not_waited(news_site: NewsSite, loopback_settings: Settings) -> None:
    url = news_site.url(f"/bad/ratelimit?key={uuid.uuid4().hex}&after=120")
    started = time.monotonic()
    exc, _ = run(fetch_error(loopback_settings, url))
    assert time.monotonic() - started < 1.5
    assert isinstance(exc, TransientFetchError) and exc.status == 429 and exc.retry_after == 120


def test_not_found_is_permanent_and_not_retried(news_site: NewsSite, loopback_settings: Settings) -> None:
    news_site.reset_log()
    exc, fetcher = run(fetch_error(loopback_settings, news_site.url("/news/missing.html")))
    assert isinstance(exc, PermanentFetchError) and exc.status == 404
    assert len(hits(news_site, "/news/missing.html")) == 1 and fetcher.stats["retries"] == 0


def test_slow_server_times_out(news_site: NewsSite, tmp_path: Path) -> None:
    news_site.reset_log()
    settings = make_loopback_settings(tmp_path, timeout_s=0.5, max_retries=1)
    started = time.monotonic()
    exc, fetcher = run(fetch_error(settings, news_site.url("/bad/slow")))
    elapsed = time.monotonic() - started
    assert isinstance(exc, TransientFetchError) and "timed out" in str(exc)
    assert fetcher.stats["retries"] == 1 and len(hits(news_site, "/bad/slow")) == 2
    assert elapsed < 2.5


def test_unreachable_port_is_transient(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        settings = make_loopback_settings(tmp_path, max_retries=1, respect_robots=False)
        exc, fetcher = run(fetch_error(settings, f"http://127.0.0.1:{port}/x.html"))
    assert isinstance(exc, TransientFetchError) and fetcher.stats["retries"] == 1


def test_redirects_are_followed_and_capped(news_site: NewsSite, tmp_path: Path) -> None:
    _, target = first_page(news_site)
    settings = make_loopback_settings(tmp_path)
    result, _ = run(fetch_one(settings, news_site.url("/bad/redirect-chain?n=3")))
    assert result.status == 200 and result.final_url == target and result.redirects == 4
    capped = make_loopback_settings(tmp_path, max_redirects=2)
    exc, _ = run(fetch_error(capped, news_site.url("/bad/redirect-chain?n=3")))
    assert isinstance(exc, PermanentFetchError) and "more than 2 redirects" in str(exc)


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("/bad/redirect-loop", "page", "redirect loop"),
        ("/bad/redirect-private", "page", "refused cloud metadata address 169.254.169.254"),
        ("/bad/wrong-type", "page", "unexpected content type image/png for a page"),
        ("/bad/binary-html", "page", "binary content under text/html"),
        ("/bad/oversize", "page", "response larger than 5000000 bytes"),
        ("/bad/oversize?nolength=1", "page", "response larger than 5000000 bytes"),
        ("/bad/gzip-bomb.xml.gz", "sitemap", "decompressed body larger than 5000000 bytes"),
        ("/bad/gzip-bomb-encoded", "page", "decompressed body larger than 5000000 bytes"),
        ("/private/secret.html", "page", "disallowed by robots.txt"),
    ],
)
def test_refusals_are_permanent(
    news_site: NewsSite, loopback_settings: Settings, path: str, kind: str, reason: str
) -> None:
    news_site.reset_log()
    tracemalloc.start()
    try:
        started = time.monotonic()
        exc, fetcher = run(fetch_error(loopback_settings, news_site.url(path), kind=kind))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(exc, PermanentFetchError), exc
    assert reason in str(exc) and "\n" not in str(exc)
    assert exc.url == news_site.url(path)
    assert fetcher.stats["retries"] == 0 and elapsed < 5
    # the cap is 5 MB; the bomb inflates to 120 MB and the oversize body is 6 MB
    assert peak < 25_000_000, f"peak {peak} bytes"
    if reason.startswith("disallowed"):
        assert not hits(news_site, "/private/") and fetcher.stats["robots_denied"] == 1


def test_loopback_refused_unless_allowed(news_site: NewsSite, tmp_path: Path) -> None:
    news_site.reset_log()
    settings = make_loopback_settings(tmp_path, allow_private=False)
    _, url = first_page(news_site)
    exc, fetcher = run(fetch_error(settings, url))
    assert isinstance(exc, PermanentFetchError) and "loopback" in str(exc)
    assert news_site.requests == [] and fetcher.stats["refused"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.1.10:8080/news",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 written as one number; only resolution reveals it
        "http://localhost/",
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://127.0.0.1:70/",
        "http:///nohost",
    ],
)
def test_check_url_allowed_refuses(url: str) -> None:
    with pytest.raises(PermanentFetchError) as info:
        check_url_allowed(url, allow_private=False)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://169.254.170.2/v2/credentials/x", "cloud metadata"),  # ECS task credentials
        ("http://169.254.170.23/v1/credentials", "cloud metadata"),  # EKS pod identity
        ("http://[fd00:ec2::23]/v1/credentials", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/", "cloud metadata"),
        ("http://[fd00:ec2::123]/", "cloud metadata"),  # the rest of AWS's IPv6 service range
        ("http://169.254.169.253/", "link-local"),  # AWS's resolver; all of 169.254.0.0/16 goes
        ("http://169.254.1.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
        ("http://168.63.129.16/machine", "cloud metadata"),  # Azure WireServer
        # IPv4 carried in IPv6: judged by the IPv4 address
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://[::a9fe:a9fe]/", "cloud metadata"),  # IPv4-compatible
        ("http://[64:ff9b::a9fe:a9fe]/", "cloud metadata"),  # NAT64
        ("http://[2002:a9fe:a9fe::1]/", "cloud metadata"),  # 6to4
        ("http://[64:ff9b::a9fe:101]/", "link-local"),
        ("http://[::ffff:a9fe:aa02]/", "cloud metadata"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
    ],
)
def test_metadata_and_link_local_refused_even_with_allow_private(url: str, reason: str) -> None:
    with pytest.raises(AddressRefusedError, match=reason):
        check_url_allowed(url, allow_private=True)


def test_embedded_ipv4_is_judged_without_allow_private() -> None:
    for url in ("http://[::7f00:1]/", "http://[64:ff9b::a00:1]/", "http://[2002:7f00:1::]/"):
        with pytest.raises(AddressRefusedError):
            check_url_allowed(url, allow_private=False)
    check_url_allowed("http://[64:ff9b::808:808]/", allow_private=False)  # NAT64 to 8.8.8.8


def test_check_url_allowed_permits() -> None:
    check_url_allowed("http://8.8.8.8/", allow_private=False)
    check_url_allowed("https://[2606:4700:4700::1111]/", allow_private=False)
    check_url_allowed("http://localhost:8000/", allow_private=True)
    check_url_allowed("http://10.1.2.3/", allow_private=True)
    # metadata endpoints stay refused: allowing loopback for tests must not open them
    with pytest.raises(PermanentFetchError, match="metadata"):
        check_url_allowed("http://169.254.169.254/", allow_private=True)


def max_overlap(records: list[RequestRecord]) -> int:
    events = sorted([(r.start, 1) for r in records] + [(r.end, -1) for r in records], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_per_host_concurrency_is_respected(news_site: NewsSite, tmp_path: Path) -> None:
    settings = make_loopback_settings(tmp_path, per_host_concurrency=2)
    urls = [f"{u}?delay=0.1" for u in sorted(news_site.pages.values())[:20]]

    async def go() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u) for u in urls))

    news_site.reset_log()
    results = run(go())
    assert all(r.status == 200 for r in results)
    page_hits = hits(news_site, "/news/")
    assert len(page_hits) == 20
    assert max_overlap(page_hits) == 2


def test_per_host_delay_spaces_request_starts(news_site: NewsSite, tmp_path: Path) -> None:
    settings = make_loopback_settings(tmp_path, per_host_delay_s=0.2, respect_robots=False)
    urls = sorted(news_site.pages.values())[:4]

    async def go() -> None:
        async with Fetcher(settings) as fetcher:
            await asyncio.gather(*(fetcher.fetch(u) for u in urls))

    news_site.reset_log()
    run(go())
    starts = sorted(r.start for r in hits(news_site, "/news/"))
    assert len(starts) == 4
    # arrival times carry scheduling jitter on a loaded machine, so check the spread, not each gap;
    # without the delay all four arrive within a few milliseconds
    assert starts[-1] - starts[0] >= 0.45
    assert starts[2] - starts[0] >= 0.25


def test_robots_txt_is_fetched_once_per_host(news_site: NewsSite, loopback_settings: Settings) -> None:
    urls = sorted(news_site.pages.values())[:6]

    async def go() -> None:
        async with Fetcher(loopback_settings) as fetcher:
            await asyncio.gather(*(fetcher.fetch(u) for u in urls))

    news_site.reset_log()
    run(go())
    assert len(hits(news_site, "/robots.txt")) == 1 and len(hits(news_site, "/news/")) == 6


def test_fetch_url_sync(news_site: NewsSite, loopback_settings: Settings) -> None:
    result = fetch_url_sync(news_site.url("/feeds/rss.xml"), loopback_settings, kind="feed")
    assert result.text is not None and result.text.count("<item>") == 60


def test_unknown_kind_is_refused(news_site: NewsSite, loopback_settings: Settings) -> None:
    exc, _ = run(fetch_error(loopback_settings, news_site.url("/robots.txt"), kind="video"))
    assert isinstance(exc, PermanentFetchError) and "unknown fetch kind" in str(exc)


def fake_dns(monkeypatch: pytest.MonkeyPatch, first: str, later: str) -> FakeResolver:
    """Route lookups to a FakeResolver; no proxy from the environment, so connections are pinned."""
    from corroborate.ingest.fetch import PROXY_VARIABLES

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    resolver = FakeResolver(first, later)
    monkeypatch.setattr(netguard, "resolve_async", resolver)
    return resolver


class FakeResolver:
    """Stands in for DNS: answers ``first`` to the first lookup and ``later`` to every other one."""

    def __init__(self, first: str, later: str) -> None:
        self.answers = [first, later]
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[netguard.IPAddress]:
        self.lookups.append(host)
        answer = self.answers[0] if len(self.lookups) == 1 else self.answers[1]
        return [netguard.ipaddress.ip_address(answer)]


def test_dns_rebinding_to_loopback_is_refused_at_connect(
    news_site: NewsSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check sees a public address, a second lookup 127.0.0.1: nothing reaches the server.

    ``localhost`` is what the system resolver also says, so a client that looked the name up again
    for itself (httpx's default transport) would reach the loopback server.
    """
    resolver = fake_dns(monkeypatch, "93.184.216.34", "127.0.0.1")
    settings = make_loopback_settings(tmp_path, allow_private=False, respect_robots=False)
    port = urlsplit(news_site.url("/")).port
    news_site.reset_log()
    exc, fetcher = run(fetch_error(settings, f"http://localhost:{port}/robots.txt", kind="robots"))
    assert isinstance(exc, AddressRefusedError), exc
    assert "refused loopback address localhost (127.0.0.1)" in str(exc)
    assert exc.url == f"http://localhost:{port}/robots.txt"
    assert news_site.requests == []
    assert resolver.lookups == ["localhost", "localhost"]  # the check, then the connection's own
    assert fetcher.stats["refused"] == 1 and fetcher.stats["retries"] == 0


def test_dns_rebinding_to_metadata_is_refused_with_allow_private(
    news_site: NewsSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, "127.0.0.1", "169.254.170.2")
    settings = make_loopback_settings(tmp_path, respect_robots=False)
    exc, _ = run(fetch_error(settings, "http://rebind.test:80/latest/", kind="robots"))
    assert isinstance(exc, AddressRefusedError) and "cloud metadata address" in str(exc)


def test_connection_goes_to_the_checked_address_with_the_original_host(
    news_site: NewsSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name the system cannot resolve works when the checked lookup says 127.0.0.1: that is what was dialled."""
    resolver = fake_dns(monkeypatch, "127.0.0.1", "127.0.0.1")
    settings = make_loopback_settings(tmp_path, respect_robots=False)
    port = urlsplit(news_site.url("/")).port
    news_site.reset_log()
    result, _ = run(fetch_one(settings, f"http://pinned.invalid:{port}/robots.txt", kind="robots"))
    assert result.status == 200 and result.text
    assert [r.headers.get("Host") for r in news_site.requests] == [f"pinned.invalid:{port}"]
    assert resolver.lookups == ["pinned.invalid", "pinned.invalid"]


def test_environment_proxy_is_still_used(loopback_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """With HTTPS_PROXY set httpx's own transports send through the proxy (which resolves names); else pinned."""
    from corroborate.ingest.fetch import PROXY_VARIABLES, PinnedTransport

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert isinstance(Fetcher(loopback_settings)._open()._transport, PinnedTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    logged: list[str] = []
    client = Fetcher(loopback_settings, log=logged.append)._open()
    assert not isinstance(client._transport, PinnedTransport) and client._mounts
    assert logged == ["fetching through the proxy set in the environment: addresses are checked, not pinned"]
