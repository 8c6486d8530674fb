"""The bundled demo news site: eight FICTIONAL outlets served on loopback addresses.

The project cannot ship other people's articles, so it ships its own invented news world
(Veloria, Port Amsel) built to exercise every verdict: independent agreeing reports, a syndicated
wire copy, sister papers of one owner, a contradicting report, state-media-only coverage and
unrelated news. See ``data/demo/README.md``.

Each outlet gets its own address (127.0.0.11, .12, ...) on one shared port, so host-based outlet
matching, per-host politeness and robots.txt behave as they would on the real web. Pages, feeds and
sitemaps are generated from ``data/demo/articles.json`` when the site starts, with absolute URLs
that use the actual address and port.
"""

from __future__ import annotations

import errno
import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from html import escape as html_escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from corroborate.errors import ConfigError

DEFAULT_PORT = 8765
DEMO_COUNTRY = "XV"  # ISO 3166 user-assigned range: no real country can collide with it
_PORT_ATTEMPTS = 20

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class DemoOutlet:
    """A fictional outlet of the demo site."""

    id: str
    name: str
    address: str
    kind: str
    owner: str
    group: str
    state_media: bool
    feed: str  # "rss" | "atom"
    sitemap: str  # "plain" | "index"
    tagline: str

    @property
    def feed_path(self) -> str:
        return "/atom.xml" if self.feed == "atom" else "/feed.xml"

    @property
    def sitemap_path(self) -> str:
        return "/sitemap-index.xml" if self.sitemap == "index" else "/sitemap-news.xml"

    def base_url(self, port: int) -> str:
        return f"http://{self.address}:{port}"


@dataclass(frozen=True)
class DemoArticle:
    """One original, fictional article."""

    outlet: str  # DemoOutlet.id
    slug: str
    section: str
    published: datetime
    title: str
    author: str
    summary: str
    paragraphs: tuple[str, ...]
    role: str | None = None
    syndicated_from: str | None = None

    @property
    def path(self) -> str:
        d = self.published
        return f"/{self.section}/{d:%Y/%m/%d}/{self.slug}.html"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _demo_file(name: str) -> Any:
    return resources.files("corroborate").joinpath("data", "demo", name)


