"""A real news site on 127.0.0.1 for integration tests: 181 real pages, feeds, sitemaps, robots.txt,
and endpoints that misbehave the ways real servers do.

Pages come from /work/shared/data/news-html (ScrapingHub article-extraction benchmark, MIT). The
server records every request so tests can check politeness (no refetch, per-host limits) from the
server's side rather than trusting the client's own counters.

Any path accepts ``?delay=SECONDS`` (at most 5) so tests can make requests overlap on purpose.
``/health/...`` serves sources for source-health checks, dated relative to the time of the request:
a fresh feed and news sitemap, a stale feed, and a dead feed and sitemap (404).
``/bad/flaky`` and ``/bad/ratelimit`` fail the first time per full path + query, so a test picks a
fresh key (``?key=...``) to get a fresh failure.
``/robots.txt`` asked for under a host name ``robots-<status>.test`` (a test's fake DNS sends it here)
answers that HTTP status, and under ``robots-slow.test`` answers too late for any test timeout.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import html
import json
import random
import re
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "news-html"

# every page claims to have been published on this clock so feeds, sitemaps and Last-Modified agree
SITE_EPOCH = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
RSS_COUNT = 60
ATOM_COUNT = 60
MAX_DELAY_S = 5.0
SLOW_S = 8.0  # longer than any test timeout, short enough that stray server threads end soon
OVERSIZE_BYTES = 6_000_000
GZIP_BOMB_BYTES = 120 * 1024 * 1024
HEALTH_PAGES = 3  # pages behind each of the health feeds
STALE_DAYS = 30  # age of the stale feed's items

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

NOCHARSET_TEXT = (
    "Café society returns to the riverside: the naïve façade of the old crêperie, closed since the "
    "flood, reopened on Saturday. Señora Muñoz, who ran it for thirty years, said the déjà vu was "
    "overwhelming. « Nous sommes très heureux », she told reporters, handing out piña colada samples."
)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it; ``end`` is taken just before the body is written."""

    path: str  # with query string
    method: str
    start: float  # time.monotonic()
    end: float
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # If-None-Match, If-Modified-Since, User-Agent, Host
    bytes: int = 0  # body bytes sent (as sent: gzipped where the answer was)


@dataclass(frozen=True)
class Page:
    sha: str
    body: bytes  # raw HTML bytes as published
    charset: str
    title: str
    published: datetime
    etag: str

    @property
    def last_modified(self) -> str:
        return format_datetime(self.published, usegmt=True)


