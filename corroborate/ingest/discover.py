"""Discovery: feeds, news sitemaps and the GDELT DOC 2.0 API → candidate article URLs.

The parsers are pure functions on fetched text; the two async functions only fetch and combine.
Feeds and sitemaps are asked for with a conditional GET when the caller passes the validators
(ETag, Last-Modified) they answered with last time; one that answers 304 lists nothing new, so it
yields no candidates (its articles were handled when it last changed). The validators each source
answers with come back in :attr:`OutletDiscovery.validators` for the caller to keep.
XML goes through defusedxml, so entity bombs and external entities fail as malformed input
instead of eating memory or reaching the network. Every date comes out timezone-aware UTC.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urljoin, urlsplit

import defusedxml
import defusedxml.ElementTree as DET
import lxml.etree  # type: ignore[import-untyped,unused-ignore]
import lxml.html  # type: ignore[import-untyped,unused-ignore]

from corroborate.corpus.dedup import canonicalize_url
from corroborate.corpus.records import Candidate
from corroborate.errors import ConfigError, CorroborateError, ExtractionError, PermanentFetchError, TransientFetchError
from corroborate.settings import Settings

if TYPE_CHECKING:
    from corroborate.ingest.fetch import Fetcher
    from corroborate.ingest.outlets import Outlet, OutletRegistry

# A sitemap index of an index of sitemaps is as deep as real sites go; deeper is a loop or a trap.
MAX_SITEMAP_DEPTH = 2
# Child sitemaps followed per index, newest first: big sites list thousands of daily archives.
MAX_CHILD_SITEMAPS = 50

_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_GDELT_DATE = re.compile(r"^(\d{8})T?(\d{6})Z?$")
# Words of GDELT's 200-status HTML answers that blame the query ("phrase that was too short", ...).
_QUERY_COMPLAINTS = ("query", "phrase", "keyword", "search", "too short", "too long", "invalid")
_TAG = re.compile(r"<[^>]*>")  # only used to quote an error page in a one-line message


@dataclass
class SourceOutcome:
    """What one listed feed or sitemap gave a discovery: its answer, items and newest date.

    ``corroborate.ingest.health`` turns these into source health (dead, stale, ok), so a check and every
    ingest report the same thing from the same requests.
    """

    url: str
    kind: str  # "feed" | "sitemap"
    status: int | None = None  # HTTP status of the source's own answer (304: unchanged); None when none came
    items: int = 0  # article URLs it listed (a sitemap index: in the child sitemaps read)
    dated: int = 0  # of which carry a publication (or lastmod) date
    newest: datetime | None = None
    children: int = 0  # child sitemaps read, for a sitemap index
    # why the source itself failed: "http" (an error status), "robots" (robots.txt disallows it),
    # "unreachable" (timeouts, 5xx, network: worth another try), "unusable" (too big, wrong type, a
    # refused address), "malformed" (not a feed or sitemap)
    problem: str | None = None
    error: str | None = None  # the failure's message
    not_modified: bool = False  # answered 304 to a conditional GET: nothing new since the last run

    def count(self, candidates: Iterable[Candidate]) -> None:
        for c in candidates:
            self.items += 1
            if c.published is not None:
                self.dated += 1
                if self.newest is None or c.published > self.newest:
                    self.newest = c.published

    def failed(self, exc: CorroborateError) -> None:
        self.error = str(exc)
        status = getattr(exc, "status", None)
        if status is not None:
            self.status = status
        if isinstance(exc, ExtractionError):
            self.problem = "malformed"
        elif isinstance(exc, TransientFetchError):
            self.problem = "unreachable"
        elif status is not None:
            self.problem = "http"
        elif "robots.txt" in self.error:
            self.problem = "robots"
        else:
            self.problem = "unusable"


@dataclass
class OutletDiscovery:
    """What one outlet's feeds and sitemaps yielded, and which of them failed and why."""

    outlet: str
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source url, reason)
    sources: list[SourceOutcome] = field(default_factory=list)  # one per listed feed and sitemap
    # (ETag, Last-Modified) every feed and sitemap (child sitemaps too) answered with, for the next
    # run's conditional GET; the caller keeps them only once the pages they listed are stored
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    not_modified: list[str] = field(default_factory=list)  # feeds and sitemaps that answered 304
    fetched: int = 0  # feeds and sitemaps that answered 200 (child sitemaps too)
    credentials_removed: int = 0  # listed URLs that carried user:password@ (dropped before any fetch)


