"""robots.txt as RFC 9309 reads it: 4xx allows everything; 5xx, 429 or no answer disallows the host for the run.

The loopback site answers ``/robots.txt`` with the status its host name asks for (``robots-503.test``);
a fake resolver sends those names to 127.0.0.1, so the requests really reach the server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import make_loopback_settings
from newssite import NewsSite

from corroborate.corpus.records import Candidate
from corroborate.errors import RobotsUnavailableError
from corroborate.ingest import netguard
from corroborate.ingest.fetch import PROXY_VARIABLES, Fetcher
from corroborate.ingest.steps import fetch_pages_sync


@pytest.fixture
def loopback_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name resolves to 127.0.0.1 (and connections are pinned there: no proxy)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    async def resolve(host: str, port: int) -> list[netguard.IPAddress]:
        return [netguard.ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(netguard, "resolve_async", resolve)


def _page_path(site: NewsSite) -> str:
    return urlsplit(sorted(site.pages.values())[0]).path


def _fetch_twice(
    site: NewsSite, tmp_path: Path, host: str, **overrides: object
) -> tuple[list[object], Fetcher, list[str]]:
    """Fetch two pages of the site under ``host``: (results or errors, the fetcher, its log lines)."""
    settings = make_loopback_settings(tmp_path, **{"max_retries": 1, **overrides})
    port = urlsplit(site.base_url).port
    paths = [urlsplit(u).path for u in sorted(site.pages.values())[:2]]
    logged: list[str] = []

    async def go() -> tuple[list[object], Fetcher]:
        async with Fetcher(settings, log=logged.append) as fetcher:
            out: list[object] = []
            for path in paths:
                try:
                    out.append(await fetcher.fetch(f"http://{host}:{port}{path}"))
                except Exception as exc:  # noqa: BLE001 - the test looks at what came back
                    out.append(exc)
            return out, fetcher

    site.reset_log()
    results, fetcher = asyncio.run(go())
    return results, fetcher, logged


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_5xx_or_429_disallows_the_host_for_the_run(
    news_site: NewsSite, tmp_path: Path, loopback_dns: None, status: int
) -> None:
    results, fetcher, logged = _fetch_twice(news_site, tmp_path, f"robots-{status}.test", backoff_max_s=0.2)
    assert all(isinstance(r, RobotsUnavailableError) for r in results), results
    assert "robots.txt" in str(results[0]) and f"HTTP {status}" in str(results[0])
    paths = [r.path for r in news_site.requests]
    assert not [p for p in paths if p.startswith("/news/")], "no page of a host whose robots.txt is unreachable"
    assert paths == ["/robots.txt", "/robots.txt"]  # one retry, then never again this run
    assert fetcher.stats["robots_unavailable"] == 2
    assert len([line for line in logged if "unreachable" in line]) == 1, logged  # logged once per host


def test_robots_timeout_disallows_the_host(news_site: NewsSite, tmp_path: Path, loopback_dns: None) -> None:
    results, fetcher, logged = _fetch_twice(news_site, tmp_path, "robots-slow.test", timeout_s=0.3, max_retries=0)
    assert all(isinstance(r, RobotsUnavailableError) for r in results), results
    assert "timed out" in str(results[0])
    assert not [r for r in news_site.requests if r.path.startswith("/news/")]
    assert len([line for line in logged if "unreachable" in line]) == 1


@pytest.mark.parametrize("status", [404, 403, 401, 410])
def test_robots_4xx_allows_everything(news_site: NewsSite, tmp_path: Path, loopback_dns: None, status: int) -> None:
    results, fetcher, logged = _fetch_twice(news_site, tmp_path, f"robots-{status}.test")
    assert [getattr(r, "status", r) for r in results] == [200, 200]
    assert [r.path for r in news_site.requests].count("/robots.txt") == 1
    assert fetcher.stats["robots_unavailable"] == 0 and not logged


def test_ingest_step_marks_robots_unreachable_pages_failed_not_retried(
    news_site: NewsSite, tmp_path: Path, loopback_dns: None
) -> None:
    """fetch_pages reports the pages as failed but not transient, so the flow does not retry the
    outlet within the run (a fresh fetcher would ask for robots.txt again)."""
    settings = make_loopback_settings(tmp_path, max_retries=0)
    port = urlsplit(news_site.base_url).port
    path = _page_path(news_site)
    candidates = [Candidate(url=f"http://robots-503.test:{port}{path}", outlet="Loopback News", source="feed")]
    news_site.reset_log()
    (page,) = fetch_pages_sync(candidates, settings)
    assert page.result is None and page.error and "robots.txt" in page.error
    assert page.transient is False
    assert [r.path for r in news_site.requests] == ["/robots.txt"]
