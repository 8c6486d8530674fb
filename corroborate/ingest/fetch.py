"""The polite, careful HTTP client every network read goes through.

Politeness: one User-Agent naming the project, robots.txt honoured (and its Crawl-delay; as RFC 9309
says, a robots.txt answering 4xx allows everything, one answering 5xx or 429 or not reachable at all
disallows the whole host until the next run), a
per-host concurrency limit and a minimum gap between request starts on one host, conditional
GETs so a re-run only transfers what changed, and retries with exponential backoff and full
jitter on transient failures only.

Safety: only http(s); every hop (redirects included, which we follow ourselves) is checked
against private/loopback/link-local/metadata addresses after DNS resolution, and each new
connection goes to an address checked in the same resolution (:class:`PinnedTransport`), so a
name that re-resolves to 127.0.0.1 between check and connect is refused; bodies are
streamed and cut at ``max_bytes`` (gzip bodies are inflated incrementally under the same cap);
content types are checked against what the caller expects.

Only :class:`TransientFetchError` and :class:`PermanentFetchError` leave :meth:`Fetcher.fetch`.
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import logging
import os
import random
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from protego import Protego

from corroborate.corpus.records import FetchResult
from corroborate.errors import (
    AddressRefusedError,
    FetchError,
    PermanentFetchError,
    RobotsUnavailableError,
    TransientFetchError,
)
from corroborate.ingest.netguard import check_url_allowed, check_url_allowed_async, resolve_checked_async, split_target
from corroborate.settings import Settings

__all__ = ["KINDS", "Fetcher", "PinnedTransport", "check_url_allowed", "fetch_url_sync"]

logger = logging.getLogger(__name__)

KINDS = frozenset({"page", "feed", "sitemap", "robots", "api"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
GZIP_MAGIC = b"\x1f\x8b"
# robots.txt is matched by product token; Protego compares it case-insensitively
ROBOTS_AGENT = "corroborate"
# a hostile Crawl-delay must not stall a run forever
MAX_CRAWL_DELAY_S = 60.0
# what httpx reads from the environment to send requests through a proxy
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# charset_normalizer "chaos" difference within which windows-1252 is preferred to the top guess
WESTERN_TIE = 0.05

_ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.1",
    "sitemap": "application/xml,text/xml;q=0.9,application/gzip;q=0.8,*/*;q=0.1",
    "robots": "text/plain,*/*;q=0.1",
    "api": "application/json,*/*;q=0.5",
}

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
_HTML_SNIFF = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _media_type(header: str | None) -> str | None:
    if not header:
        return None
    value = header.split(";", 1)[0].strip().lower()
    return value or None


def _header_charset(header: str | None) -> str | None:
    if not header:
        return None
    for param in header.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _type_allowed(kind: str, media: str | None) -> bool:
    """Whether a declared media type fits what ``kind`` expects (None = undeclared, sniffed later)."""
    if media is None:
        return True
    textual = media.startswith("text/") or "json" in media or "xml" in media
    if kind == "page":
        return media in {"text/html", "application/xhtml+xml"}
    if kind == "feed":
        return textual or "rss" in media or "atom" in media
    if kind == "sitemap":
        return textual or media in {"application/gzip", "application/x-gzip", "application/octet-stream"}
    if kind == "robots":
        return media.startswith("text/")
    return textual or media in {"application/javascript", "application/x-www-form-urlencoded"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # "charset=base64" or "rot13" name real codecs that are not text encodings
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:65536]
    if not sample:
        return False
    # a few stray bad bytes happen on real pages; a large share means the bytes were never text
    bad = sample.count("\ufffd") + sum(1 for ch in sample if ch < "\x20" and ch not in "\t\n\r\f")
    return bad / len(sample) > 0.02


def decode_body(body: bytes, content_type: str | None, kind: str) -> str:
    """Bytes to text: declared charset, then BOM / <meta> / XML declaration, then UTF-8, then a guess."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace")
    declared = _codec(_header_charset(content_type))
    if declared is None:
        head = body[:4096]
        match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
        declared = _codec(match.group(1).decode("ascii", "ignore")) if match else None
    if declared is not None:
        try:
            return body.decode(declared)
        except UnicodeDecodeError:
            # a wrong label (latin-1 served as utf-8) is common: guess below instead of mangling the text
            if declared not in {"utf-8", "utf_8", "utf8"}:
                return body.decode(declared, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        matches = from_bytes(body[:200_000])
        best = matches.best()
        if best is not None and best.encoding:
            # short Western text fits several single-byte code pages about equally well; windows-1252
            # is the web's legacy default (WHATWG), so it wins any near tie
            for guess in matches:
                if guess.chaos <= best.chaos + WESTERN_TIE and "cp1252" in guess.could_be_from_charset:
                    return body.decode("cp1252", errors="replace")
            return body.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - ships with requests, but stay usable without it
        pass
    # the HTML standard's fallback for undeclared legacy pages
    return body.decode("cp1252" if kind == "page" else "utf-8", errors="replace")


class _BodyCap:
    """Collects body bytes under a ``limit``, undoing Content-Encoding and a gzip body on the fly.

    Both layers inflate with ``max_length`` so a compression bomb is refused after at most
    ``limit`` bytes of output instead of being expanded in memory first (httpx's own decoder
    inflates each network chunk whole, which is why the raw stream is read instead).
    """

    def __init__(self, limit: int, url: str, content_encoding: str | None = None) -> None:
        self.limit = limit
        self.url = url
        self.buffer = bytearray()
        self._pending = b""
        self._started = False
        self._inflater: Any = None
        self.gzipped = False
        encoding = (content_encoding or "identity").strip().lower()
        self._encoding = encoding
        self._transfer: Any = None
        self._transfer_started = False
        if encoding not in {"identity", "gzip", "x-gzip", "deflate"}:
            raise PermanentFetchError(f"unsupported content encoding {encoding!r}", url=url)

    def _too_big(self) -> PermanentFetchError:
        what = "decompressed body" if self.gzipped or self._transfer is not None else "response"
        return PermanentFetchError(f"{what} larger than {self.limit} bytes", url=self.url)

    def _append(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > self.limit:
            raise self._too_big()

    def feed(self, chunk: bytes) -> None:
        if self._encoding == "identity":
            self._feed_body(chunk)
            return
        if not self._transfer_started:
            self._transfer_started = True
            if self._encoding == "deflate" and chunk and (chunk[0] & 0x0F) != 8:
                self._transfer = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            else:
                self._transfer = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header
        data = chunk
        while data and not self._transfer.eof:
            try:
                out = self._transfer.decompress(data, self.limit + 1)
            except zlib.error as exc:
                raise PermanentFetchError(f"corrupt {self._encoding} content encoding: {exc}", url=self.url) from None
            self._feed_body(out)
            data = self._transfer.unconsumed_tail

    def _feed_body(self, chunk: bytes) -> None:
        if not self._started:
            self._pending += chunk
            if len(self._pending) < 2:
                return
            self._started = True
            chunk, self._pending = self._pending, b""
            if chunk.startswith(GZIP_MAGIC):
                self.gzipped = True
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._inflater is None:
            self._append(chunk)
            return
        self._inflate(chunk)

    def _inflate(self, chunk: bytes) -> None:
        data = chunk
        while data:
            if self._inflater.eof:
                rest = self._inflater.unused_data + data
                if not rest.startswith(GZIP_MAGIC):
                    return  # trailing garbage after the last gzip member; gzip(1) ignores it too
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = rest
            room = self.limit - len(self.buffer) + 1
            try:
                out = self._inflater.decompress(data, room)
            except zlib.error as exc:
                raise PermanentFetchError(f"corrupt gzip body: {exc}", url=self.url) from None
            self._append(out)
            data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._transfer is not None and not self._transfer.eof:
            raise PermanentFetchError(f"truncated {self._encoding} content encoding", url=self.url)
        if not self._started:
            self._started = True
            self._append(self._pending)
        elif self._inflater is not None and not self._inflater.eof:
            raise PermanentFetchError("truncated gzip body", url=self.url)
        return bytes(self.buffer)


class NoTLSError(PermanentFetchError):
    """An https URL whose server answers in plain HTTP (a redirect to https on a plain port): retrying won't help."""


# what OpenSSL says when the other end answers a TLS hello in plain HTTP
_PLAIN_HTTP_SSL = ("wrong version number", "record layer failure", "packet length too long", "http request")


def _plain_http_answer(exc: BaseException, url: str) -> bool:
    if urlsplit(url).scheme != "https":
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if "ssl" in type(seen).__module__.lower() or "SSL" in str(seen):
            if any(sign in str(seen).lower() for sign in _PLAIN_HTTP_SSL):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses :mod:`corroborate.ingest.netguard` checked in the same lookup.

    httpcore hands the URL's host name to ``connect_tcp`` and uses that name, not the address,
    for TLS SNI and certificate checks; the Host header is set from the URL before that. So only
    the address changes: the one connected to is one that was checked.
    """

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked_async(host, port, self._allow_private)
        failure: httpcore.ConnectError | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:  # try the host's next address, as a resolver-driven connect would
                failure = exc
        assert failure is not None  # resolve_checked_async never returns an empty list
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - the fetcher never sets uds
        raise AddressRefusedError(f"refused unix socket {path!r}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with connections opened by :class:`_PinnedBackend` (closes DNS rebinding)."""

    def __init__(self, *, allow_private: bool, http2: bool, limits: httpx.Limits) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, http2=http2, limits=limits)
        # httpx builds its pool without a way to pass a network backend: rebuild it as
        # httpx.AsyncHTTPTransport.__init__ does (no proxy), with ours
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=_PinnedBackend(allow_private),
        )