@lru_cache(maxsize=1)
def load_demo() -> tuple[tuple[DemoOutlet, ...], tuple[DemoArticle, ...]]:
    """The demo outlets and articles from ``data/demo/articles.json``."""
    try:
        data = json.loads(_demo_file("articles.json").read_text(encoding="utf-8"))
        outlets = tuple(
            DemoOutlet(
                id=o["id"],
                name=o["name"],
                address=o["address"],
                kind=o["kind"],
                owner=o["owner"],
                group=o.get("group", o["owner"]),
                state_media=bool(o.get("state_media", False)),
                feed=o["feed"],
                sitemap=o["sitemap"],
                tagline=o["tagline"],
            )
            for o in data["outlets"]
        )
        articles = tuple(
            DemoArticle(
                outlet=a["outlet"],
                slug=a["slug"],
                section=a["section"],
                published=datetime.fromisoformat(a["published"]),
                title=a["title"],
                author=a["author"],
                summary=a["summary"],
                paragraphs=tuple(a["paragraphs"]),
                role=a.get("role"),
                syndicated_from=a.get("syndicated_from"),
            )
            for a in data["articles"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"demo data articles.json is unusable: {exc!r}") from None
    return outlets, articles


def demo_article_text() -> str:
    """The article users check with ``corroborate article`` (title line, then paragraphs)."""
    text: str = _demo_file("article.txt").read_text(encoding="utf-8")
    return text


def demo_expected() -> dict[str, Any]:
    """The intended status and flags of each sentence of the demo article."""
    expected: dict[str, Any] = json.loads(_demo_file("expected.json").read_text(encoding="utf-8"))
    return expected


def _toml_str(value: str) -> str:
    # a JSON string is a valid TOML basic string (same escapes)
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def demo_outlets_toml(port: int = DEFAULT_PORT) -> str:
    """The demo outlets as an outlets file (the schema of ``outlets.toml``) for a site on ``port``."""
    outlets, _ = load_demo()
    lines = [
        "# FICTIONAL outlets of the corroborate demo news site (`corroborate demo-site`).",
        "# Nothing here is a real outlet; every one is served on a loopback address.",
        "",
    ]
    for o in outlets:
        base = o.base_url(port)
        lines += [
            "[[outlet]]",
            f"name = {_toml_str(o.name)}",
            f"domains = {_toml_list([o.address])}",
            f'country = "{DEMO_COUNTRY}"',
            'language = "en"',
            f"owner = {_toml_str(o.owner)}",
            f"group = {_toml_str(o.group)}",
            f"state_media = {'true' if o.state_media else 'false'}",
            f"kind = {_toml_str(o.kind)}",
            f"feeds = {_toml_list([base + o.feed_path])}",
            f"sitemaps = {_toml_list([base + o.sitemap_path])}",
            "fictional = true",
            "",
        ]
    return "\n".join(lines)


def write_demo_outlets(path: Path, port: int) -> Path:
    """Write :func:`demo_outlets_toml` for ``port`` to ``path``; returns ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(demo_outlets_toml(port), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write demo outlets file {path}: {exc.strerror or exc}") from None
    return path


# ---------------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    last_modified: datetime

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


def _rfc822(d: datetime) -> str:
    return format_datetime(d.astimezone(UTC), usegmt=True)


def _page(outlet: DemoOutlet, base: str, title: str, head: str, main: str) -> str:
    e = html_escape
    feed_type = "application/atom+xml" if outlet.feed == "atom" else "application/rss+xml"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="alternate" type="{feed_type}" title="{e(outlet.name)}" href="{base}{outlet.feed_path}">
{head}
</head>
<body>
<header class="site-header">
<a class="logo" href="{base}/">{e(outlet.name)}</a>
<nav><ul>
<li><a href="{base}/">Home</a></li>
<li><a href="{base}{outlet.feed_path}">Feed</a></li>
<li><a href="{base}/about.html">About</a></li>
</ul></nav>
</header>
<main>
{main}
</main>
<footer class="site-footer">
<p>{e(outlet.tagline)}</p>
<p>&copy; 2026 {e(outlet.name)}. A FICTIONAL outlet of the corroborate demo news site: the people, places
and events reported here are invented.</p>
</footer>
</body>
</html>
"""


def _article_page(outlet: DemoOutlet, base: str, article: DemoArticle, others: list[DemoArticle]) -> str:
    e = html_escape
    url = base + article.path
    iso = article.published.isoformat()
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "datePublished": iso,
            "author": {"@type": "Person", "name": article.author},
            "publisher": {"@type": "Organization", "name": outlet.name},
            "mainEntityOfPage": url,
        },
        ensure_ascii=False,
    ).replace("</", "<\\/")
    head = f"""<meta name="description" content="{e(article.summary)}">
<meta name="author" content="{e(article.author)}">
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(article.title)}">
<meta property="og:description" content="{e(article.summary)}">
<meta property="og:url" content="{url}">
<meta property="og:site_name" content="{e(outlet.name)}">
<meta property="og:locale" content="en_GB">
<meta property="article:published_time" content="{iso}">
<meta property="article:section" content="{e(article.section)}">
<script type="application/ld+json">{ld}</script>"""
    paragraphs = "\n".join(f"<p>{e(p)}</p>" for p in article.paragraphs)
    related = "\n".join(f'<li><a href="{base}{o.path}">{e(o.title)}</a></li>' for o in others[:4])
    main = f"""<article>
<h1>{e(article.title)}</h1>
<div class="byline">By <span class="author">{e(article.author)}</span>,
<time datetime="{iso}">{article.published:%d %B %Y, %H:%M}</time></div>
{paragraphs}
</article>
<aside class="related">
<h2>More from {e(outlet.name)}</h2>
<ul>
{related}
</ul>
</aside>"""
    return _page(outlet, base, f"{article.title} | {outlet.name}", head, main)


def _home_page(outlet: DemoOutlet, base: str, articles: list[DemoArticle]) -> str:
    e = html_escape
    items = "\n".join(
        f'<li><a href="{base}{a.path}">{e(a.title)}</a> <span class="summary">{e(a.summary)}</span></li>'
        for a in articles
    )
    head = f'<link rel="canonical" href="{base}/">\n<meta property="og:site_name" content="{e(outlet.name)}">'
    main = f'<h1>{e(outlet.name)}</h1>\n<p>{e(outlet.tagline)}</p>\n<ul class="headlines">\n{items}\n</ul>'
    return _page(outlet, base, outlet.name, head, main)


def _about_page(outlet: DemoOutlet, base: str) -> str:
    e = html_escape
    main = (
        f"<h1>About {e(outlet.name)}</h1>\n<p>{e(outlet.name)} is a fictional {e(outlet.kind.replace('_', ' '))} "
        f"owned by the fictional {e(outlet.owner)}. It exists only in the corroborate demo.</p>"
    )
    return _page(outlet, base, f"About | {outlet.name}", f'<link rel="canonical" href="{base}/about.html">', main)


