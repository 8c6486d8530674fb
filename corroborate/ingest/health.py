"""Source health: which listed feeds and sitemaps still work, which are dead or stale, and what to do.

A source's health is read from what discovery got from it (:class:`~corroborate.ingest.discover.SourceOutcome`),
so ``corroborate outlets check`` and every ingest (its ``source-health-*`` table artifact) judge the
same requests the same way, and a check costs no more than one ingest's discovery: one polite pass
through the :class:`~corroborate.ingest.fetch.Fetcher` (robots.txt, per-host limits, retries on transient
errors only).

States, worst first: ``dead`` (HTTP 404/410 or another client error), ``refused`` (HTTP 401/403),
``blocked`` (robots.txt disallows it), ``broken`` (not a feed or sitemap, too big, wrong type),
``unreachable`` (timeouts, 5xx, network errors, after the fetcher's retries), ``empty`` (no items),
``stale`` (no item newer than :data:`STALE_AFTER`), ``undated`` (items without dates: freshness
unknown), ``unchanged`` (answered 304 to an ingest's conditional GET: judged when it last changed), ``ok``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from corroborate.ingest.discover import OutletDiscovery, SourceOutcome
from corroborate.ingest.outlets import Outlet
from corroborate.settings import Settings

STALE_AFTER = timedelta(days=14)
STATES = ("dead", "refused", "blocked", "broken", "unreachable", "empty", "stale", "undated", "unchanged", "ok")
COLUMNS = ("outlet", "kind", "url", "status", "items", "newest", "stale", "state", "action", "source")


@dataclass(frozen=True)
class SourceHealth:
    """One feed or sitemap of one outlet: how it answered, how fresh it is, and what to do about it."""

    outlet: str
    kind: str  # "feed" | "sitemap"
    url: str
    status: int | None  # HTTP status (None: no answer, e.g. robots.txt disallows it or the host is down)
    items: int  # article URLs listed (a sitemap index: in its child sitemaps)
    newest: datetime | None  # newest item date
    stale: bool | None  # no item newer than STALE_AFTER; None when that cannot be told
    state: str  # one of STATES
    action: str  # what to do, in words
    detail: str  # the error, or a note such as the child sitemaps read
    source: str  # where the URL came from (outlets.toml, fundus <version>, ...)

    def to_row(self) -> dict[str, Any]:
        """A table row (the CLI's table, JSON output and the Prefect table artifact)."""
        return {
            "outlet": self.outlet,
            "kind": self.kind,
            "url": self.url,
            "status": self.status,
            "items": self.items,
            "newest": self.newest.strftime("%Y-%m-%d %H:%M") if self.newest else "",
            "stale": "?" if self.stale is None else ("yes" if self.stale else "no"),
            "state": self.state,
            "action": self.action,
            "source": self.source,
        }


def _age(newest: datetime, now: datetime) -> str:
    days = (now - newest).days
    return f"{days} day{'s' if days != 1 else ''}"


def assess(outcome: SourceOutcome, outlet: Outlet | None, now: datetime | None = None) -> SourceHealth:
    """The health of one source from what discovery got from it."""
    now = now or datetime.now(UTC)
    state, action, stale = _judge(outcome, now)
    detail = outcome.error or (f"index: {outcome.children} child sitemaps read" if outcome.children else "")
    return SourceHealth(
        outlet=outlet.name if outlet else "",
        kind=outcome.kind,
        url=outcome.url,
        status=outcome.status,
        items=outcome.items,
        newest=outcome.newest,
        stale=stale,
        state=state,
        action=action,
        detail=detail,
        source=outlet.source_of(outcome.url) if outlet else "",
    )


def _judge(o: SourceOutcome, now: datetime) -> tuple[str, str, bool | None]:
    what = "feed" if o.kind == "feed" else "sitemap"
    if o.problem == "http":
        if o.status in (401, 403):
            return "refused", f"refused (HTTP {o.status}): the site turns bots away; remove it or ask the outlet", None
        return "dead", f"dead (HTTP {o.status}): remove or replace it; look for a new {what} on the outlet's site", None
    if o.problem == "robots":
        return "blocked", "blocked by robots.txt: remove it (corroborate never fetches what robots.txt disallows)", None
    if o.problem in ("malformed", "unusable"):
        return "broken", f"broken ({o.error}): replace it with a working {what}", None
    if o.problem == "unreachable":
        return "unreachable", "unreachable: try again later; remove or replace it if it stays so", None
    if o.not_modified:
        return "unchanged", "unchanged since the last ingest (HTTP 304): nothing new listed", None
    if o.items == 0:
        return "empty", f"empty: no items; check the outlet's site for a new {what}", None
    if o.newest is None:
        return "undated", "undated: items carry no dates, so freshness is unknown; ok while they change", None
    if now - o.newest > STALE_AFTER:
        return "stale", f"stale: newest item {_age(o.newest, now)} old; check the outlet's site for a new {what}", True
    return "ok", "ok", False


def health_of(outlets: Iterable[Outlet], discovered: Iterable[OutletDiscovery],
              now: datetime | None = None) -> list[SourceHealth]:
    """Health of every source the discoveries read, in the order of their outlets and sources."""
    now = now or datetime.now(UTC)
    by_name = {o.name: o for o in outlets}
    return [assess(src, by_name.get(d.outlet), now) for d in discovered for src in d.sources]


async def check_outlets_async(
    outlets: Sequence[Outlet],
    settings: Settings,
    *,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SourceHealth]:
    """Fetch every feed and sitemap of ``outlets`` once, as an ingest's discovery does, and judge each."""
    from corroborate.ingest.discover import discover_outlet
    from corroborate.ingest.fetch import Fetcher

    listed = [o for o in outlets if o.feeds or o.sitemaps]
    done, total = 0, len(listed)

    async def one(outlet: Outlet, fetcher: Fetcher) -> OutletDiscovery:
        nonlocal done
        result = await discover_outlet(outlet, fetcher, settings)
        done += 1
        if progress is not None:
            progress(done, total)
        return result

    async with Fetcher(settings) as fetcher:
        discovered = await asyncio.gather(*(one(o, fetcher) for o in listed))
    return health_of(outlets, discovered, now)


def check_outlets(
    outlets: Sequence[Outlet],
    settings: Settings,
    *,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SourceHealth]:
    """:func:`check_outlets_async` from synchronous code (the ``corroborate outlets check`` command)."""
    return asyncio.run(check_outlets_async(outlets, settings, now=now, progress=progress))


def summary_counts(health: Iterable[SourceHealth]) -> dict[str, int]:
    """How many sources are in each state, worst first, states with none left out."""
    counts = dict.fromkeys(STATES, 0)
    for h in health:
        counts[h.state] += 1
    return {state: n for state, n in counts.items() if n}
