"""The ingest steps between discovery and the index, as plain functions.

``flows/ingest.py`` wraps each in a Prefect task; :func:`ingest` runs the same steps in one
process without Prefect (benchmarks, ``corroborate import``). Fetching and extraction are pure
(they return data), so they can run on any worker; everything that writes (store, index) goes
through one :class:`CorpusWriter` in one process.
"""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corroborate import interrupt
from corroborate.corpus import dedup, passages
from corroborate.corpus.backend import CorpusStore
from corroborate.corpus.records import Candidate, Extracted, FetchResult, NewDocument, Span
from corroborate.errors import (
    ConfigError,
    CorroborateError,
    ExtractionError,
    FetchError,
    RobotsUnavailableError,
    TransientFetchError,
)
from corroborate.ingest.language import identify_language
from corroborate.ingest.outlets import Outlet, OutletRegistry
from corroborate.settings import Settings

Log = Callable[[str], None]
NOT_FETCHED = "not fetched: the ingest was interrupted"
EXTRACT_AFTER_STOP_S = 5.0  # pages already fetched are still extracted this long after a signal


@dataclass(frozen=True)
class FetchedPage:
    """One candidate after fetching: a result, or why there is none."""

    candidate: Candidate
    result: FetchResult | None = None
    error: str | None = None
    transient: bool = False


@dataclass(frozen=True)
class PreparedDocument:
    """A document ready for the store: dedup keys computed, passages cut."""

    document: NewDocument
    spans: tuple[Span, ...]
    validators: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class PageOutcome:
    url: str
    outlet: str
    outcome: str  # new | updated | duplicate | unchanged | not_modified | skipped | failed
    reason: str | None = None
    document_id: int | None = None
    passages: int = 0


@dataclass
class OutletSummary:
    outlet: str
    discovered: int = 0
    fetched: int = 0
    new: int = 0
    skipped: int = 0
    failed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: PageOutcome) -> None:
        if outcome.outcome in {"new", "updated"}:
            self.new += 1
        if outcome.outcome in {"new", "updated", "duplicate", "unchanged", "skipped"}:
            self.fetched += 1
        if outcome.outcome == "skipped":
            self.skipped += 1
        elif outcome.outcome == "failed":
            self.failed += 1
        elif outcome.outcome in {"not_modified", "unchanged", "duplicate"}:
            self.unchanged += 1


# -- fetch and extract (pure; safe on workers) --------------------------------------------------


async def fetch_pages(
    candidates: Sequence[Candidate],
    settings: Settings,
    validators: dict[str, tuple[str | None, str | None]] | None = None,
) -> list[FetchedPage]:
    """Fetch candidates concurrently (the Fetcher enforces per-host limits and retries)."""
    from corroborate.ingest.fetch import Fetcher

    validators = validators or {}

    async def one(fetcher: Fetcher, cand: Candidate) -> FetchedPage:
        etag, last_modified = validators.get(cand.url, (None, None))
        try:
            result = await fetcher.fetch(cand.url, kind="page", etag=etag, last_modified=last_modified)
        except RobotsUnavailableError as exc:
            # the host is skipped for this run (RFC 9309): not worth a task retry within it; the page
            # is logged failed, so the next run asks for robots.txt and the page again
            return FetchedPage(cand, error=str(exc))
        except TransientFetchError as exc:
            return FetchedPage(cand, error=str(exc), transient=True)
        except FetchError as exc:
            return FetchedPage(cand, error=str(exc))
        return FetchedPage(cand, result=result)

    async with Fetcher(settings) as fetcher:
        tasks = [asyncio.ensure_future(one(fetcher, c)) for c in candidates]
        # a signal to an interruptible ingest cancels what is in flight; the pages already fetched are kept
        await interrupt.until_stopped(asyncio.gather(*tasks))
    return [t.result() if t.done() and not t.cancelled() else FetchedPage(c, error=NOT_FETCHED)
            for t, c in zip(tasks, candidates, strict=True)]