def _rss(outlet: DemoOutlet, base: str, articles: list[DemoArticle]) -> str:
    x = xml_escape
    items = "".join(
        f"""
<item>
<title>{x(a.title)}</title>
<link>{base}{a.path}</link>
<guid isPermaLink="true">{base}{a.path}</guid>
<pubDate>{_rfc822(a.published)}</pubDate>
<dc:creator>{x(a.author)}</dc:creator>
<category>{x(a.section)}</category>
<description>{x(a.summary)}</description>
</item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{x(outlet.name)}</title>
<link>{base}/</link>
<description>{x(outlet.tagline)} (fictional demo outlet)</description>
<language>en</language>
<lastBuildDate>{_rfc822(articles[0].published)}</lastBuildDate>
<atom:link href="{base}{outlet.feed_path}" rel="self" type="application/rss+xml"/>{items}
</channel>
</rss>
"""


def _atom(outlet: DemoOutlet, base: str, articles: list[DemoArticle]) -> str:
    x = xml_escape
    entries = "".join(
        f"""
<entry>
<title>{x(a.title)}</title>
<id>{base}{a.path}</id>
<link rel="alternate" type="text/html" href="{base}{a.path}"/>
<published>{a.published.isoformat()}</published>
<updated>{a.published.isoformat()}</updated>
<author><name>{x(a.author)}</name></author>
<category term="{x(a.section)}"/>
<summary>{x(a.summary)}</summary>
</entry>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{x(outlet.name)}</title>
<subtitle>{x(outlet.tagline)} (fictional demo outlet)</subtitle>
<id>{base}/</id>
<updated>{articles[0].published.isoformat()}</updated>
<link rel="self" type="application/atom+xml" href="{base}{outlet.feed_path}"/>
<link rel="alternate" type="text/html" href="{base}/"/>{entries}
</feed>
"""


def _news_sitemap(outlet: DemoOutlet, base: str, articles: list[DemoArticle]) -> str:
    x = xml_escape
    urls = "".join(
        f"""
<url>
<loc>{base}{a.path}</loc>
<lastmod>{a.published.isoformat()}</lastmod>
<news:news>
<news:publication><news:name>{x(outlet.name)}</news:name><news:language>en</news:language></news:publication>
<news:publication_date>{a.published.isoformat()}</news:publication_date>
<news:title>{x(a.title)}</news:title>
</news:news>
</url>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}
</urlset>
"""


def _sitemap_index(base: str, children: list[tuple[str, datetime]]) -> str:
    entries = "".join(
        f"\n<sitemap>\n<loc>{base}{path}</loc>\n<lastmod>{when.isoformat()}</lastmod>\n</sitemap>"
        for path, when in children
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}
</sitemapindex>
"""


def build_site(outlet: DemoOutlet, port: int) -> dict[str, _Resource]:
    """Every path one outlet serves, rendered for ``port``."""
    _, all_articles = load_demo()
    articles = sorted((a for a in all_articles if a.outlet == outlet.id), key=lambda a: a.published, reverse=True)
    if not articles:
        raise ConfigError(f"demo outlet {outlet.name!r} has no articles")
    base = outlet.base_url(port)
    newest = articles[0].published
    site: dict[str, _Resource] = {}

    def put(path: str, text: str, content_type: str, when: datetime = newest) -> None:
        site[path] = _Resource(text.encode("utf-8"), content_type, when)

    home = _home_page(outlet, base, articles)
    put("/", home, HTML)
    put("/index.html", home, HTML)
    put("/about.html", _about_page(outlet, base), HTML)
    for article in articles:
        others = [a for a in articles if a is not article]
        put(article.path, _article_page(outlet, base, article, others), HTML, article.published)
    # robots.txt keeps crawlers out of /private/; the page exists so a crawler that ignores robots is caught
    put(
        "/private/drafts.html",
        _page(outlet, base, "Drafts", "", "<h1>Drafts</h1><p>Unpublished drafts: crawlers must not fetch this.</p>"),
        HTML,
    )
    put(
        outlet.feed_path,
        (_atom if outlet.feed == "atom" else _rss)(outlet, base, articles),
        ATOM if outlet.feed == "atom" else RSS,
    )
    if outlet.sitemap == "index":
        months: dict[str, list[DemoArticle]] = {}
        for a in articles:
            months.setdefault(f"/sitemaps/news-{a.published:%Y-%m}.xml", []).append(a)
        for path, group in months.items():
            put(path, _news_sitemap(outlet, base, group), XML, group[0].published)
        put(outlet.sitemap_path, _sitemap_index(base, [(p, g[0].published) for p, g in months.items()]), XML)
    else:
        put(outlet.sitemap_path, _news_sitemap(outlet, base, articles), XML)
    put(
        "/robots.txt",
        f"# {outlet.name} (fictional demo outlet)\n"
        f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}{outlet.sitemap_path}\n",
        TEXT,
    )
    return site


# ---------------------------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: dict[str, _Resource]
    address: str = ""
    log: Callable[[str], None] | None = None


def _not_modified(request: BaseHTTPRequestHandler, resource: _Resource) -> bool:
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or resource.etag in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return resource.last_modified.replace(microsecond=0) <= since
    return False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "corroborate-demo/1.0"

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, body: bool) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        resource = self.server.site.get(path)
        if resource is None:
            payload = (
                b"<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>404 Not found</h1></body></html>"
            )
            self.send_response(404)
            self.send_header("Content-Type", HTML)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)
            return
        status = 304 if _not_modified(self, resource) else 200
        self.send_response(status)
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", _rfc822(resource.last_modified))
        self.send_header("Cache-Control", "public, max-age=60")
        if status == 304:
            self.end_headers()
            return
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        if body:
            self.wfile.write(resource.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.server.address} {format % args}")


class DemoSite:
    """All demo outlets, each on its own loopback address and one shared port (0 = a free one)."""

    def __init__(self, port: int = DEFAULT_PORT, log: Callable[[str], None] | None = None) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"demo site port must be between 0 and 65535, got {port}")
        self._requested_port = port
        self._port: int | None = port or None
        self._log = log
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.outlets, _ = load_demo()

    @property
    def port(self) -> int:
        if self._port is None:
            raise ConfigError("the demo site picks its port when started; call start() first")
        return self._port

    @property
    def urls(self) -> dict[str, str]:
        """Outlet name -> home page URL."""
        return {o.name: o.base_url(self.port) + "/" for o in self.outlets}

    @property
    def feeds(self) -> dict[str, str]:
        """Outlet name -> feed URL."""
        return {o.name: o.base_url(self.port) + o.feed_path for o in self.outlets}

    @property
    def outlets_toml(self) -> str:
        return demo_outlets_toml(self.port)

    def article_url(self, slug: str) -> str:
        """The URL of the article with this slug."""
        _, articles = load_demo()
        by_id = {o.id: o for o in self.outlets}
        for a in articles:
            if a.slug == slug:
                return by_id[a.outlet].base_url(self.port) + a.path
        raise ConfigError(f"no demo article with slug {slug!r}")

    def _bind(self) -> list[_Server]:
        for _attempt in range(_PORT_ATTEMPTS):
            servers: list[_Server] = []
            port = self._requested_port
            try:
                for outlet in self.outlets:
                    servers.append(_Server((outlet.address, port), _Handler))
                    # the first bind picks the port when 0 was asked; every other address reuses it
                    port = servers[0].server_address[1]
                self._port = port
                return servers
            except OSError as exc:
                for server in servers:
                    server.server_close()
                address = self.outlets[len(servers)].address
                if exc.errno == errno.EADDRINUSE and self._requested_port == 0:
                    continue
                if exc.errno == errno.EADDRINUSE:
                    raise ConfigError(f"port {port} is in use on {address}; choose another with --port") from None
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise ConfigError(
                        f"cannot bind {address}: this system has no 127.0.0.x loopback aliases "
                        f"(on macOS: sudo ifconfig lo0 alias {address})"
                    ) from None
                raise ConfigError(f"cannot bind {address}:{port}: {exc.strerror or exc}") from None
        raise ConfigError(f"no port was free on all demo addresses after {_PORT_ATTEMPTS} attempts")

    def start(self) -> DemoSite:
        if self._servers:
            return self
        servers = self._bind()
        for outlet, server in zip(self.outlets, servers, strict=True):
            server.site = build_site(outlet, self.port)
            server.log = self._log
            server.address = outlet.address
        for outlet, server in zip(self.outlets, servers, strict=True):
            thread = threading.Thread(target=server.serve_forever, name=f"demo-site-{outlet.id}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._servers = servers
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []
        self._port = self._requested_port or None

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(port: int, log: Callable[[str], None], *, outlets_path: Path | None = None) -> None:
    """Serve the demo site until interrupted (Ctrl-C); ``outlets_path`` also writes its outlets file."""
    site = DemoSite(port, log=log).start()
    try:
        log(f"Demo news site (FICTIONAL outlets) on port {site.port}:")
        width = max(len(name) for name in site.urls)
        for name, url in site.urls.items():
            log(f"  {name:<{width}}  {url}  feed {site.feeds[name]}")
        if outlets_path is not None:
            write_demo_outlets(outlets_path, site.port)
            log(f"Outlets file for this site: {outlets_path}")
        log("Press Ctrl-C to stop.")
        threading.Event().wait()
    except KeyboardInterrupt:
        log("Stopping the demo site.")
    finally:
        site.stop()
