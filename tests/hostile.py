"""Misbehaving servers and a killable ingest process for the hardening tests.

Each hostile outlet gets a loopback address of its own (127.0.0.x), so the fetcher's per-host
state (robots.txt, limits) is separate for each, as it would be for real outlets. Run as a script
(``python tests/hostile.py ingest --home H --outlets F``) it is the ingest a test can SIGKILL: the
library steps only, no Prefect, so a kill lands in our code instead of in a flow engine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIFTY_MB = 50 * 1024 * 1024
GZIP_BOMB_BYTES = 200 * 1024 * 1024
HANG_S = 30.0  # longer than any fetch timeout the tests use; threads are daemons and end with the server

Route = Callable[["_Handler"], None]


# -- a programmable HTTP server on one loopback address ---------------------------------------------


@dataclass
class Hit:
    path: str
    start: float
    status: int


class HostileServer:
    """A threaded HTTP/1.1 server on ``host`` whose paths are answered by ``routes``."""

    def __init__(self, host: str, routes: dict[str, Route] | None = None) -> None:
        self.host = host
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def start(self) -> HostileServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.base_url = f"http://{self.host}:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, name=f"hostile-{self.host}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def hit_paths(self) -> list[str]:
        with self._lock:
            return [h.path for h in self.hits]

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)


class _Handler(BaseHTTPRequestHandler):
    server_owner: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
        pass

    def handle(self) -> None:
        # the client hangs up on purpose (size caps, timeouts); that is the point of these routes
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            super().handle()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        route = self.server_owner.routes.get(path)
        self.server_owner._record(Hit(self.path, time.monotonic(), 0 if route else 404))
        if route is None:
            send(self, 404, b"not found", "text/plain")
            return
        route(self)


def send(h: _Handler, status: int, body: bytes = b"", ctype: str | None = None, **headers: str) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    for key, value in headers.items():
        h.send_header(key.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if body:
        h.wfile.write(body)


# -- responders ---------------------------------------------------------------------------------------


def static(body: bytes, ctype: str, status: int = 200, **headers: str) -> Route:
    return lambda h: send(h, status, body, ctype, **headers)


def rss(urls: Sequence[str], title: str = "Feed") -> bytes:
    when = format_datetime(_now(), usegmt=True)
    items = "".join(
        f"<item><title>Item {i}</title><link>{escape(u)}</link><pubDate>{when}</pubDate></item>\n"
        for i, u in enumerate(urls)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://example.invalid/</link><description>test</description>\n{items}</channel></rss>\n"
    ).encode()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def robots_disallow_all() -> Route:
    return static(b"User-agent: *\nDisallow: /\n", "text/plain")


def hang(seconds: float = HANG_S) -> Route:
    """Headers never come: a server that accepted the request and went silent."""

    def route(h: _Handler) -> None:
        time.sleep(seconds)

    return route


def always_429(retry_after: str = "1") -> Route:
    return static(b"slow down", "text/plain", 429, Retry_After=retry_after)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, Location=location)


def stream(total: int, ctype: str, declare_length: bool) -> Route:
    """``total`` bytes of HTML paragraphs, written in 64 KiB chunks as long as the client reads."""

    def route(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        if declare_length:
            h.send_header("Content-Length", str(total))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        chunk = b"<p>" + b"word " * 13_106 + b"</p>\n"
        sent = 0
        while sent < total:
            piece = chunk[: total - sent]
            h.wfile.write(piece)
            sent += len(piece)

    return route


def gzip_bomb(size: int = GZIP_BOMB_BYTES) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    return b"".join([*(compressor.compress(zeros) for _ in range(size // len(zeros))), compressor.flush()])


def xml_bomb(link: str) -> bytes:
    lol = ['<!ENTITY lol "lol">']
    lol += [f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(lol) + "\n]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>bomb</title>'
        f"<link>{link}</link></item></channel></rss>\n"
    ).encode()


CAFE = (
    "Café society returns to the riverside: the naïve façade of the old crêperie, closed since the "
    "flood, reopened on Saturday. Señora Muñoz, who ran it for thirty years, said the déjà vu was "
    "overwhelming, and handed out piña colada samples to the queue that formed before dawn."
)


def latin1_page(variant: str) -> bytes:
    return (
        f"<!DOCTYPE html>\n<html><head><title>Café reopens ({variant})</title></head><body><article>"
        f"<p>This is the {variant} edition of the story.</p>"
        + "".join(f"<p>{CAFE}</p>\n" for _ in range(3))
        + "</article></body></html>\n"
    ).encode("latin-1")


class Blackhole:
    """A TCP listener that accepts connections and never says a word."""

    def __init__(self, host: str) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.base_url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self.accepted = 0
        threading.Thread(target=self._run, name=f"blackhole-{host}", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._held.append(conn)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self._stop.set()
        for conn in self._held:
            conn.close()
        self._sock.close()


# -- the hostile outlet set ---------------------------------------------------------------------------


@dataclass
class OutletSpec:
    name: str
    domain: str
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def outlet_toml(spec: OutletSpec) -> str:
    return (
        "[[outlet]]\n"
        f"name = {json.dumps(spec.name)}\n"
        f"domains = [{json.dumps(spec.domain)}]\n"
        'country = "INT"\nlanguage = "en"\n'
        f"owner = {json.dumps(spec.name + ' owner')}\n"
        'kind = "digital"\nfictional = true\n'
        f"feeds = [{', '.join(json.dumps(u) for u in spec.feeds)}]\n"
        f"sitemaps = [{', '.join(json.dumps(u) for u in spec.sitemaps)}]\n"
    )


@dataclass
class HostileWorld:
    """Every server of the hostile set, the outlets file that lists them, and what each bad URL is."""

    servers: list[HostileServer]
    blackhole: Blackhole
    outlets: list[OutletSpec]
    bad_pages: dict[str, str]  # url -> what is wrong with it (page level: fetch log via CorpusWriter)
    bad_sources: dict[str, str]  # feed/sitemap url -> what is wrong (discovery level)
    survivable_pages: dict[str, str]  # odd but readable pages: stored or skipped, never lost silently
    healthy_pages: list[str]
    healthy_outlet: str

    def toml(self) -> str:
        return "\n".join(outlet_toml(o) for o in self.outlets)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        self.blackhole.stop()


class FeedServer(HostileServer):
    """Serves /feed.xml listing ``listed``; tests append to it between runs to publish more."""

    def __init__(self, host: str, listed: Sequence[str]) -> None:
        super().__init__(host)
        self.listed = list(listed)
        self.routes["/feed.xml"] = lambda h: send(h, 200, rss(self.listed), "application/rss+xml")


def healthy_feed_server(page_urls: Sequence[str], host: str = "127.0.0.1") -> FeedServer:
    """A feed listing some NewsSite pages; with ``host`` 127.0.0.1 they are on the outlet's own domain."""
    server = FeedServer(host, page_urls)
    server.start()
    return server


