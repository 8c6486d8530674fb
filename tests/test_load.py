"""A bounded load test: 200 outlets x 50 items on 200 loopback addresses, ingested three times.

One asyncio server listens on 127.0.1.1-127.0.1.200 (one virtual outlet per address) and counts,
per host, how many requests it is working on at once, so per-host politeness is checked from the
server's side. Most items are syndicated wire copy (the same text on many outlets, as in real news),
so every URL is fetched, extracted and deduplicated, while only the unique stories are embedded;
that keeps the test within a few minutes on two cores. Runs 2 and 3 are conditional GETs (304).

Sizes: CORROBORATE_LOAD_OUTLETS, CORROBORATE_LOAD_ITEMS, CORROBORATE_LOAD_UNIQUE.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import make_loopback_settings
from hostile import open_fds, rss, rss_kib

from corroborate.settings import Settings

OUTLETS = int(os.environ.get("CORROBORATE_LOAD_OUTLETS") or 200)
ITEMS = int(os.environ.get("CORROBORATE_LOAD_ITEMS") or 50)
UNIQUE = int(os.environ.get("CORROBORATE_LOAD_UNIQUE") or 600)
SERVE_DELAY_S = 0.003  # long enough that a client ignoring its limits would overlap requests on one host
PLACES = ["harbour", "airport", "station", "bridge", "school", "hospital", "stadium", "library", "market", "park"]


def story(n: int) -> str:
    place = PLACES[n % len(PLACES)]
    return (
        f"The council of district {n} voted on Monday to rebuild the old {place} by {2025 + n % 7}. "
        f"Officials said the work on the {place} in district {n} would cost {n * 37 % 900 + 100} million. "
        f"Residents of district {n} told reporters they had waited {n % 30 + 2} years for the {place}."
    )


def page(n: int) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><title>District {n} rebuilds</title></head><body>"
        f"<article><h1>District {n} rebuilds</h1><p>{story(n)}</p></article></body></html>"
    ).encode()


@dataclass
class LoadServer:
    hosts: list[str]
    ports: dict[str, int] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    not_modified: int = 0
    total_active: int = 0
    total_peak: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _servers: list[asyncio.base_events.Server] = field(default_factory=list)

    def start(self) -> LoadServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            for host in self.hosts:
                server = loop.run_until_complete(asyncio.start_server(self._client, host, 0, backlog=256))
                self._servers.append(server)
                self.ports[host] = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        threading.Thread(target=run, name="load-server", daemon=True).start()
        assert ready.wait(60)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            for s in self._servers:
                s.close()

        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)

    def base(self, host: str) -> str:
        return f"http://{host}:{self.ports[host]}"

    def reset(self) -> None:
        self.peak.clear()
        self.total_peak = 0
        self.requests = self.not_modified = 0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
                self.active[host] = self.active.get(host, 0) + 1
                self.peak[host] = max(self.peak.get(host, 0), self.active[host])
                self.total_active += 1
                self.total_peak = max(self.total_peak, self.total_active)
                self.requests += 1
                await asyncio.sleep(SERVE_DELAY_S)
                status, body, ctype, etag = self._answer(host, path, headers)
                # counted as done before the answer leaves, so the count never exceeds what the client holds
                self.active[host] -= 1
                self.total_active -= 1
                extra = f"ETag: {etag}\r\n" if etag else ""
                head_out = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
                writer.write(head_out.encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(self, host: str, path: str, headers: dict[str, str]) -> tuple[int, bytes, str, str | None]:
        outlet = int(host.rsplit(".", 1)[1]) - 1
        if path == "/feed.xml":
            urls = [f"{self.base(host)}/a/{i}.html" for i in range(ITEMS)]
            return 200, rss(urls, f"Outlet {outlet}"), "application/rss+xml", None
        if path.startswith("/a/") and path.endswith(".html"):
            n = (outlet * ITEMS + int(path[3:-5])) % UNIQUE
            body = page(n)
            etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
            if headers.get("if-none-match") == etag:
                self.not_modified += 1
                return 304, b"", "text/html", etag
            return 200, body, "text/html; charset=utf-8", etag
        return 404, b"no", "text/plain", None


@pytest.fixture(scope="module")
def load_server() -> Iterator[LoadServer]:
    hosts = [f"127.0.1.{i}" for i in range(1, OUTLETS + 1)]
    server = LoadServer(hosts).start()
    try:
        yield server
    finally:
        server.stop()


def _outlets_toml(server: LoadServer) -> str:
    parts = []
    for i, host in enumerate(server.hosts):
        parts.append(
            f'[[outlet]]\nname = "Load {i}"\ndomains = ["{host}"]\ncountry = "INT"\nlanguage = "en"\n'
            f'owner = "Owner {i}"\nkind = "regional"\nfictional = true\nfeeds = ["{server.base(host)}/feed.xml"]\n'
        )
    return "\n".join(parts)


@pytest.mark.slow
def test_load_200_outlets_three_runs(load_server: LoadServer, tmp_path: Path) -> None:
    from hostile import run_ingest

    from corroborate.corpus.embed import load_embedder

    settings: Settings = make_loopback_settings(tmp_path, per_host_concurrency=2, total_concurrency=16,
                                                timeout_s=30, max_items_per_source=ITEMS)
    outlets = tmp_path / "outlets.toml"
    outlets.write_text(_outlets_toml(load_server), encoding="utf-8")
    embedder = load_embedder()
    samples: list[tuple[float, int, int]] = []
    for run in range(3):
        load_server.reset()
        started = time.monotonic()
        result = run_ingest(settings, outlets, embedder=embedder)
        elapsed = time.monotonic() - started
        samples.append((elapsed, open_fds(), rss_kib()))
        counts: dict[str, int] = {}
        for outcome in result.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        print(f"run {run + 1}: {elapsed:.1f} s, {load_server.requests} requests, peak per host "
              f"{max(load_server.peak.values())}, peak total {load_server.total_peak}, fds {samples[-1][1]}, "
              f"RSS {samples[-1][2] // 1024} MiB, outcomes {counts}")
        assert result.discovery_errors == []
        assert len(result.outcomes) == OUTLETS * ITEMS
        assert max(load_server.peak.values()) <= settings.per_host_concurrency
        assert load_server.total_peak <= settings.total_concurrency
        if run == 0:
            assert counts.get("new", 0) == min(UNIQUE, OUTLETS * ITEMS)
            assert counts.get("new", 0) + counts.get("duplicate", 0) == OUTLETS * ITEMS
            # the limit was reached, so the assertion above was tested against real pressure
            assert max(load_server.peak.values()) == settings.per_host_concurrency
            assert result.index_count == result.passages == min(UNIQUE, OUTLETS * ITEMS)
        else:
            assert counts == {"not_modified": OUTLETS * ITEMS}
            assert load_server.not_modified == OUTLETS * ITEMS
    fds = [s[1] for s in samples]
    rss_mib = [s[2] // 1024 for s in samples]
    assert max(fds) - min(fds) <= 4, f"file descriptors grew across runs: {fds}"
    # run 1 loads caches (model already loaded before it); runs 2-3 must not keep growing
    assert rss_mib[2] - rss_mib[1] < 64, f"RSS grew across repeated runs: {rss_mib} MiB"