def fetch_pages_sync(
    candidates: Sequence[Candidate],
    settings: Settings,
    validators: dict[str, tuple[str | None, str | None]] | None = None,
) -> list[FetchedPage]:
    return asyncio.run(fetch_pages(candidates, settings, validators))


def prepare(
    extracted: Extracted, outlet: str, settings: Settings, validators: tuple[str | None, str | None] = (None, None)
) -> PreparedDocument:
    """Dedup keys and passages for an extracted article."""
    spans = passages.split_passages(
        extracted.text, settings.passage_sentences, settings.passage_overlap, settings.max_passage_chars
    )
    if not spans:
        raise ExtractionError("no sentences in extracted text")
    doc = NewDocument(
        url=extracted.url,
        canonical_url=extracted.canonical_url,
        outlet=outlet,
        text=extracted.text,
        content_hash=dedup.content_hash(extracted.text),
        title=extracted.title,
        author=extracted.author,
        published=extracted.published,
        site_name=extracted.site_name,
        # pages come identified (extract); imported texts are identified here (corroborate.ingest.language)
        language=extracted.language or identify_language(extracted.text),
        minhash=dedup.minhash_signature(extracted.text, settings.minhash_permutations),
    )
    return PreparedDocument(doc, tuple(spans), validators)


def extract_pages(pages: Sequence[FetchedPage], settings: Settings) -> list[PreparedDocument | PageOutcome]:
    """Extract and prepare each fetched page; pages that are not articles become 'skipped'.

    Once an interruptible ingest is asked to stop, pages never fetched are left out, and pages fetched are
    still extracted for up to :data:`EXTRACT_AFTER_STOP_S`; the rest are left out too (nothing is known of
    them, and the next run fetches them again).
    """
    from corroborate.ingest.extract import extract

    out: list[PreparedDocument | PageOutcome] = []
    stopped_at: float | None = None
    for page in pages:
        if page.error == NOT_FETCHED:
            continue
        if interrupt.stop_requested():
            stopped_at = stopped_at or time.monotonic()
            if time.monotonic() - stopped_at > EXTRACT_AFTER_STOP_S:
                break
        cand = page.candidate
        if page.result is None:
            out.append(PageOutcome(cand.url, cand.outlet, "failed", page.error))
            continue
        if page.result.not_modified:
            out.append(PageOutcome(cand.url, cand.outlet, "not_modified", "304 not modified"))
            continue
        try:
            extracted = extract(page.result.text or "", page.result.final_url, settings)
            if page.result.final_url != cand.url:
                # keep the URL we were asked for so conditional GET finds its validators next time
                extracted = Extracted(**{**extracted.__dict__, "url": cand.url})
            out.append(prepare(extracted, cand.outlet, settings, (page.result.etag, page.result.last_modified)))
        except ExtractionError as exc:
            out.append(PageOutcome(cand.url, cand.outlet, "skipped", str(exc)))
    return out


# -- the single writer ---------------------------------------------------------------------------