@contextlib.contextmanager
def serving(page_urls: Sequence[str]) -> Iterator[FeedServer]:
    """A healthy feed of ``page_urls`` for the length of a ``with`` block (a test fixture's body)."""
    server = healthy_feed_server(page_urls)
    try:
        yield server
    finally:
        server.stop()


def one_outlet_file(folder: Path, feed: FeedServer, name: str) -> Path:
    """``folder``/outlets.toml with one outlet, ``name``, on 127.0.0.1 reading ``feed``."""
    path = folder / "outlets.toml"
    path.write_text(outlet_toml(OutletSpec(name, "127.0.0.1", feeds=[feed.url("/feed.xml")])))
    return path


def build_world(healthy_pages: Sequence[str]) -> HostileWorld:
    """Hostile outlets on 127.0.0.2-127.0.0.6 and one healthy outlet on 127.0.0.1 (NewsSite pages)."""
    bomb = gzip_bomb()
    healthy = healthy_feed_server(healthy_pages)
    pages = HostileServer("127.0.0.2").start()
    feeds = HostileServer("127.0.0.3").start()
    robots = HostileServer("127.0.0.4").start()
    storm = HostileServer("127.0.0.6").start()
    hole = Blackhole("127.0.0.5")

    bad_page_routes: dict[str, tuple[Route, str]] = {
        "/huge-declared.html": (stream(FIFTY_MB, "text/html; charset=utf-8", True), "50 MB page, Content-Length"),
        "/huge-chunked.html": (stream(FIFTY_MB, "text/html; charset=utf-8", False), "50 MB page, no length"),
        "/binary.html": (static(os.urandom(64 * 1024), "text/html"), "random bytes as text/html"),
        "/image.html": (static(b"\x89PNG\r\n\x1a\n" + os.urandom(2048), "image/png"), "image under a page URL"),
        "/loop-a.html": (redirect("/loop-b.html"), "redirect loop"),
        "/loop-b.html": (redirect("/loop-a.html"), "redirect loop"),
        "/to-metadata.html": (redirect("http://169.254.169.254/latest/meta-data/"), "redirect to cloud metadata"),
        # with allow_private on (loopback tests), only addresses refused even then may be targets:
        # a redirect into a real private network would reach whatever lives there
        "/to-unspecified.html": (redirect("http://0.0.0.0:9/"), "redirect to 0.0.0.0"),
        "/to-metadata-v6.html": (redirect("http://[fd00:ec2::254]/latest/"), "redirect to IPv6 cloud metadata"),
        "/hang.html": (hang(), "accepts, never answers"),
        "/ratelimited.html": (always_429(), "429 storm"),
        "/gzip-bomb.html": (static(bomb, "text/html; charset=utf-8", Content_Encoding="gzip"), "gzip bomb"),
        "/gone.html": (static(b"gone", "text/plain", 410), "410 Gone"),
    }
    survivable_routes: dict[str, tuple[Route, str]] = {
        "/nocharset.html": (static(latin1_page("plain"), "text/html"), "latin-1 without any charset"),
        "/wrongcharset.html": (
            static(latin1_page("mislabelled"), "text/html; charset=utf-8"), "latin-1 declared as UTF-8"
        ),
        "/bogus-charset.html": (static(latin1_page("bogus"), "text/html; charset=x-no-such-codec"), "unknown charset"),
    }
    for path, (route, _) in {**bad_page_routes, **survivable_routes}.items():
        pages.routes[path] = route
    listed = [pages.url(p) for p in [*bad_page_routes, *survivable_routes] if p != "/loop-b.html"]
    pages.routes["/feed.xml"] = static(rss(listed, "Hostile pages"), "application/rss+xml")

    feeds.routes.update(
        {
            "/malformed.xml": static(b"<?xml version='1.0'?><rss><channel><item><link>x</channel>", "text/xml"),
            "/xml-bomb.xml": static(xml_bomb(feeds.url("/a.html")), "application/rss+xml"),
            "/not-a-feed.xml": static(b"<html><body>hello</body></html>", "text/html"),
            "/binary-feed.xml": static(os.urandom(4096), "application/rss+xml"),
            "/sitemap-bomb.xml.gz": static(bomb, "application/x-gzip"),
            "/sitemap-malformed.xml": static(b"<urlset><url><loc>", "application/xml"),
            "/sitemap-hang.xml": hang(),
        }
    )
    robots.routes["/robots.txt"] = robots_disallow_all()
    robots.routes["/feed.xml"] = static(rss([robots.url("/news/1.html")]), "application/rss+xml")
    storm.routes["/feed.xml"] = always_429()
    storm.routes["/robots.txt"] = always_429()

    outlets = [
        OutletSpec("Healthy Herald", "127.0.0.1", feeds=[healthy.url("/feed.xml")]),
        OutletSpec("Hostile Pages", "127.0.0.2", feeds=[pages.url("/feed.xml")]),
        OutletSpec(
            "Hostile Feeds",
            "127.0.0.3",
            feeds=[feeds.url(p) for p in ("/malformed.xml", "/xml-bomb.xml", "/not-a-feed.xml", "/binary-feed.xml")],
            sitemaps=[feeds.url(p) for p in ("/sitemap-bomb.xml.gz", "/sitemap-malformed.xml", "/sitemap-hang.xml")],
        ),
        OutletSpec("Robots Deny", "127.0.0.4", feeds=[robots.url("/feed.xml")]),
        OutletSpec("Black Hole", "127.0.0.5", feeds=[hole.url("/feed.xml")], sitemaps=[hole.url("/sitemap.xml")]),
        OutletSpec("Rate Limited", "127.0.0.6", feeds=[storm.url("/feed.xml")]),
    ]
    bad_sources = {
        feeds.url("/malformed.xml"): "malformed RSS",
        feeds.url("/xml-bomb.xml"): "entity-expansion bomb",
        feeds.url("/not-a-feed.xml"): "HTML instead of a feed",
        feeds.url("/binary-feed.xml"): "random bytes as RSS",
        feeds.url("/sitemap-bomb.xml.gz"): "gzip bomb sitemap",
        feeds.url("/sitemap-malformed.xml"): "malformed sitemap",
        feeds.url("/sitemap-hang.xml"): "sitemap that never answers",
        robots.url("/feed.xml"): "robots.txt Disallow: /",
        hole.url("/feed.xml"): "host accepts TCP, never answers",
        hole.url("/sitemap.xml"): "host accepts TCP, never answers",
        storm.url("/feed.xml"): "429 storm",
    }
    return HostileWorld(
        servers=[healthy, pages, feeds, robots, storm],
        blackhole=hole,
        outlets=outlets,
        bad_pages={pages.url(p): why for p, (_, why) in bad_page_routes.items() if p != "/loop-b.html"},
        bad_sources=bad_sources,
        survivable_pages={pages.url(p): why for p, (_, why) in survivable_routes.items()},
        healthy_pages=list(healthy_pages),
        healthy_outlet="Healthy Herald",
    )