# -- helpers ---------------------------------------------------------------------------------


def _local(tag: object) -> str:
    """Tag name without its namespace (comments and processing instructions have no str tag)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    for name in names:
        for child in element:
            if _local(child.tag) == name:
                return child
    return None


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso_date(value: str | None) -> datetime | None:
    """ISO 8601 / W3C datetime (date-only means midnight UTC; no offset means UTC); None if unparseable."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def parse_rfc822_date(value: str | None) -> datetime | None:
    """RSS pubDate (RFC 822/2822); falls back to ISO 8601, which some feeds put there."""
    if not value:
        return None
    try:
        return _utc(parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return parse_iso_date(value)


# URLs listed with credentials (user:password@) during one outlet's discovery: canonicalize_url drops
# them (never fetched with, stored or shown); the count goes to the run summary. A list, so the tasks
# asyncio.gather starts (each with a copy of the context) add to the same one.
_CREDENTIALS_REMOVED: ContextVar[list[int] | None] = ContextVar("credentials_removed", default=None)


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    try:
        url = urljoin(base, link.strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    tally = _CREDENTIALS_REMOVED.get()
    if tally is not None and "@" in parts.netloc:
        tally[0] += 1
    return canonicalize_url(url)


def _xml_root(text: str, what: str, url: str) -> ET.Element:
    if "\x00" in text:
        raise ExtractionError(f"malformed {what} (binary content): {url}")
    try:
        root = DET.fromstring(text.lstrip("\ufeff \t\r\n"), forbid_dtd=False)
    except defusedxml.DefusedXmlException as exc:
        raise ExtractionError(f"malformed {what} (refused {type(exc).__name__}): {url}") from None
    except ET.ParseError as exc:
        raise ExtractionError(f"malformed {what} ({exc}): {url}") from None
    except (ValueError, LookupError, UnicodeError, RecursionError) as exc:
        raise ExtractionError(f"malformed {what} ({type(exc).__name__}): {url}") from None
    if not isinstance(root, ET.Element):
        raise ExtractionError(f"malformed {what}: {url}")
    return root


def _dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """First occurrence wins; a later one fills in a title or date the first lacked."""
    seen: dict[str, Candidate] = {}
    for cand in candidates:
        first = seen.get(cand.url)
        if first is None:
            seen[cand.url] = cand
        elif (first.title is None and cand.title) or (first.published is None and cand.published):
            seen[cand.url] = replace(
                first, title=first.title or cand.title, published=first.published or cand.published
            )
    return list(seen.values())


def _newest(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """At most ``limit`` candidates, newest first when cut (undated ones last), else in source order."""
    if len(candidates) <= limit:
        return candidates
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(candidates, key=lambda c: c.published or floor, reverse=True)
    return ranked[:limit]


def _since_filter(candidates: list[Candidate], since: datetime | None) -> list[Candidate]:
    if since is None:
        return candidates
    cutoff = _utc(since)
    return [c for c in candidates if c.published is None or c.published >= cutoff]


# -- feeds -----------------------------------------------------------------------------------


def parse_feed(text: str, feed_url: str, outlet: str) -> list[Candidate]:
    """Candidates from an RSS 2.0 / RSS 1.0 / Atom / JSON Feed document (detected from the content)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise ExtractionError(f"empty feed: {feed_url}")
    if stripped[0] in "{[":
        return _dedupe(_parse_json_feed(stripped, feed_url, outlet))
    root = _xml_root(stripped, "feed", feed_url)
    kind = _local(root.tag)
    if kind == "rss" or kind == "rdf":
        return _dedupe(_parse_rss(root, feed_url, outlet))
    if kind == "feed":
        return _dedupe(_parse_atom(root, feed_url, outlet))
    raise ExtractionError(f"not a feed (root element <{kind or '?'}>): {feed_url}")


def _parse_rss(root: ET.Element, feed_url: str, outlet: str) -> list[Candidate]:
    # RSS 2.0 nests items in <channel>; RSS 1.0 (RDF) puts them beside it.
    items = [el for el in root.iter() if _local(el.tag) == "item"]
    out = []
    for item in items:
        # feedburner's origLink is the article itself; <link> is a redirector there
        link = _text(_child(item, "origlink")) or _text(_child(item, "link"))
        if not link:
            guid = _child(item, "guid")
            if guid is not None and guid.get("isPermaLink", "true").lower() != "false":
                link = _text(guid)
        url = _absolute(link, feed_url)
        if url is None:
            continue
        published = parse_rfc822_date(_text(_child(item, "pubdate"))) or parse_iso_date(
            _text(_child(item, "date", "published", "updated"))
        )
        title = _text(_child(item, "title"))
        out.append(Candidate(url=url, outlet=outlet, source="feed", title=title, published=published))
    return out


def _atom_link(entry: ET.Element) -> str | None:
    fallback = None
    for link in _children(entry, "link"):
        href = link.get("href")
        if not href:
            continue
        rel = (link.get("rel") or "alternate").lower()
        if rel == "alternate":
            return href
        if fallback is None and rel not in ("self", "edit", "enclosure", "replies", "license"):
            fallback = href
    return fallback


def _atom_title(entry: ET.Element) -> str | None:
    element = _child(entry, "title")
    title = _text(element)
    if element is None or title is None or (element.get("type") or "text").lower() != "html":
        return title
    try:
        # type="html" titles carry escaped markup; the headline is its text
        return " ".join(lxml.html.fragment_fromstring(title, create_parent="div").text_content().split()) or None
    except (lxml.etree.ParserError, ValueError):
        return title


def _parse_atom(root: ET.Element, feed_url: str, outlet: str) -> list[Candidate]:
    base = urljoin(feed_url, root.get(_XML_BASE, "")) if root.get(_XML_BASE) else feed_url
    out = []
    for entry in _children(root, "entry"):
        entry_base = urljoin(base, entry.get(_XML_BASE, "")) if entry.get(_XML_BASE) else base
        url = _absolute(_atom_link(entry), entry_base)
        if url is None:
            continue
        published = parse_iso_date(_text(_child(entry, "published", "issued"))) or parse_iso_date(
            _text(_child(entry, "updated", "modified"))
        )
        out.append(Candidate(url=url, outlet=outlet, source="feed", title=_atom_title(entry), published=published))
    return out


def _parse_json_feed(text: str, feed_url: str, outlet: str) -> list[Candidate]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ExtractionError(f"malformed JSON feed ({type(exc).__name__}): {feed_url}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ExtractionError(f"not a JSON Feed (no items list): {feed_url}")
    base = feed_url
    declared = data.get("feed_url")  # relative item URLs resolve against the feed's own address
    if isinstance(declared, str) and declared:
        base = urljoin(feed_url, declared)
    out = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") if isinstance(item.get("url"), str) else None
        if not link and isinstance(item.get("id"), str) and item["id"].startswith(("http://", "https://")):
            link = item["id"]
        url = _absolute(link, base)
        if url is None:
            continue
        raw_title = item.get("title")
        title = " ".join(raw_title.split()) or None if isinstance(raw_title, str) else None
        published = None
        for key in ("date_published", "date_modified"):
            if isinstance(item.get(key), str):
                published = parse_iso_date(item[key])
                if published:
                    break
        out.append(Candidate(url=url, outlet=outlet, source="feed", title=title, published=published))
    return out


# -- sitemaps --------------------------------------------------------------------------------


def _parse_sitemap_full(
    text: str, sitemap_url: str, outlet: str
) -> tuple[list[Candidate], list[tuple[str, datetime | None]]]:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise ExtractionError(f"empty sitemap: {sitemap_url}")
    if not stripped.startswith("<"):
        return _parse_text_sitemap(stripped, sitemap_url, outlet), []
    root = _xml_root(stripped, "sitemap", sitemap_url)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children: list[tuple[str, datetime | None]] = []
        for entry in _children(root, "sitemap"):
            url = _absolute(_text(_child(entry, "loc")), sitemap_url)
            if url is not None:
                children.append((url, parse_iso_date(_text(_child(entry, "lastmod")))))
        return [], children
    if kind != "urlset":
        raise ExtractionError(f"not a sitemap (root element <{kind or '?'}>): {sitemap_url}")
    out = []
    for entry in _children(root, "url"):
        url = _absolute(_text(_child(entry, "loc")), sitemap_url)
        if url is None:
            continue
        news = _child(entry, "news")
        title = published = None
        if news is not None:
            title = _text(_child(news, "title"))
            published = parse_iso_date(_text(_child(news, "publication_date")))
        published = published or parse_iso_date(_text(_child(entry, "lastmod")))
        out.append(Candidate(url=url, outlet=outlet, source="sitemap", title=title, published=published))
    return _dedupe(out), []


def _unique_children(children: list[tuple[str, datetime | None]]) -> list[tuple[str, datetime | None]]:
    seen: set[str] = set()
    out = []
    for url, lastmod in children:
        if url not in seen:
            seen.add(url)
            out.append((url, lastmod))
    return out


def _parse_text_sitemap(text: str, sitemap_url: str, outlet: str) -> list[Candidate]:
    """The sitemap protocol's plain-text form: one URL per line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    urls = [_absolute(line, sitemap_url) for line in lines if line.startswith(("http://", "https://"))]
    if not lines or len(urls) != len(lines) or any(u is None for u in urls):
        raise ExtractionError(f"not a sitemap (neither XML nor a list of URLs): {sitemap_url}")
    return _dedupe(Candidate(url=u, outlet=outlet, source="sitemap") for u in urls if u)


def parse_sitemap(text: str, sitemap_url: str, outlet: str) -> tuple[list[Candidate], list[str]]:
    """(article candidates of a urlset, child sitemap URLs of a sitemap index, newest first)."""
    candidates, children = _parse_sitemap_full(text, sitemap_url, outlet)
    return candidates, [url for url, _ in _rank_children(_unique_children(children))]


def _rank_children(children: list[tuple[str, datetime | None]]) -> list[tuple[str, datetime | None]]:
    floor = datetime.min.replace(tzinfo=UTC)
    # stable: without lastmod the index's own order stands
    return sorted(children, key=lambda c: c[1] or floor, reverse=True) if any(c[1] for c in children) else children


# -- GDELT -----------------------------------------------------------------------------------


def build_gdelt_url(query: str, settings: Settings, since: datetime | None = None) -> str:
    """The DOC 2.0 ``artlist`` JSON request for ``query``, newest first."""
    if not query or not query.strip():
        raise ConfigError("the GDELT query is empty")
    params: dict[str, str] = {
        "query": query.strip(),
        "mode": "artlist",
        "format": "json",
        "maxrecords": str(max(1, min(settings.gdelt_max_records, 250))),
        "sort": "datedesc",
    }
    if since is not None:
        params["startdatetime"] = _utc(since).strftime("%Y%m%d%H%M%S")
    return f"{settings.gdelt_url}?{urlencode(params, quote_via=quote)}"


def parse_gdelt_date(value: str | None) -> datetime | None:
    """GDELT's ``seendate`` ("20250101T120000Z") as UTC."""
    if not value:
        return None
    match = _GDELT_DATE.match(value.strip())
    if not match:
        return parse_iso_date(value)
    try:
        return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _error_page_message(text: str) -> str:
    words = " ".join(_TAG.sub(" ", text).split())
    return words[:160] or "empty response"


def parse_gdelt(text: str, registry: OutletRegistry) -> list[Candidate]:
    """Candidates from a DOC 2.0 ``artlist`` JSON answer; GDELT's 200-status error pages raise."""
    stripped = text.strip()
    if not stripped:
        return []
    if not stripped.startswith("{"):
        message = _error_page_message(stripped)
        lowered = message.lower()
        if "limit requests" in lowered or "rate limit" in lowered or "too many requests" in lowered:
            raise TransientFetchError(f"GDELT rate limit hit: {message}", retry_after=5.0)
        if any(
            word in lowered for word in ("query", "phrase", "keyword", "search", "too short", "too long", "invalid")
        ):
            raise ConfigError(f"GDELT rejected the query: {message}")
        raise PermanentFetchError(f"GDELT returned a non-JSON answer: {message}")
    try:
        # strict=False: GDELT titles sometimes carry raw control characters
        data = json.loads(stripped, strict=False)
    except (ValueError, RecursionError) as exc:
        raise ExtractionError(f"GDELT returned malformed JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ExtractionError("GDELT returned JSON that is not an object")
    articles = data.get("articles") or []
    if not isinstance(articles, list):
        raise ExtractionError("GDELT answer has a non-list 'articles'")
    out = []
    for art in articles:
        if not isinstance(art, dict) or not isinstance(art.get("url"), str):
            continue
        url = _absolute(art["url"], art["url"])
        if url is None:
            continue
        outlet = registry.for_url(url)
        if outlet is not None:
            name = outlet.name
        else:
            domain = art.get("domain") if isinstance(art.get("domain"), str) else None
            host = (domain or urlsplit(url).hostname or "").lower()
            name = host[4:] if host.startswith("www.") else host
        raw_title = art.get("title")
        title = " ".join(raw_title.split()) or None if isinstance(raw_title, str) else None
        seen = art.get("seendate") if isinstance(art.get("seendate"), str) else None
        out.append(Candidate(url=url, outlet=name, source="gdelt", title=title, published=parse_gdelt_date(seen)))
    return _dedupe(out)


class IntervalLimiter:
    """At most one start per ``interval`` seconds, across threads and event loops of this process.

    A thread lock (not an asyncio one) so that Prefect tasks running on different loops share it;
    callers reserve a slot under the lock and sleep outside it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self, interval: float) -> float:
        """Claim the next slot; returns the seconds to wait before using it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + max(0.0, interval)
            return slot - now

    async def wait(self, interval: float) -> None:
        delay = self.reserve(interval)
        if delay > 0:
            await asyncio.sleep(delay)


GDELT_LIMITER = IntervalLimiter()


async def discover_gdelt(
    query: str,
    fetcher: Fetcher,
    settings: Settings,
    registry: OutletRegistry,
    since: datetime | None = None,
) -> list[Candidate]:
    """Articles GDELT has seen for ``query`` (newest first), honouring its one-request-per-5-s limit."""
    url = build_gdelt_url(query, settings, since)
    await GDELT_LIMITER.wait(settings.gdelt_interval_s)
    result = await fetcher.fetch(url, kind="api")
    if result.text is None:
        return []
    candidates = _since_filter(parse_gdelt(result.text, registry), since)
    return candidates[: settings.gdelt_max_records]


# -- one outlet ------------------------------------------------------------------------------


def host_belongs(url: str, domains: Iterable[str]) -> bool:
    """Whether the URL's host is one of ``domains`` or a subdomain of one (ports ignored)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if not host:
        return False
    for domain in domains:
        d = domain.strip().lower().rstrip(".")
        if d and (host == d or host.endswith("." + d)):
            return True
    return False


Validators = dict[str, tuple[str | None, str | None]]


async def _fetch_text(
    fetcher: Fetcher, url: str, kind: str, known: Validators, report: OutletDiscovery
) -> tuple[str, str] | None:
    """The source's text and final URL; None when it answered 304 to the validators in ``known``."""
    etag, last_modified = known.get(url, (None, None))
    result = await fetcher.fetch(url, kind=kind, etag=etag, last_modified=last_modified)
    if result.etag or result.last_modified:
        report.validators[url] = (result.etag, result.last_modified)
    if result.not_modified:
        report.not_modified.append(url)
        return None
    report.fetched += 1
    return (result.text or ""), (result.final_url or url)


async def _from_feed(
    outlet: Outlet,
    url: str,
    fetcher: Fetcher,
    settings: Settings,
    outcome: SourceOutcome,
    known: Validators,
    report: OutletDiscovery,
) -> list[Candidate]:
    fetched = await _fetch_text(fetcher, url, "feed", known, report)
    if fetched is None:
        outcome.status, outcome.not_modified = 304, True
        return []
    text, final_url = fetched
    outcome.status = 200
    candidates = parse_feed(text, final_url, outlet.name)
    outcome.count(candidates)
    return _newest(candidates, settings.max_items_per_source)


async def _from_sitemaps(
    outlet: Outlet,
    url: str,
    fetcher: Fetcher,
    settings: Settings,
    since: datetime | None,
    errors: list[tuple[str, str]],
    visited: set[str],
    outcome: SourceOutcome,
    known: Validators,
    report: OutletDiscovery,
) -> list[Candidate]:
    out: list[Candidate] = []
    level = [url]
    for depth in range(MAX_SITEMAP_DEPTH + 1):
        next_level: list[str] = []
        results = await asyncio.gather(
            *(_fetch_text(fetcher, u, "sitemap", known, report) for u in level), return_exceptions=True
        )
        for source, result in zip(level, results, strict=True):
            if isinstance(result, CorroborateError):
                errors.append((source, str(result)))
                if depth == 0:
                    outcome.failed(result)
                continue
            if isinstance(result, BaseException):
                raise result
            if result is None:  # 304: an index unchanged lists the same children, as unchanged as it
                if depth == 0:
                    outcome.status, outcome.not_modified = 304, True
                continue
            text, final_url = result
            if depth == 0:
                outcome.status = 200
            else:
                outcome.children += 1
            try:
                candidates, children = _parse_sitemap_full(text, final_url, outlet.name)
            except ExtractionError as exc:
                errors.append((source, str(exc)))
                if depth == 0:
                    outcome.failed(exc)
                continue
            outcome.count(candidates)
            out.extend(_newest(candidates, settings.max_items_per_source))
            if children and depth == MAX_SITEMAP_DEPTH:
                errors.append((source, f"sitemap index nested deeper than {MAX_SITEMAP_DEPTH}; not followed"))
                continue
            ranked = _rank_children(_unique_children(children))
            if since is not None:
                cutoff = _utc(since)
                ranked = [(u, m) for u, m in ranked if m is None or m >= cutoff]
            for child, _ in ranked[:MAX_CHILD_SITEMAPS]:
                if child not in visited:
                    visited.add(child)
                    next_level.append(child)
        if not next_level:
            break
        level = next_level
    return out


async def discover_outlet(
    outlet: Outlet,
    fetcher: Fetcher,
    settings: Settings,
    since: datetime | None = None,
    validators: Validators | None = None,
) -> OutletDiscovery:
    """All candidates from the outlet's feeds and sitemaps; failing sources are recorded, not raised.

    ``validators`` are the (ETag, Last-Modified) pairs the sources answered with last time: sources
    that answer 304 to them list nothing new and yield no candidates.
    """
    tally = [0]
    token = _CREDENTIALS_REMOVED.set(tally)
    try:
        report = await _discover_outlet(outlet, fetcher, settings, since, validators or {})
    finally:
        _CREDENTIALS_REMOVED.reset(token)
    report.credentials_removed = tally[0]
    return report


async def _discover_outlet(
    outlet: Outlet, fetcher: Fetcher, settings: Settings, since: datetime | None, known: Validators
) -> OutletDiscovery:
    report = OutletDiscovery(outlet=outlet.name)
    feed_outcomes = [SourceOutcome(url, "feed") for url in outlet.feeds]
    sitemap_outcomes = [SourceOutcome(url, "sitemap") for url in outlet.sitemaps]
    report.sources = [*feed_outcomes, *sitemap_outcomes]
    feed_results = await asyncio.gather(
        *(_from_feed(outlet, o.url, fetcher, settings, o, known, report) for o in feed_outcomes),
        return_exceptions=True,
    )
    found: list[Candidate] = []
    for outcome, result in zip(feed_outcomes, feed_results, strict=True):
        if isinstance(result, CorroborateError):
            report.errors.append((outcome.url, str(result)))
            outcome.failed(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            found.extend(result)
    visited = set(outlet.sitemaps)
    for from_sitemap in await asyncio.gather(
        *(
            _from_sitemaps(outlet, o.url, fetcher, settings, since, report.errors, visited, o, known, report)
            for o in sitemap_outcomes
        )
    ):
        found.extend(from_sitemap)
    kept = [c for c in found if host_belongs(c.url, outlet.domains)]
    report.candidates = _since_filter(_dedupe(kept), since)
    return report
