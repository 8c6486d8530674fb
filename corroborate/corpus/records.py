"""Plain data records passed between the pipeline steps.

Each step module takes and returns these; none of them knows about SQLite, FAISS or Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A URL found by discovery, not fetched yet."""

    url: str
    outlet: str  # outlet name ("" when unknown, e.g. a GDELT hit on an unlisted domain)
    source: str  # "feed" | "sitemap" | "gdelt" | "user"
    title: str | None = None
    published: datetime | None = None  # UTC


@dataclass(frozen=True)
class FetchResult:
    """What one GET returned (after redirects)."""

    url: str  # as requested
    final_url: str
    status: int  # 200, or 304 when the conditional GET says nothing changed
    text: str | None  # decoded body; None on 304
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    redirects: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Extracted:
    """The article found in one page."""

    url: str
    canonical_url: str
    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None  # UTC
    site_name: str | None = None
    language: str | None = None
    warnings: tuple[str, ...] = ()  # one-line notes for the user, e.g. text that may be missing


@dataclass(frozen=True)
class NewDocument:
    """A document ready to store: extracted text plus dedup keys."""

    url: str
    canonical_url: str
    outlet: str
    text: str
    content_hash: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    minhash: bytes | None = None  # serialised signature, see dedup.py


@dataclass(frozen=True)
class Span:
    """A passage's place in its document: [start, end) character offsets."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A stored passage with what retrieval and verdicts need about its document."""

    id: int
    document_id: int
    start: int
    end: int
    text: str
    url: str = ""
    title: str | None = None
    outlet: str = ""
    owner_group: str = ""
    state_media: bool = False
    published: datetime | None = None
    cluster_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