class CorpusWriter:
    """Writes prepared documents: near-duplicate clustering, then one transaction per document."""

    def __init__(self, store: CorpusStore, settings: Settings, run_id: int | None = None) -> None:
        self.store = store
        self.settings = settings
        self.run_id = run_id
        self._near = dedup.NearDuplicateIndex(settings.near_duplicate_threshold, settings.minhash_permutations)
        for doc_id, sig in store.minhashes():
            self._near.add(doc_id, sig)

    def register_outlets(self, outlets: Iterable[Outlet]) -> None:
        for o in outlets:
            self.store.upsert_outlet(
                o.name,
                domains=o.domains,
                group=o.group,
                state_media=o.state_media,
                country=o.country,
                language=o.language,
                owner=o.owner,
                kind=o.kind,
                fictional=o.fictional,
            )

    def write(self, item: PreparedDocument | PageOutcome, *, log_fetch: bool = True) -> PageOutcome:
        """Store one prepared document (or record a page outcome); ``log_fetch=False`` skips the
        fetch-log row, for documents that were imported rather than fetched."""
        if isinstance(item, PageOutcome):
            if item.outcome != "not_modified":
                self.store.record_fetch(
                    item.url, item.outcome, run_id=self.run_id, outlet=item.outlet, reason=item.reason
                )
            else:
                self.store.record_fetch(item.url, "not_modified", run_id=self.run_id, outlet=item.outlet, status=304)
            return item
        doc = item.document
        cluster: int | None = None
        if doc.minhash is not None:
            near = [d for d in self._near.query(doc.minhash)]
            if near:
                cluster = self.store.cluster_of(min(near))
        result = self.store.add_document(
            doc, item.spans, cluster_id=cluster, run_id=self.run_id, validators=item.validators
        )
        if result.outcome in {"new", "updated"} and doc.minhash is not None:
            self._near.add(result.document_id, doc.minhash)
        if log_fetch:
            self.store.record_fetch(doc.url, result.outcome, run_id=self.run_id, outlet=doc.outlet, status=200)
        return PageOutcome(doc.url, doc.outlet, result.outcome, None, result.document_id, result.passages)


# -- bring your own corpus -------------------------------------------------------------------------


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-empty line; ConfigError on the first bad line.

    A UTF-8 byte order mark at the start of the file is skipped (editors on Windows write one).
    """
    for number, obj in read_jsonl_lines(path):
        if isinstance(obj, ConfigError):
            raise obj
        yield number, obj


def read_jsonl_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | ConfigError]]:
    """Like :func:`read_jsonl`, but a line that is not a JSON object comes back as its ConfigError.

    An unreadable file still raises: there are no lines to go on with.
    """
    try:
        f = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    with f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.strip():
                yield number, _json_object(raw, f"{path}:{number}")


def _json_object(raw: bytes, where: str) -> dict[str, Any] | ConfigError:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return ConfigError(f"{where}: not UTF-8 text")
    except json.JSONDecodeError as exc:
        return ConfigError(f"{where}: not valid JSON ({exc.msg})")
    except RecursionError:
        return ConfigError(f"{where}: JSON nested too deeply")
    except ValueError as exc:  # an integer of more than 4,300 digits (int_max_str_digits)
        return ConfigError(f"{where}: a number is too long to read ({str(exc).split(':')[0]})")
    if not isinstance(obj, dict):
        return ConfigError(f"{where}: each line must be a JSON object")
    return obj


def raw_lines(path: Path, numbers: set[int]) -> Iterator[tuple[int, str]]:
    """(line number, text) of the lines ``numbers`` names, as read (invalid UTF-8 shown as U+FFFD)."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    with f:
        for number, raw in enumerate(f, start=1):
            if number in numbers:
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                yield number, raw.rstrip(b"\r\n").decode("utf-8", errors="replace")


def imported_document(
    obj: dict[str, Any], where: str, registry: OutletRegistry, settings: Settings
) -> PreparedDocument:
    """Validate one imported record and prepare it like an ingested page."""
    extracted, outlet = imported_record(obj, where, registry)
    return prepare(extracted, outlet, settings)