@dataclass
class _Hop:
    """One HTTP exchange before redirects are followed."""

    status: int
    location: str | None = None
    body: bytes | None = None
    content_type: str | None = None  # media type only
    raw_content_type: str | None = None  # with parameters, for the charset
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    gap_lock: asyncio.Lock
    robots_lock: asyncio.Lock
    last_start: float = float("-inf")
    robots: Protego | None = None
    robots_loaded: bool = False
    crawl_delay: float = 0.0
    # why robots.txt could not be read (5xx, 429, timeout, network): the host is then disallowed
    robots_unavailable: str | None = None


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _host_key(url: str) -> str:
    scheme, host, port = split_target(url)
    return f"{scheme}://{host}:{port}"


class Fetcher:
    """Fetch URLs politely and safely; use as ``async with Fetcher(settings) as f: await f.fetch(url)``."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._log = log or logger.info
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(settings.total_concurrency)
        self._hosts: dict[str, _Host] = {}
        self.stats: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "not_modified": 0,
            "robots_denied": 0,
            "robots_unavailable": 0,  # requests not made: their host's robots.txt could not be read
            "redirects": 0,
            "refused": 0,
            "transient_errors": 0,
            "permanent_errors": 0,
            "bytes": 0,
        }
        self.requests_by_host: dict[str, int] = {}

    async def __aenter__(self) -> Fetcher:
        self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            try:
                import h2  # noqa: F401

                http2 = True
            except ImportError:  # pragma: no cover - h2 comes with httpx[http2]
                http2 = False
            s = self.settings
            limits = httpx.Limits(max_connections=s.total_concurrency, max_keepalive_connections=s.total_concurrency)
            transport = self._transport
            if transport is None and any(os.environ.get(name) for name in PROXY_VARIABLES):
                # httpx then sends requests through the proxy, as before; the proxy resolves names itself
                self._log("fetching through the proxy set in the environment: addresses are checked, not pinned")
            elif transport is None:
                transport = PinnedTransport(allow_private=s.allow_private, http2=http2, limits=limits)
            self._client = httpx.AsyncClient(
                http2=http2,
                transport=transport,
                follow_redirects=False,
                timeout=httpx.Timeout(s.timeout_s, connect=s.connect_timeout_s),
                limits=limits,
                # only what _BodyCap can inflate under the size cap
                headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._client

    def _host(self, url: str) -> _Host:
        key = _host_key(url)
        host = self._hosts.get(key)
        if host is None:
            host = _Host(asyncio.Semaphore(self.settings.per_host_concurrency), asyncio.Lock(), asyncio.Lock())
            self._hosts[key] = host
        return host

    def crawl_delay(self, url: str) -> float:
        """Seconds kept between request starts on ``url``'s host: max(robots Crawl-delay, per_host_delay_s)."""
        return max(self._host(url).crawl_delay, self.settings.per_host_delay_s)

    async def fetch(
        self,
        url: str,
        *,
        kind: str = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET ``url`` following up to ``max_redirects`` checked redirects; 200 with text, or 304."""
        if kind not in KINDS:
            raise PermanentFetchError(f"unknown fetch kind {kind!r}; expected one of {sorted(KINDS)}", url=url)
        try:
            return await self._fetch(url, kind, etag, last_modified)
        except TransientFetchError:
            self.stats["transient_errors"] += 1
            raise
        except PermanentFetchError:
            self.stats["permanent_errors"] += 1
            raise
        except FetchError as exc:  # pragma: no cover - every raise site picks a side
            raise PermanentFetchError(str(exc), url=url) from None
        except (httpx.HTTPError, OSError) as exc:
            # the contract is "only fetch errors leave fetch()": transport surprises count as transient
            self.stats["transient_errors"] += 1
            raise TransientFetchError(f"{type(exc).__name__}: {exc}", url=url) from None
        except (ValueError, LookupError) as exc:
            self.stats["permanent_errors"] += 1
            raise PermanentFetchError(f"unusable response: {type(exc).__name__}: {exc}", url=url) from None

    async def _fetch(self, url: str, kind: str, etag: str | None, last_modified: str | None) -> FetchResult:
        current = url
        seen = {url}
        redirects = 0
        while True:
            try:
                await check_url_allowed_async(current, self.settings.allow_private)
            except PermanentFetchError as exc:
                self.stats["refused"] += 1
                raise PermanentFetchError(str(exc), url=url) from None
            if kind != "robots" and self.settings.respect_robots:
                await self._check_robots(current, url)
            try:
                hop = await self._with_retries(current, kind, etag, last_modified)
            except NoTLSError as exc:
                if current != url:  # a redirect sent us there: say from where
                    raise NoTLSError(f"{exc} (redirected there from {url})", url=url) from None
                raise
            if hop.status in REDIRECT_STATUSES:
                if not hop.location:
                    raise PermanentFetchError(f"redirect {hop.status} without a Location header", url=url)
                target = urljoin(current, hop.location)
                redirects += 1
                self.stats["redirects"] += 1
                if target in seen:
                    raise PermanentFetchError(f"redirect loop at {target}", url=url)
                if redirects > self.settings.max_redirects:
                    raise PermanentFetchError(f"more than {self.settings.max_redirects} redirects", url=url)
                seen.add(target)
                current = target
                continue
            if hop.status == 304:
                self.stats["not_modified"] += 1
                return FetchResult(
                    url=url,
                    final_url=current,
                    status=304,
                    text=None,
                    content_type=hop.content_type,
                    etag=hop.etag or etag,
                    last_modified=hop.last_modified or last_modified,
                    redirects=redirects,
                )
            assert hop.body is not None
            text = self._decode(hop, kind, url)
            return FetchResult(
                url=url,
                final_url=current,
                status=200,
                text=text,
                content_type=hop.content_type,
                etag=hop.etag,
                last_modified=hop.last_modified,
                redirects=redirects,
            )

    def _decode(self, hop: _Hop, kind: str, url: str) -> str:
        assert hop.body is not None
        body = hop.body
        if kind == "page" and hop.content_type is None and not _HTML_SNIFF.search(body[:4096]):
            raise PermanentFetchError("response has no content type and does not look like HTML", url=url)
        text = decode_body(body, hop.raw_content_type, kind)
        if _looks_binary(text):
            raise PermanentFetchError(f"binary content under {hop.content_type or 'no content type'}", url=url)
        return text

    async def _with_retries(self, url: str, kind: str, etag: str | None, last_modified: str | None) -> _Hop:
        s = self.settings
        attempt = 0
        while True:
            try:
                return await self._attempt(url, kind, etag, last_modified)
            except TransientFetchError as exc:
                if attempt >= s.max_retries:
                    raise
                if exc.retry_after is not None:
                    if exc.retry_after > s.backoff_max_s:
                        # waiting longer would stall the run; the caller can come back later
                        raise
                    delay = exc.retry_after
                else:
                    delay = random.uniform(0.0, min(s.backoff_max_s, s.backoff_base_s * 2**attempt))
                attempt += 1
                self.stats["retries"] += 1
                self._log(f"retry {attempt}/{s.max_retries} of {url} in {delay:.2f}s: {exc}")
                await asyncio.sleep(delay)

    async def _start_slot(self, host: _Host, url: str) -> None:
        """Wait until the host's minimum gap since the previous request start has passed."""
        async with host.gap_lock:
            gap = max(host.crawl_delay, self.settings.per_host_delay_s)
            wait = host.last_start + gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            host.last_start = time.monotonic()

    async def _attempt(self, url: str, kind: str, etag: str | None, last_modified: str | None) -> _Hop:
        host = self._host(url)
        headers = {"Accept": _ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        client = self._open()
        # host first: requests queued for a busy host must not hold global slots other hosts could use
        async with host.semaphore, self._global:
            await self._start_slot(host, url)
            self.stats["requests"] += 1
            hostname = urlsplit(url).hostname or ""
            self.requests_by_host[hostname] = self.requests_by_host.get(hostname, 0) + 1
            try:
                async with asyncio.timeout(self.settings.timeout_s):
                    async with client.stream("GET", url, headers=headers) as response:
                        return await self._read(response, url, kind)
            except FetchError as exc:
                # raised by the pinned transport while connecting, before it knew the URL
                if isinstance(exc, AddressRefusedError):
                    self.stats["refused"] += 1
                exc.url = url
                raise
            except TimeoutError:
                raise TransientFetchError(f"timed out after {self.settings.timeout_s:g}s", url=url) from None
            except httpx.TimeoutException:
                raise TransientFetchError(f"timed out after {self.settings.timeout_s:g}s", url=url) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.DecodingError, httpx.TooManyRedirects) as exc:
                raise PermanentFetchError(f"{type(exc).__name__}: {exc}", url=url) from None
            except httpx.ConnectError as exc:
                if _plain_http_answer(exc, url):
                    port = urlsplit(url).port or 443
                    raise NoTLSError(f"{url} does not answer in TLS: the server on port {port} speaks plain HTTP "
                                     "(the URL says https)", url=url) from None
                raise TransientFetchError(f"ConnectError: {exc or 'connection failed'}", url=url) from None
            except httpx.HTTPError as exc:
                raise TransientFetchError(f"{type(exc).__name__}: {exc or 'connection failed'}", url=url) from None
            except OSError as exc:
                raise TransientFetchError(f"network error: {exc}", url=url) from None

    async def _read(self, response: httpx.Response, url: str, kind: str) -> _Hop:
        status = response.status_code
        headers = response.headers
        hop = _Hop(
            status=status,
            content_type=_media_type(headers.get("content-type")),
            raw_content_type=headers.get("content-type"),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
        )
        if status in REDIRECT_STATUSES:
            hop.location = headers.get("location")
            return hop
        if status == 304:
            return hop
        if status == 429:
            raise TransientFetchError(
                "HTTP 429 Too Many Requests",
                url=url,
                status=status,
                retry_after=_parse_retry_after(headers.get("retry-after")),
            )
        if status == 408 or status >= 500:
            retry_after = _parse_retry_after(headers.get("retry-after")) if status == 503 else None
            raise TransientFetchError(f"HTTP {status}", url=url, status=status, retry_after=retry_after)
        if status >= 400:
            raise PermanentFetchError(f"HTTP {status}", url=url, status=status)
        if status != 200:
            raise PermanentFetchError(f"unexpected HTTP {status}", url=url, status=status)
        if not _type_allowed(kind, hop.content_type):
            raise PermanentFetchError(f"unexpected content type {hop.content_type} for a {kind}", url=url)
        limit = self.settings.max_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise PermanentFetchError(f"response larger than {limit} bytes (Content-Length {declared})", url=url)
        cap = _BodyCap(limit, url, headers.get("content-encoding"))
        async for chunk in response.aiter_raw():
            self.stats["bytes"] += len(chunk)
            cap.feed(chunk)
        hop.body = cap.finish()
        return hop

    async def _check_robots(self, url: str, original: str) -> None:
        host = self._host(url)
        if not host.robots_loaded:
            async with host.robots_lock:
                if not host.robots_loaded:
                    await self._load_robots(url, host)
        if host.robots_unavailable is not None:
            self.stats["robots_unavailable"] += 1
            raise RobotsUnavailableError(host.robots_unavailable, url=original)
        if host.robots is not None and not host.robots.can_fetch(url, ROBOTS_AGENT):
            self.stats["robots_denied"] += 1
            raise PermanentFetchError("disallowed by robots.txt", url=original)

    async def _load_robots(self, url: str, host: _Host) -> None:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            result = await self._fetch(robots_url, "robots", None, None)
            host.robots = Protego.parse(result.text or "")
            delay = host.robots.crawl_delay(ROBOTS_AGENT)
            if delay:
                host.crawl_delay = min(float(delay), MAX_CRAWL_DELAY_S)
        except PermanentFetchError as exc:
            # 4xx (404, 401, 403, 410 ...) is "unavailable" in RFC 9309 (2.3.1.3): everything is allowed.
            # A robots.txt too big, of a wrong type or redirected in a loop is unusable, and allowed too.
            host.robots = None
            if exc.status is None:
                self._log(f"robots.txt of {parts.netloc} unusable, fetching as allowed: {exc}")
        except TransientFetchError as exc:
            # 5xx, timeouts and network errors (after the fetcher's retries) are "unreachable" in RFC 9309
            # (2.3.1.4): assume complete disallow. 429 is a 4xx code, but a server that throttles its
            # robots.txt asks us to slow down, not to go ahead (Google treats it so too); RFC 9309's
            # "MAY access" for 4xx allows that choice. Logged here, once per host and fetcher (run).
            host.robots = None
            host.robots_unavailable = (
                f"robots.txt of {parts.netloc} unreachable ({exc}): nothing is fetched from that host "
                "until the next run"
            )
            self._log(host.robots_unavailable)
        host.robots_loaded = True


def fetch_url_sync(url: str, settings: Settings, kind: str = "page") -> FetchResult:
    """Fetch one URL from synchronous code (the ``corroborate article URL`` command)."""

    async def run() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url, kind=kind)

    return asyncio.run(run())