def load_pages(directory: Path) -> list[Page]:
    pages = []
    for index, path in enumerate(sorted((directory / "html").glob("*.html.gz"))):
        body = gzip.decompress(path.read_bytes())
        sha = path.name.removesuffix(".html.gz")
        meta = _META_CHARSET.search(body[:8192])
        charset = meta.group(1).decode("ascii").lower() if meta else "utf-8"
        title_match = _TITLE.search(body)
        title = html.unescape(title_match.group(1).decode(charset, "replace")).strip() if title_match else sha
        pages.append(
            Page(
                sha=sha,
                body=body,
                charset=charset,
                title=" ".join(title.split()) or sha,
                published=SITE_EPOCH - timedelta(hours=index),
                etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"',
            )
        )
    return pages


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(GZIP_BOMB_BYTES // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


class NewsSite:
    """The site; start() binds a free loopback port and serves from a daemon thread."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.data_dir = data_dir
        self._pages = load_pages(data_dir)
        self.ground_truth: dict[str, str] = {
            sha: entry["articleBody"] for sha, entry in json.loads((data_dir / "ground-truth.json").read_text()).items()
        }
        self._by_sha = {p.sha: p for p in self._pages}
        self._log: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._seen_keys: set[str] = set()
        self._bomb: bytes | None = None
        self._gzipped: dict[str, bytes] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.pages: dict[str, str] = {}
        self._docs: dict[str, tuple[bytes, str]] = {}

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> NewsSite:
        site = self

        class Handler(_Handler):
            news_site = site

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self.pages = {p.sha: f"{self.base_url}/news/{p.sha}.html" for p in self._pages}
        self._docs = self._build_documents()
        self._thread = threading.Thread(target=server.serve_forever, name="news-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read -------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        """Forget recorded requests and the first-time failures already served."""
        with self._lock:
            self._log.clear()
            self._seen_keys.clear()

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def feed_urls(self) -> list[str]:
        return [self.url("/feeds/rss.xml"), self.url("/feeds/atom.xml"), self.url("/feeds/feed.json")]

    @property
    def sitemap_index_url(self) -> str:
        return self.url("/sitemap_index.xml")

    def page_title(self, sha: str) -> str:
        return self._by_sha[sha].title

    def outlets_toml(self, rss_only: bool = False) -> str:
        """An outlets file (``[[outlet]]`` schema of corroborate.ingest.outlets) listing this site.

        ``rss_only``: only the RSS feed, no other feed and no sitemap: about a third of the pages.
        """
        urls = [u for u in self.feed_urls if u.endswith("rss.xml")] if rss_only else self.feed_urls
        feeds = ", ".join(json.dumps(u) for u in urls)
        sitemaps = "" if rss_only else json.dumps(self.sitemap_index_url)
        return (
            "[[outlet]]\n"
            'name = "Loopback News"\n'
            'domains = ["127.0.0.1"]\n'
            'country = "INT"\n'
            'language = "en"\n'
            'owner = "Loopback Test Media"\n'
            'group = "Loopback Test Media"\n'
            "state_media = false\n"
            'kind = "digital"\n'
            f"feeds = [{feeds}]\n"
            f"sitemaps = [{sitemaps}]\n"
            "fictional = true\n"
        )

    @property
    def health_urls(self) -> dict[str, str]:
        """The sources ``/health/`` serves, by what they are."""
        return {
            "fresh_feed": self.url("/health/fresh.xml"),
            "fresh_sitemap": self.url("/health/fresh-sitemap.xml"),
            "stale_feed": self.url("/health/stale.xml"),
            "dead_feed": self.url("/health/gone.xml"),
            "dead_sitemap": self.url("/health/gone-sitemap.xml"),
        }

    def health_outlets_toml(self) -> str:
        """An outlets file whose one outlet lists every ``/health/`` source: fresh, stale and dead ones."""
        urls = self.health_urls
        feeds = ", ".join(json.dumps(urls[k]) for k in ("fresh_feed", "stale_feed", "dead_feed"))
        sitemaps = ", ".join(json.dumps(urls[k]) for k in ("fresh_sitemap", "dead_sitemap"))
        return (
            "[[outlet]]\n"
            'name = "Loopback Health"\n'
            'domains = ["127.0.0.1"]\n'
            'country = "INT"\n'
            'language = "en"\n'
            'owner = "Loopback Test Media"\n'
            'kind = "digital"\n'
            f"feeds = [{feeds}]\n"
            f"sitemaps = [{sitemaps}]\n"
            "fictional = true\n"
        )

    def _health_doc(self, path: str) -> tuple[bytes, str] | None:
        now = datetime.now(UTC).replace(microsecond=0)
        fresh = [replace(p, published=now - timedelta(hours=i + 1)) for i, p in enumerate(self._pages[:HEALTH_PAGES])]
        stale = [
            replace(p, published=now - timedelta(days=STALE_DAYS, hours=i))
            for i, p in enumerate(self._pages[HEALTH_PAGES : 2 * HEALTH_PAGES])
        ]
        if path == "/health/fresh.xml":
            return self._rss(fresh), "application/rss+xml; charset=utf-8"
        if path == "/health/stale.xml":
            return self._rss(stale), "application/rss+xml; charset=utf-8"
        if path == "/health/fresh-sitemap.xml":
            return self._news_sitemap(fresh), "application/xml; charset=utf-8"
        return None

    # --- generated documents ---------------------------------------------------------------
    def _build_documents(self) -> dict[str, tuple[bytes, str]]:
        rss = self._pages[:RSS_COUNT]
        atom = self._pages[RSS_COUNT : RSS_COUNT + ATOM_COUNT]
        jsonfeed = self._pages[RSS_COUNT + ATOM_COUNT :]
        half = len(self._pages) // 2
        return {
            "/robots.txt": (self._robots(), "text/plain; charset=utf-8"),
            "/feeds/rss.xml": (self._rss(rss), "application/rss+xml; charset=utf-8"),
            "/feeds/atom.xml": (self._atom(atom), "application/atom+xml; charset=utf-8"),
            "/feeds/feed.json": (self._json_feed(jsonfeed), "application/feed+json; charset=utf-8"),
            "/sitemap_index.xml": (self._sitemap_index(), "application/xml; charset=utf-8"),
            "/sitemaps/news.xml": (self._news_sitemap(self._pages[:half]), "application/xml; charset=utf-8"),
            "/sitemaps/news2.xml.gz": (
                gzip.compress(self._news_sitemap(self._pages[half:]), mtime=0),
                "application/x-gzip",
            ),
            "/bad/malformed.xml": (
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken &amp feed</title>'
                b"<item><title>Unclosed item<link>" + self.pages[self._pages[0].sha].encode() + b"</link></channel>",
                "application/rss+xml",
            ),
            "/bad/xml-bomb": (self._xml_bomb(), "application/rss+xml"),
            "/bad/wrong-type": (
                b"\x89PNG\r\n\x1a\n" + bytes(random.Random(1).randbytes(2048)),
                "image/png",
            ),
            "/bad/binary-html": (random.Random(0).randbytes(64 * 1024), "text/html"),
            "/bad/nocharset": (
                (
                    "<!DOCTYPE html>\n<html><head><title>Café reopens</title></head><body><article>"
                    + "".join(f"<p>{NOCHARSET_TEXT}</p>\n" for _ in range(4))
                    + "</article></body></html>\n"
                ).encode("latin-1"),
                "text/html",
            ),
            "/private/secret.html": (
                b"<!DOCTYPE html><html><head><title>Secret</title></head><body><p>Not for bots.</p></body></html>",
                "text/html; charset=utf-8",
            ),
        }

    def _robots(self) -> bytes:
        return (
            f"User-agent: *\nDisallow: /private/\nAllow: /\n\nSitemap: {self.sitemap_index_url}\n".encode()
        )

    def _rss(self, pages: list[Page]) -> bytes:
        items = "".join(
            "<item>"
            f"<title>{escape(p.title)}</title>"
            f"<link>{escape(self.pages[p.sha])}</link>"
            f'<guid isPermaLink="true">{escape(self.pages[p.sha])}</guid>'
            f"<pubDate>{format_datetime(p.published, usegmt=True)}</pubDate>"
            f"<description>{escape(self.ground_truth.get(p.sha, '')[:200])}</description>"
            "</item>\n"
            for p in pages
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Loopback News</title><link>{escape(self.base_url)}/</link>"
            "<description>Real pages served from loopback for tests</description>\n"
            f"{items}</channel></rss>\n"
        ).encode()

    def _atom(self, pages: list[Page]) -> bytes:
        entries = "".join(
            "<entry>"
            f"<title>{escape(p.title)}</title>"
            f'<link rel="alternate" href="{escape(self.pages[p.sha])}"/>'
            f"<id>urn:sha256:{p.sha}</id>"
            f"<updated>{p.published.isoformat()}</updated><published>{p.published.isoformat()}</published>"
            "</entry>\n"
            for p in pages
        )
        updated = max(p.published for p in pages).isoformat() if pages else SITE_EPOCH.isoformat()
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Loopback News (Atom)</title><id>{escape(self.base_url)}/feeds/atom.xml</id>"
            f"<updated>{updated}</updated>\n{entries}</feed>\n"
        ).encode()

    def _json_feed(self, pages: list[Page]) -> bytes:
        feed: dict[str, Any] = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Loopback News (JSON Feed)",
            "home_page_url": self.base_url + "/",
            "feed_url": self.url("/feeds/feed.json"),
            "items": [
                {
                    "id": p.sha,
                    "url": self.pages[p.sha],
                    "title": p.title,
                    "date_published": p.published.isoformat(),
                }
                for p in pages
            ],
        }
        return json.dumps(feed, ensure_ascii=False, indent=1).encode()

    def _sitemap_index(self) -> bytes:
        entries = "".join(
            f"<sitemap><loc>{escape(self.url(path))}</loc><lastmod>{SITE_EPOCH.isoformat()}</lastmod></sitemap>"
            for path in ("/sitemaps/news.xml", "/sitemaps/news2.xml.gz")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>\n'
        ).encode()

    def _news_sitemap(self, pages: list[Page]) -> bytes:
        urls = "".join(
            "<url>"
            f"<loc>{escape(self.pages[p.sha])}</loc>"
            f"<lastmod>{p.published.isoformat()}</lastmod>"
            "<news:news><news:publication><news:name>Loopback News</news:name>"
            "<news:language>en</news:language></news:publication>"
            f"<news:publication_date>{p.published.isoformat()}</news:publication_date>"
            f"<news:title>{escape(p.title)}</news:title></news:news>"
            "</url>\n"
            for p in pages
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{urls}</urlset>\n"
        ).encode()

    def _xml_bomb(self) -> bytes:
        lol = ['<!ENTITY lol "lol">']
        lol += [f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
        return (
            '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(lol) + "\n]>\n"
            '<rss version="2.0"><channel><title>&lol9;</title><item><title>bomb</title>'
            f"<link>{self.base_url}/news/x.html</link></item></channel></rss>\n"
        ).encode()

    def gzipped(self, page: Page) -> bytes:
        with self._lock:
            if page.sha not in self._gzipped:
                self._gzipped[page.sha] = gzip.compress(page.body, compresslevel=6, mtime=0)
            return self._gzipped[page.sha]

    def gzip_bomb(self) -> bytes:
        with self._lock:
            if self._bomb is None:
                self._bomb = _gzip_bomb()
            return self._bomb

    # --- used by the handler ---------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    def _first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen_keys:
                return False
            self._seen_keys.add(key)
            return True


def _not_modified(headers: Any, etag: str, last_modified: datetime) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    news_site: NewsSite
    protocol_version = "HTTP/1.1"
    server_version = "LoopbackNews/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
        pass  # the request log on NewsSite replaces stderr noise

    def handle(self) -> None:
        # clients that time out on purpose hang up mid-response
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            super().handle()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._start = time.monotonic()
        self._status = 0
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        delay = min(float(query.get("delay", ["0"])[0] or 0), MAX_DELAY_S)
        if delay > 0:
            time.sleep(delay)
        self._route(parts.path, query)

    # each response goes through here so the log entry's end time precedes the body
    def _finish_record(self, status: int, sent: int = 0) -> None:
        wanted = ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept", "Host")
        self.news_site._record(
            RequestRecord(
                path=self.path,
                method=self.command,
                start=self._start,
                end=time.monotonic(),
                status=status,
                headers={h: self.headers[h] for h in wanted if self.headers.get(h) is not None},
                bytes=sent,
            )
        )

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self._finish_record(status, 0 if self.command == "HEAD" else len(body))
        self._write(status, body, content_type, extra)

    def _write(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_doc(
        self, body: bytes, content_type: str, etag: str, modified: datetime, extra: dict[str, str] | None = None
    ) -> None:
        validators = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True), "Vary": "Accept-Encoding"}
        if _not_modified(self.headers, etag, modified):
            self._send(304, extra=validators)
        else:
            self._send(200, body, content_type, {**validators, **(extra or {})})

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        site = self.news_site
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if path == "/robots.txt" and host.startswith("robots-") and host.endswith(".test"):
            mode = host[len("robots-") : -len(".test")]
            if mode == "slow":
                self._finish_record(200)
                time.sleep(SLOW_S)
                self._write(200, b"User-agent: *\nAllow: /\n", "text/plain")
            else:
                self._send(int(mode), b"robots.txt answers " + mode.encode(), "text/plain")
            return
        if path.startswith("/news/") and path.endswith(".html"):
            page = site._by_sha.get(path[len("/news/") : -len(".html")])
            if page is None:
                self._send(404, b"not found", "text/plain")
                return
            ctype = f"text/html; charset={page.charset}"
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                # like most real news sites: clients that accept gzip get it
                self._send_doc(site.gzipped(page), ctype, page.etag, page.published, {"Content-Encoding": "gzip"})
            else:
                self._send_doc(page.body, ctype, page.etag, page.published)
            return
        health = site._health_doc(path) if path.startswith("/health/") else None
        if health is not None:
            self._send(200, *health)
            return
        if path in site._docs:
            body, ctype = site._docs[path]
            self._send_doc(body, ctype, f'"{hashlib.sha256(body).hexdigest()[:20]}"', SITE_EPOCH)
            return
        if path == "/bad/slow":
            # logged on arrival: the client hangs up long before the answer, and tests count the attempts
            self._finish_record(200)
            time.sleep(min(float(query.get("s", [str(SLOW_S)])[0]), SLOW_S))
            self._write(200, b"<html><body>finally</body></html>", "text/html; charset=utf-8")
            return
        if path == "/bad/flaky":
            if site._first_time(self.path):
                self._send(500, b"try again", "text/plain")
            else:
                self._send(200, b"<html><body><p>Recovered.</p></body></html>", "text/html; charset=utf-8")
            return
        if path == "/bad/ratelimit":
            if site._first_time(self.path):
                self._send(429, b"slow down", "text/plain", {"Retry-After": query.get("after", ["1"])[0]})
            else:
                self._send(200, b"<html><body><p>Thanks for waiting.</p></body></html>", "text/html; charset=utf-8")
            return
        if path == "/bad/redirect-loop":
            self._send(302, extra={"Location": "/bad/redirect-loop-2"})
            return
        if path == "/bad/redirect-loop-2":
            self._send(302, extra={"Location": "/bad/redirect-loop"})
            return
        if path == "/bad/redirect-chain":
            # /bad/redirect-chain?n=3 -> n=2 -> n=1 -> n=0 -> first page
            n = int(query.get("n", ["3"])[0])
            target = f"/bad/redirect-chain?n={n - 1}" if n > 0 else f"/news/{site._pages[0].sha}.html"
            self._send(301, extra={"Location": target})
            return
        if path == "/bad/redirect-private":
            self._send(302, extra={"Location": "http://169.254.169.254/latest/meta-data/"})
            return
        if path == "/bad/oversize":
            self._oversize(declared="nolength" not in query)
            return
        if path == "/bad/gzip-bomb.xml.gz":
            self._send(200, site.gzip_bomb(), "application/x-gzip")
            return
        if path == "/bad/gzip-bomb-encoded":
            # the same bomb as a transfer encoding of an HTML page: HTTP clients inflate these silently
            self._send(200, site.gzip_bomb(), "text/html; charset=utf-8", {"Content-Encoding": "gzip"})
            return
        self._send(404, b"not found", "text/plain")

    def _oversize(self, declared: bool) -> None:
        self._finish_record(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if declared:
            self.send_header("Content-Length", str(OVERSIZE_BYTES))
        else:
            # no length: the client only finds out by counting
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
        sent = 0
        while sent < OVERSIZE_BYTES:
            piece = chunk[: OVERSIZE_BYTES - sent]
            self.wfile.write(piece)
            sent += len(piece)
