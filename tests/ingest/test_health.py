"""Source health: `corroborate outlets check` and the library under it, against the loopback site's
fresh, stale and dead sources; the judgement of each failure kind on its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from newssite import HEALTH_PAGES, NewsSite

from corroborate.cli import cli
from corroborate.errors import CorroborateError, ExtractionError, PermanentFetchError, TransientFetchError
from corroborate.ingest.discover import SourceOutcome
from corroborate.ingest.health import STALE_AFTER, assess, check_outlets, summary_counts
from corroborate.ingest.outlets import parse_outlets
from corroborate.settings import Settings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def health_outlets(news_site: NewsSite, tmp_path: Path) -> Path:
    path = tmp_path / "health-outlets.toml"
    path.write_text(news_site.health_outlets_toml(), encoding="utf-8")
    return path


def test_check_reports_dead_stale_and_healthy_sources(news_site: NewsSite, loopback_settings: Settings) -> None:
    outlets = parse_outlets(news_site.health_outlets_toml(), "health")
    news_site.reset_log()
    health = {h.url: h for h in check_outlets(outlets, loopback_settings)}
    urls = news_site.health_urls
    assert list(health) == [urls[k] for k in ("fresh_feed", "stale_feed", "dead_feed", "fresh_sitemap", "dead_sitemap")]

    fresh = health[urls["fresh_feed"]]
    assert (fresh.state, fresh.status, fresh.items, fresh.stale, fresh.action) == ("ok", 200, HEALTH_PAGES, False, "ok")
    assert fresh.newest is not None and datetime.now(UTC) - fresh.newest < timedelta(days=1)
    assert health[urls["fresh_sitemap"]].state == "ok" and health[urls["fresh_sitemap"]].kind == "sitemap"

    stale = health[urls["stale_feed"]]
    assert (stale.state, stale.status, stale.items, stale.stale) == ("stale", 200, HEALTH_PAGES, True)
    assert "check the outlet's site for a new feed" in stale.action and "30 days old" in stale.action

    for key in ("dead_feed", "dead_sitemap"):
        dead = health[urls[key]]
        assert (dead.state, dead.status, dead.items, dead.stale) == ("dead", 404, 0, None)
        assert dead.action.startswith("dead (HTTP 404): remove or replace it")
    assert all(h.source == "health" for h in health.values())  # provenance: the file's name
    assert summary_counts(health.values()) == {"dead": 2, "stale": 1, "ok": 2}

    # politely: robots.txt once, each source once, as corroborate
    requests = news_site.requests
    assert [r.path for r in requests].count("/robots.txt") == 1
    for url in urls.values():
        assert sum(1 for r in requests if news_site.url(r.path) == url) == 1
    assert all(r.headers["User-Agent"] == loopback_settings.user_agent for r in requests)


def test_cli_outlets_check(health_outlets: Path, tmp_path: Path, news_site: NewsSite) -> None:
    env = {"CORROBORATE_ALLOW_PRIVATE": "1", "CORROBORATE_PER_HOST_DELAY_S": "0", "CORROBORATE_TIMEOUT_S": "5"}
    args = ["--home", str(tmp_path), "outlets", "check", "--outlets", str(health_outlets)]
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["outlet", "kind", "status", "items", "newest", "stale", "state", "action", "url"]
    by_url = {line.split()[-1]: line for line in lines[1:]}
    urls = news_site.health_urls
    assert " ok " in by_url[urls["fresh_feed"]] and " no " in by_url[urls["fresh_feed"]]
    assert " stale " in by_url[urls["stale_feed"]] and " yes " in by_url[urls["stale_feed"]]
    assert " 404 " in by_url[urls["dead_feed"]] and "remove or replace it" in by_url[urls["dead_feed"]]
    assert "5 sources: 2 dead, 1 stale, 2 ok" in result.stderr

    as_json = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=False)
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {r["url"]: r["state"] for r in rows} == {
        urls["fresh_feed"]: "ok", urls["stale_feed"]: "stale", urls["dead_feed"]: "dead",
        urls["fresh_sitemap"]: "ok", urls["dead_sitemap"]: "dead",
    }
    assert all(r["detail"] == "HTTP 404" for r in rows if r["state"] == "dead")

    unknown = CliRunner().invoke(cli, [*args, "--outlet", "Nobody"], env=env)
    assert unknown.exit_code != 0 and "no outlet named 'Nobody'" in str(unknown.exception)


def test_cli_outlets_list_shows_the_merged_registry(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "outlets", "list"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["outlet", "country", "lang", "group", "flags", "feeds", "sitemaps", "from"]
    rows = {line.split("  ")[0]: line for line in lines[1:]}
    assert len(rows) >= 200
    assert "state" in rows["TASS"] and " en " in rows["TASS"]
    assert "owner?" in rows["Der Standard"] and "outlets-fundus.toml" in rows["Der Standard"]
    assert "no-source" in rows["KCNA"]
    assert "outlets, " in result.stderr and "from fundus)" in result.stderr

    as_json = CliRunner().invoke(cli, ["--home", str(tmp_path), "outlets", "list", "--json"], catch_exceptions=False)
    first = json.loads(as_json.stdout.splitlines()[0])
    assert set(first) == {"outlet", "country", "lang", "group", "flags", "feeds", "sitemaps", "from", "domains"}


def _outcome(**kw: object) -> SourceOutcome:
    outcome = SourceOutcome("https://news.example/feed.xml", "feed")
    for key, value in kw.items():
        setattr(outcome, key, value)
    return outcome


def _failed(exc: CorroborateError) -> SourceOutcome:
    outcome = _outcome()
    outcome.failed(exc)
    return outcome


@pytest.mark.parametrize(
    ("outcome", "state", "action"),
    [
        (_failed(PermanentFetchError("HTTP 410", status=410)), "dead", "dead (HTTP 410): remove or replace it"),
        (_failed(PermanentFetchError("HTTP 403", status=403)), "refused", "refused (HTTP 403)"),
        (_failed(PermanentFetchError("disallowed by robots.txt")), "blocked", "blocked by robots.txt: remove it"),
        (_failed(TransientFetchError("timed out after 20s")), "unreachable", "unreachable: try again later"),
        (_failed(TransientFetchError("HTTP 503", status=503)), "unreachable", "unreachable: try again later"),
        (_failed(ExtractionError("not a feed (root element <html>)")), "broken", "broken (not a feed"),
        (_failed(PermanentFetchError("response larger than 5000000 bytes")), "broken", "broken (response larger"),
        (_outcome(status=200), "empty", "empty: no items"),
        (_outcome(status=200, items=4), "undated", "undated: items carry no dates"),
        (_outcome(status=200, items=4, dated=4, newest=NOW - STALE_AFTER - timedelta(hours=1)), "stale",
         "stale: newest item 14 days old"),
        (_outcome(status=200, items=4, dated=4, newest=NOW - STALE_AFTER + timedelta(hours=1)), "ok", "ok"),
    ],
)
def test_each_failure_kind_has_its_state_and_action(outcome: SourceOutcome, state: str, action: str) -> None:
    health = assess(outcome, None, NOW)
    assert health.state == state
    assert health.action.startswith(action)
    assert (health.stale is True) == (state == "stale")
    row = health.to_row()
    assert row["stale"] == {"stale": "yes", "ok": "no"}.get(state, "?")


def test_a_sitemap_index_is_judged_by_its_child_sitemaps(news_site: NewsSite, loopback_settings: Settings) -> None:
    (outlet,) = parse_outlets(news_site.outlets_toml(), "loopback")
    health = {h.url: h for h in check_outlets([outlet], loopback_settings)}
    index = health[news_site.sitemap_index_url]
    # the site's pages date from 2024: all of it is stale, read through the index's two child sitemaps
    assert (index.state, index.status, index.items, index.detail) == ("stale", 200, 181, "index: 2 child sitemaps read")
    assert [health[u].state for u in news_site.feed_urls] == ["stale", "stale", "stale"]