# -- measuring -----------------------------------------------------------------------------------------


def rss_kib() -> int:
    """Current resident set of this process, KiB (from /proc, so it is now, not the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # pragma: no cover - Linux only


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- the ingest, as library steps (also the child process the crash tests kill) ---------------------------


@dataclass
class IngestResult:
    outcomes: dict[str, str]  # url -> outcome
    discovery_errors: list[tuple[str, str]]
    index_count: int
    passages: int
    documents: int
    sync_reason: str


def run_ingest(
    settings: Any,
    outlets_file: Path,
    *,
    lock_timeout: float = 0.0,
    phase: Callable[[str], None] = lambda _p: None,
    hold_s: float = 0.0,
    embedder: Any = None,
) -> IngestResult:
    """discover → fetch → extract (no lock) → write + sync_index under the writer lock, like the flow.

    Discovery failures go to the fetch log too (kind feed/sitemap), which is what the flow should do;
    see test_harden_sources for the flow's own behaviour.
    """
    from corroborate.corpus.index import sync_index
    from corroborate.corpus.lock import writer_lock
    from corroborate.corpus.store import Store
    from corroborate.ingest.discover import discover_outlet
    from corroborate.ingest.fetch import Fetcher
    from corroborate.ingest.outlets import load_outlets
    from corroborate.ingest.steps import CorpusWriter, candidates_for_known, extract_pages, fetch_pages_sync

    outlets = load_outlets(outlets_file)
    phase("discover")

    async def discover_all() -> list[Any]:
        async with Fetcher(settings) as fetcher:
            return list(await asyncio.gather(*(discover_outlet(o, fetcher, settings) for o in outlets)))

    found = asyncio.run(discover_all())
    candidates = [c for d in found for c in d.candidates]
    errors = [(src, why) for d in found for src, why in d.errors]
    with Store(settings.store_path) as store:
        validators = candidates_for_known(store, candidates)
    phase("fetch")
    pages = fetch_pages_sync(candidates, settings, validators)
    phase("extract")
    items = extract_pages(pages, settings)
    outcomes: dict[str, str] = {}
    with writer_lock(settings.home, timeout=lock_timeout, what="hostile ingest"), Store(settings.store_path) as store:
        run_id = store.start_run("ingest", {"outlets_file": str(outlets_file)})
        phase("write")
        writer = CorpusWriter(store, settings, run_id)
        writer.register_outlets(outlets)
        by_name = {d.outlet: d for d in found}
        for o in outlets:
            for src, why in by_name[o.name].errors:
                kind = "sitemap" if src in o.sitemaps or "sitemap" in src else "feed"
                store.record_fetch(src, "failed", run_id=run_id, outlet=o.name, kind=kind, reason=why)
        for n, item in enumerate(items):
            outcome = writer.write(item)
            outcomes[outcome.url] = outcome.outcome
            phase(f"wrote {n}")
            if hold_s:
                time.sleep(hold_s)
        phase("embed")
        if embedder is None:
            from corroborate.corpus.embed import load_embedder

            embedder = load_embedder()
        phase("sync")
        index, report = sync_index(store, embedder, settings)
        phase("synced")
        store.finish_run(run_id, "completed", {"documents": store.document_count()})
        return IngestResult(outcomes, errors, index.count, store.passage_count(), store.document_count(),
                            report.reason)


def _crash_before_manifest() -> None:
    """SIGKILL this process after the new index file is renamed in, before its manifest is written."""
    import corroborate.corpus.index as index_module

    real = index_module._atomic_write

    def crash(path: Path, text: str) -> None:
        if path.name == index_module.MANIFEST_FILE:
            os.kill(os.getpid(), signal.SIGKILL)
        real(path, text)

    index_module._atomic_write = crash


def _crash_while_writing_index() -> None:
    """SIGKILL this process halfway through writing the index temp file (before any rename)."""
    import corroborate.corpus.index as index_module

    faiss = index_module._faiss()
    real = faiss.write_index

    def crash(index: Any, path: str) -> None:
        real(index, path)
        with open(path, "r+b") as f:  # a torn write: half the bytes made it to disk
            f.truncate(os.path.getsize(path) // 2)
        os.kill(os.getpid(), signal.SIGKILL)

    faiss.write_index = crash


HERE = Path(__file__).resolve()


def child_env(**more: str) -> dict[str, str]:
    """Environment for an ingest child: loopback allowed, fast timeouts, nothing inherited from the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CORROBORATE_", "PREFECT_")) or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update(
        CORROBORATE_ALLOW_PRIVATE="1",
        CORROBORATE_PER_HOST_DELAY_S="0",
        CORROBORATE_TIMEOUT_S="5",
        CORROBORATE_MAX_RETRIES="1",
        CORROBORATE_BACKOFF_MAX_S="1",
        CORROBORATE_PER_HOST_CONCURRENCY="4",
    )
    env.update(more)
    return env