def imported_record(obj: dict[str, Any], where: str, registry: OutletRegistry) -> tuple[Extracted, str]:
    """Validate one imported record: its text as an :class:`Extracted` and its outlet's name.

    Cheap (no sentence split, no MinHash), so a re-import can skip unchanged records before
    :func:`prepare` does the expensive part.
    """
    url, text = obj.get("url"), obj.get("text")
    if not isinstance(url, str):
        raise ConfigError(f"{where}: 'url' must be an http(s) URL")
    _check_url(url, where)
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: 'text' must be a non-empty string")
    if not has_visible_text(text):
        raise ConfigError(f"{where}: 'text' has only invisible characters (zero-width, control or blank)")
    text = valid_unicode(text)
    title = obj.get("title")
    if title is not None and not isinstance(title, str):
        raise ConfigError(f"{where}: 'title' must be a string")
    title = valid_unicode(title) if title is not None else None
    outlet_name = obj.get("outlet")
    if outlet_name is not None and (not isinstance(outlet_name, str) or not outlet_name.strip()):
        raise ConfigError(f"{where}: 'outlet' must be a non-empty string")
    outlet_name = valid_unicode(outlet_name) if outlet_name is not None else None
    published = _parse_date(obj.get("published"), where)
    outlet = registry.get(outlet_name) if outlet_name else registry.for_url(url)
    name = outlet.name if outlet else (outlet_name or (urlsplit(url).hostname or url))
    url = dedup.strip_userinfo(url)  # credentials are never stored, fetched with or shown
    extracted = Extracted(
        url=url, canonical_url=dedup.canonicalize_url(url), text=text.strip(), title=title, published=published
    )
    return extracted, name


# Letters that draw nothing: Hangul and braille fillers (their categories say "letter"/"symbol")
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_text(text: str) -> bool:
    """Whether ``text`` has a character that shows: not whitespace, zero-width, control or a lone mark."""
    return any(_shows(ch) for ch in text)


def _shows(ch: str) -> bool:
    category = unicodedata.category(ch)
    # C*: control, format (zero-width), surrogate, unassigned; Z*: separators; M*: marks without a letter
    return category == "Co" or (category[0] not in "CZM" and ch not in _BLANK_LETTERS)


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (JSON's "\\ud800", undecodable bytes of an argument) as U+FFFD.

    A lone surrogate is not a character: SQLite (any UTF-8 encoder) refuses it when the record is written.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _check_url(url: str, where: str) -> None:
    """An http(s) URL with a host and a valid port that can be stored, or a one-line ConfigError."""
    if valid_unicode(url) != url:
        raise ConfigError(f"{where}: 'url' is not valid text (it contains a lone UTF-16 surrogate)")
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"{where}: 'url' is not a valid URL ({str(exc)[:200]})") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{where}: 'url' must be an http(s) URL")
    if port == 0:
        raise ConfigError(f"{where}: 'url' has port 0; a port is 1-65535")


def _parse_date(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: 'published' must be an ISO 8601 date string")
    return parse_iso_date(value, f"{where}: 'published'")


def parse_iso_date(value: str, what: str) -> datetime:
    """A user-given ISO 8601 date/time as UTC-aware datetime, or a one-line ConfigError naming ``what``."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not a date: it is not an ISO 8601 date like 2024-03-01") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        # dates are stored in UTC: 9999-12-31T23:59:59-05:00 is in year 10000, which datetime cannot hold
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ConfigError(f"{what} {value!r} is out of range: in UTC it falls outside the years 1-9999") from None


def candidates_for_known(
    store: CorpusStore, candidates: Sequence[Candidate]
) -> dict[str, tuple[str | None, str | None]]:
    """Validators (ETag, Last-Modified) for the candidates we fetched before."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for c in candidates:
        v = store.validators(c.url)
        if v != (None, None):
            out[c.url] = v
    return out


def summarise(summaries: dict[str, OutletSummary]) -> list[dict[str, Any]]:
    return [
        {
            "outlet": s.outlet,
            "discovered": s.discovered,
            "fetched": s.fetched,
            "new": s.new,
            "unchanged": s.unchanged,
            "skipped": s.skipped,
            "failed": s.failed,
        }
        for s in sorted(summaries.values(), key=lambda s: s.outlet)
    ]


__all__ = [
    "CorpusWriter",
    "FetchedPage",
    "OutletSummary",
    "PageOutcome",
    "PreparedDocument",
    "candidates_for_known",
    "extract_pages",
    "fetch_pages",
    "fetch_pages_sync",
    "imported_document",
    "imported_record",
    "prepare",
    "raw_lines",
    "read_jsonl",
    "read_jsonl_lines",
    "summarise",
    "CorroborateError",
]