def spawn_ingest(home: Path, outlets: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE), "ingest", "--home", str(home), "--outlets", str(outlets), *extra],
        cwd=HERE.parents[1], env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], wanted: str, timeout: float = 300.0) -> bool:
    """Read the child's stdout until a line equals ``wanted``; False if it exited first."""
    assert proc.stdout is not None
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        return any(line.rstrip("\n") == wanted for line in proc.stdout)
    finally:
        watchdog.cancel()


def finish(proc: subprocess.Popen[str], timeout: float = 300.0) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def result_of(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            parsed: dict[str, Any] = json.loads(line[len("RESULT "):])
            return parsed
    raise AssertionError(f"the child printed no RESULT line:\n{stdout[-2000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hostile.py")
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest")
    ing.add_argument("--home", required=True)
    ing.add_argument("--outlets", required=True)
    ing.add_argument("--lock-timeout", type=float, default=0.0)
    ing.add_argument("--hold-s", type=float, default=0.0, help="sleep after each written item (keeps the lock)")
    ing.add_argument("--crash", choices=["none", "before-manifest", "index-write"], default="none")
    args = parser.parse_args(argv)

    from corroborate.errors import CorroborateError
    from corroborate.settings import load_settings

    # the parent passes CORROBORATE_* (allow_private, short timeouts) through the environment
    settings = load_settings({"home": Path(args.home)})
    if args.crash == "before-manifest":
        _crash_before_manifest()
    elif args.crash == "index-write":
        _crash_while_writing_index()

    def phase(name: str) -> None:
        print(f"PHASE {name}", flush=True)

    phase("start")
    try:
        result = run_ingest(settings, Path(args.outlets), lock_timeout=args.lock_timeout, phase=phase,
                            hold_s=args.hold_s)
    except CorroborateError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    print("RESULT " + json.dumps(result.__dict__), flush=True)
    return 0


__all__ = [
    "FIFTY_MB", "Blackhole", "FeedServer", "HostileServer", "HostileWorld", "IngestResult", "build_world", "child_env",
    "finish", "healthy_feed_server", "open_fds", "result_of", "rss", "rss_kib", "run_ingest", "send", "spawn_ingest",
    "static", "wait_for_line",
]


if __name__ == "__main__":
    sys.exit(main())
