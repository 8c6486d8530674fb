"""The ingest flow: outlets → discover → fetch + extract → store → index, with Prefect around it.

Workers (threads, or Dask processes) only discover, fetch and extract: those steps return data.
Everything that writes — the store and the index — runs in the flow's own process, under the
data folder's writer lock, one transaction per document, so a cancelled or crashed run leaves a
consistent store and the next run picks up where it stopped (conditional GET skips what it has).

    python flows/ingest.py --outlets outlets.toml [--query "..."] [--since 2024-03-01] [--dask]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python flows/ingest.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect import flow, get_run_logger, tags, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import FlowRunContext, TaskRunContext
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner
from prefect.tasks import Task

from corroborate import interrupt
from corroborate.corpus.backend import CorpusStore, corpus_writer_lock, open_store
from corroborate.corpus.embed import load_embedder
from corroborate.corpus.index import sync_index
from corroborate.corpus.records import Candidate
from corroborate.errors import ConfigError, TransientFetchError
from corroborate.ingest.discover import OutletDiscovery
from corroborate.ingest.health import health_of
from corroborate.ingest.outlets import Outlet, OutletRegistry, in_languages, load_outlets
from corroborate.ingest.steps import (
    CorpusWriter,
    OutletSummary,
    PageOutcome,
    PreparedDocument,
    candidates_for_known,
    extract_pages,
    fetch_pages_sync,
    parse_iso_date,
    summarise,
)
from corroborate.screens import md_text, one_line, table_cell
from corroborate.settings import Settings
from flows.common import crash_abandoned_flow_runs, flow_settings, prefect_env, slug, start_ephemeral_server

WRITER_LOCK_TIMEOUT_S = 600  # a scheduled run waits this long for a manual one to finish writing
# Tasks submitted to the task runner (discover, fetch-extract) run in worker threads and set no Prefect
# timeout_seconds: Prefect cannot interrupt a thread, so such a timeout only logs a warning per task
# run and fires after the work is done anyway. Their time is bounded inside instead: every request by
# the fetcher's timeouts and retry limits, a whole discovery by asyncio (DISCOVER_TIMEOUT_S), which
# does interrupt. Tasks the flow calls directly run in its own (main) thread, where timeouts work.
DISCOVER_TIMEOUT_S = 600
# Short against the 30-minute schedule on purpose: a cache hit skips even the conditional GET, so
# it is for re-runs after a crash or cancel, not for scheduled runs that should see new versions.
FETCH_CACHE_EXPIRATION = timedelta(minutes=10)
UNLISTED = "(unlisted)"

Validators = dict[str, tuple[str | None, str | None]]
PageItem = PreparedDocument | PageOutcome


# -- retries and caching ---------------------------------------------------------------------------


def retry_on_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only what may succeed later; a 404 or a robots.txt refusal stays failed, and so does
    anything once a signal has asked the ingest to stop."""
    if interrupt.stop_requested():
        return False
    try:
        state.result()
    except TransientFetchError:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


def pages_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str | None:
    """Same URLs, same stored validators, same extraction settings → same pages.

    The validators come from the store, so once a page is stored (or its stored copy is gone) the
    key changes and the pages are fetched again. ``refetch`` turns caching off for a run after
    one with failures, so a cached failure is never served twice.
    """
    if parameters.get("refetch"):
        return None
    settings: Settings = parameters["settings"]
    candidates: Sequence[Candidate] = parameters["candidates"]
    validators: Validators = parameters["validators"] or {}
    h = hashlib.sha256()
    h.update(json.dumps(_extraction_fingerprint(settings), sort_keys=True).encode())
    for c in sorted(candidates, key=lambda c: c.url):
        etag, modified = validators.get(c.url, (None, None))
        h.update(f"\n{c.url}\t{c.outlet}\t{etag or ''}\t{modified or ''}".encode())
    return f"fetch-extract-{h.hexdigest()}"


def _extraction_fingerprint(settings: Settings) -> dict[str, Any]:
    names = ["min_text_chars", "minhash_permutations", "passage_sentences", "passage_overlap", "max_passage_chars",
             "max_bytes", "user_agent", "respect_robots", "allow_private"]
    return {n: str(getattr(settings, n)) for n in names}


# -- tasks: each wraps one library step --------------------------------------------------------------


@task(name="load-outlets", cache_policy=NO_CACHE, timeout_seconds=60)
def load_outlets_task(outlets_file: Path | None) -> list[Outlet]:
    return load_outlets(outlets_file)


async def _discover_outlet(outlet: Outlet, settings: Settings, since: datetime | None,
                           validators: Validators | None = None) -> OutletDiscovery:
    from corroborate.ingest.discover import discover_outlet
    from corroborate.ingest.fetch import Fetcher

    async with asyncio.timeout(DISCOVER_TIMEOUT_S), Fetcher(settings) as fetcher:
        found = await interrupt.until_stopped(discover_outlet(outlet, fetcher, settings, since, validators))
    return found if found is not None else OutletDiscovery(outlet.name)  # stopped by a signal


async def _discover_gdelt(query: str, settings: Settings, registry: OutletRegistry,
                          since: datetime | None) -> list[Candidate]:
    from corroborate.ingest.discover import discover_gdelt
    from corroborate.ingest.fetch import Fetcher

    async with asyncio.timeout(DISCOVER_TIMEOUT_S), Fetcher(settings) as fetcher:
        found = await interrupt.until_stopped(discover_gdelt(query, fetcher, settings, registry, since))
    return found or []


@task(name="discover", task_run_name="discover: {outlet.name}", cache_policy=NO_CACHE,
      retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient)
def discover_task(outlet: Outlet, settings: Settings, since: datetime | None,
                  validators: Validators | None = None) -> OutletDiscovery:
    """The outlet's candidates; ``validators``: what its feeds and sitemaps answered last time (conditional GET)."""
    return asyncio.run(_discover_outlet(outlet, settings, since, validators))


@task(name="discover-gdelt", task_run_name="discover: GDELT {query}", cache_policy=NO_CACHE,
      retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=retry_on_transient)
def discover_gdelt_task(query: str, settings: Settings, registry: OutletRegistry,
                        since: datetime | None) -> list[Candidate]:
    return asyncio.run(_discover_gdelt(query, settings, registry, since))


@task(name="fetch-extract", task_run_name="fetch+extract: {outlet_name}", cache_key_fn=pages_cache_key,
      cache_expiration=FETCH_CACHE_EXPIRATION, persist_result=True,
      retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=retry_on_transient)
def fetch_extract_task(outlet_name: str, candidates: list[Candidate], settings: Settings,
                       validators: Validators, refetch: bool = False) -> list[PageItem]:
    pages = fetch_pages_sync(candidates, settings, validators)
    if pages and all(p.transient for p in pages):
        # the whole outlet is down or throttling us: worth a task retry (the fetcher already retried each URL)
        raise TransientFetchError(f"{outlet_name}: all {len(pages)} pages failed transiently ({pages[0].error})")
    return extract_pages(pages, settings)


@task(name="store", cache_policy=NO_CACHE, timeout_seconds=3600)
def store_task(settings: Settings, run_id: int, outlets: list[Outlet],
               results: dict[str, list[PageItem]], summaries: dict[str, OutletSummary],
               discovered: list[OutletDiscovery]) -> dict[str, OutletSummary]:
    """Write every outcome through one CorpusWriter (the caller holds the writer lock).

    Feeds and sitemaps that failed go to the fetch log too, so a broken source is visible there.
    """
    by_name = {o.name: o for o in outlets}
    with open_store(settings) as store:
        for d in discovered:
            outlet = by_name.get(d.outlet)
            for source, reason in d.errors:
                kind = "feed" if outlet is not None and source in outlet.feeds else "sitemap"
                store.record_fetch(source, "failed", run_id=run_id, outlet=d.outlet, kind=kind, reason=reason)
        writer = CorpusWriter(store, settings, run_id)
        writer.register_outlets(outlets)
        for outlet_name, items in results.items():
            summary = summaries.setdefault(outlet_name, OutletSummary(outlet_name))
            for item in items:
                outcome = writer.write(item)
                summary.count(outcome)
                if outcome.outcome in {"failed", "skipped"} and outcome.reason:
                    summary.errors.append(f"{outcome.url}: {outcome.reason}")
        for d in discovered:
            # what the feeds and sitemaps answered, for the next run's conditional GET: kept only now that the
            # pages they listed are stored, and not when one of the outlet's pages failed (the next run must
            # list them again to retry it)
            if d.validators and summaries.get(d.outlet, OutletSummary(d.outlet)).failed == 0:
                outlet = by_name.get(d.outlet)
                # a sitemap index must list a child that failed again: with errors only the feeds' are kept
                kept = d.validators if not d.errors or outlet is None else {
                    url: v for url, v in d.validators.items() if url in outlet.feeds}
                store.keep_source_validators(d.outlet, kept)
    return summaries


@task(name="index", cache_policy=NO_CACHE, timeout_seconds=3600)
def index_task(settings: Settings) -> dict[str, Any]:
    with open_store(settings) as store:
        index, report = sync_index(store, load_embedder(), settings)
        return {"count": index.count, "kind": report.kind, "embedded": report.embedded, "added": report.added,
                "removed": report.removed, "rebuilt": report.rebuilt, "passages": store.passage_count(),
                "documents": store.document_count()}


def _index_as_is(settings: Settings) -> dict[str, Any]:
    """The index row of a run a signal stopped: the index is left as it was; a check or the next ingest syncs it."""
    from corroborate.corpus.index import read_manifest

    manifest = None
    with contextlib.suppress(Exception):  # an unreadable manifest is the next check's to repair
        manifest = read_manifest(settings.index_dir)
    with open_store(settings) as store:
        return {"count": manifest.count if manifest else 0, "kind": manifest.kind if manifest else "none",
                "embedded": 0, "added": 0, "removed": 0, "rebuilt": False, "passages": store.passage_count(),
                "documents": store.document_count(), "skipped": "interrupted: the next check or ingest syncs it"}


# -- the flow ------------------------------------------------------------------------------------------


def outlet_set_name(outlets_file: str | None) -> str:
    return Path(outlets_file).stem if outlets_file else "bundled outlets"


def artifact_slug(outlets_file: str | None, query: str | None) -> str:
    """Stable per outlet set (and query), so the dashboard shows each set's history under one key."""
    base = slug(outlet_set_name(outlets_file))
    return slug(f"{base}-{query}") if query else base


def run_tags(outlets_file: str | None, query: str | None) -> list[str]:
    out = [f"outlets:{slug(outlet_set_name(outlets_file))}"]
    if query:
        out.append(f"query:{slug(query)}")
    return out


def outlets_in_use(outlets_file: str | None, home: str | None = None) -> str | None:
    """The outlets file a run ingests: the parameter, else the ``outlets_file`` setting (CORROBORATE_OUTLETS_FILE,
    corroborate.toml); None for the bundled outlets. A prefect.yaml deployment has no ``outlets_file`` parameter:
    its worker's environment names the file, and the run's name, tags and artifact keys must say which."""
    if outlets_file:
        return outlets_file
    try:
        configured = flow_settings(home).outlets_file
    except ConfigError:  # broken settings: the flow body reports them; a name must not fail the run first
        return None
    return str(configured) if configured else None


def _run_name() -> str:
    params = flow_run.parameters
    name = f"ingest: {outlet_set_name(outlets_in_use(params.get('outlets_file'), params.get('home')))}"
    return f"{name} + {params['query']}" if params.get("query") else name


def parse_since(since: str | None) -> datetime | None:
    return parse_iso_date(since, "--since") if since else None


def dask_runner(settings: Settings) -> TaskRunner[Any]:
    """A DaskTaskRunner joining ``settings.dask_address``, else a LocalCluster of worker processes."""
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError:
        raise ConfigError("task_runner 'dask' needs the dask extra: pip install 'corroborate[dask]'") from None
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    # a random dashboard port: two ingests (or a test beside a real run) must not fight over 8787
    return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 2, "processes": True,
                                          "dashboard_address": ":0"})


def _running_on_dask() -> bool:
    ctx = FlowRunContext.get()
    return ctx is not None and type(ctx.task_runner).__name__ == "DaskTaskRunner"


def _previous_run_failed(store: CorpusStore) -> bool:
    """Whether the last finished ingest left failures (so cached fetches must not be reused)."""
    for run in store.runs(limit=20):
        if run["kind"] != "ingest" or run["status"] == "running":
            continue
        if run["status"] != "completed":
            return True
        return any(row["outcome"] == "failed" for row in store.fetch_log(run["id"]))
    return False


def _group_by_outlet(candidates: Sequence[Candidate], registry: OutletRegistry,
                     extra: dict[str, Outlet]) -> dict[str, list[Candidate]]:
    """Candidates per outlet, each URL once; GDELT hits on unlisted sites get an outlet of their own."""
    groups: dict[str, list[Candidate]] = {}
    seen: set[str] = set()
    for c in candidates:
        if c.url in seen:
            continue
        seen.add(c.url)
        if not c.outlet:
            try:
                outlet = registry.for_url_or_new(c.url)
            except ConfigError:
                continue
            if registry.get(outlet.name) is None:
                extra.setdefault(outlet.name, outlet)
            c = dataclasses.replace(c, outlet=outlet.name)
        groups.setdefault(c.outlet or UNLISTED, []).append(c)
    return groups


def _publish_source_health(outlets: list[Outlet], discovered: list[OutletDiscovery], outlets_file: str | None,
                           query: str | None) -> None:
    """The table of `corroborate outlets check`, from this run's own discovery: no extra requests.
    Cells go through corroborate.screens (a feed's URL and errors are other people's text)."""
    rows = [{k: table_cell(v) for k, v in h.to_row().items()} for h in health_of(outlets, discovered)]
    if not rows:
        return
    bad = sum(1 for r in rows if r["state"] != "ok")
    title = md_text(f"Sources of {outlet_set_name(outlets_file)}: {len(rows) - bad} ok, {bad} to look at")
    create_table_artifact(rows, key=f"source-health-{artifact_slug(outlets_file, query)}", description=title)


def _report_markdown(title: str, rows: list[dict[str, Any]], index: dict[str, Any],
                     summaries: dict[str, OutletSummary]) -> str:
    lines = [f"# {md_text(title)}", "",
             f"Documents stored: **{index['documents']}**, passages indexed: **{index['count']}** "
             f"({index['kind']} index; {index['embedded']} passages embedded this run).", "",
             "| outlet | discovered | fetched | new | unchanged | skipped | failed |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {md_text(r['outlet'])} | {r['discovered']} | {r['fetched']} | {r['new']} | {r['unchanged']} "
                     f"| {r['skipped']} | {r['failed']} |")
    problems = [(s.outlet, e) for s in summaries.values() for e in s.errors]
    if problems:
        lines += ["", "## Skipped and failed pages", ""]
        lines += [f"- **{md_text(o)}**: {md_text(e)}" for o, e in problems[:200]]
        if len(problems) > 200:
            lines.append(f"- … and {len(problems) - 200} more (see `corroborate runs`)")
    return "\n".join(lines) + "\n"


@flow(name="ingest", flow_run_name=_run_name, log_prints=False)
def ingest_flow(outlets_file: str | None = None, query: str | None = None, since: str | None = None,
                home: str | None = None, task_runner: str | None = None) -> dict[str, Any]:
    """Discover, fetch, extract, store and index the articles of an outlet set (and a GDELT query)."""
    settings = flow_settings(home, outlets_file=outlets_file)
    outlets_file = outlets_file or (str(settings.outlets_file) if settings.outlets_file else None)  # else the setting
    runner = task_runner or settings.task_runner
    if runner not in {"thread", "dask"}:
        raise ConfigError(f"task_runner must be 'thread' or 'dask', got {runner!r}")
    if runner == "dask" and not _running_on_dask():
        # the runner is fixed when a flow starts, so a deployment asking for Dask runs the body as a subflow
        return ingest_flow.with_options(task_runner=dask_runner(settings))(
            outlets_file, query, since, home, "dask")
    with tags(*run_tags(outlets_file, query)), interrupt.graceful_if_active():
        return _ingest(settings, outlets_file, query, parse_since(since))


def _ingest(settings: Settings, outlets_file: str | None, query: str | None, since: datetime | None) -> dict[str, Any]:
    logger = get_run_logger()
    listed = load_outlets_task(settings.outlets_file)
    registry = OutletRegistry(listed)
    # outlets in a language the `languages` setting does not list are not fetched (corroborate/languages.py)
    outlets, other_languages = in_languages(listed, settings.languages)
    if other_languages:
        logger.info("%d outlets not fetched: their language is not in languages = %s (%s)",
                    sum(other_languages.values()), list(settings.languages),
                    ", ".join(f"{code} {n}" for code, n in other_languages.items()))
    with open_store(settings) as store:
        run_id = store.start_run("ingest", {"outlets_file": outlets_file, "query": query,
                                            "since": since.isoformat() if since else None}, flow_run=flow_run.id)
        for dead in crash_abandoned_flow_runs(store, logger):
            logger.warning("an earlier %s's flow run %s was left Running by its dead process (pid %s); "
                           "marked Crashed", dead.kind, dead.flow_run, dead.pid)
        refetch = _previous_run_failed(store)
        sources = [store.source_validators(o.name) for o in outlets]
    status = "failed"
    summary: dict[str, Any] = {}
    try:
        # unmapped: Settings is a pydantic model, and Task.map would map over its (name, value) pairs
        discovered = [d.result() for d in discover_task.map(outlets, settings=unmapped(settings), since=since,
                                                           validators=sources)]
        _publish_source_health(outlets, discovered, outlets_file, query)
        found: list[Candidate] = [c for d in discovered for c in d.candidates]
        if query:
            found += discover_gdelt_task.submit(query, settings, registry, since).result()
            unread = {o.name for o in listed} - {o.name for o in outlets}
            found = [c for c in found if c.outlet not in unread]  # GDELT hits on outlets in other languages
        extra: dict[str, Outlet] = {}
        groups = _group_by_outlet(found, registry, extra)
        with open_store(settings) as store:
            validators = {name: candidates_for_known(store, cands) for name, cands in groups.items()}
        summaries = {o.name: OutletSummary(o.name) for o in outlets}
        for d in discovered:
            summaries[d.outlet].errors += [f"discovery {source}: {reason}" for source, reason in d.errors]
            if d.credentials_removed:  # finding 9 of issue 24: never stored, fetched with or shown
                summaries[d.outlet].errors.append(f"discovery: user:password removed from {d.credentials_removed} "
                                                  "listed URLs (never fetched with, stored or shown)")
        for name, cands in groups.items():
            summaries.setdefault(name, OutletSummary(name)).discovered = len(cands)
        futures = {name: fetch_extract_task.submit(name, cands, settings, validators[name], refetch)
                   for name, cands in groups.items()}
        results: dict[str, list[PageItem]] = {}
        for name, fut in futures.items():
            try:
                results[name] = fut.result()
            except Exception as exc:  # noqa: BLE001 - one outlet down must not lose the others' pages
                summaries[name].failed += len(groups[name])
                summaries[name].errors.append(f"fetch/extract failed: {exc}")
                logger.warning("%s: fetch/extract failed: %s", one_line(name), one_line(str(exc)))
        with corpus_writer_lock(settings, timeout=WRITER_LOCK_TIMEOUT_S, what="ingest"):
            summaries = store_task(settings, run_id, [*outlets, *extra.values()], results, summaries, discovered)
            index = index_task(settings) if not interrupt.stop_requested() else _index_as_is(settings)
        rows = summarise(summaries)
        for r in rows:
            logger.info("%s: discovered %d, fetched %d, new %d, unchanged %d, skipped %d, failed %d",
                        one_line(r["outlet"]), r["discovered"], r["fetched"], r["new"], r["unchanged"], r["skipped"],
                        r["failed"])
        key = artifact_slug(outlets_file, query)
        title = f"Ingest of {outlet_set_name(outlets_file)}" + (f" + {query}" if query else "")
        create_table_artifact([{k: table_cell(v) for k, v in r.items()} for r in rows],
                              key=f"ingest-summary-{key}", description=md_text(title))
        create_markdown_artifact(_report_markdown(title, rows, index, summaries), key=f"ingest-report-{key}",
                                 description=md_text(title))
        not_modified = {"sources": sum(len(d.not_modified) for d in discovered),
                        "pages": sum(1 for items in results.values() for i in items
                                     if isinstance(i, PageOutcome) and i.outcome == "not_modified")}
        logger.info("conditional GET: %d of %d feeds and sitemaps and %d pages unchanged (HTTP 304)",
                    not_modified["sources"], not_modified["sources"] + sum(d.fetched for d in discovered),
                    not_modified["pages"])
        summary = {"run_id": run_id, "outlets": rows, "index": index,
                   "errors": {s.outlet: s.errors for s in summaries.values() if s.errors},
                   "sources": {"fetched": sum(d.fetched for d in discovered), "not_modified": not_modified["sources"]},
                   "pages_not_modified": not_modified["pages"],
                   "outlets_not_fetched": {"languages": list(settings.languages), "by_language": other_languages}}
        reason = interrupt.stop_reason()
        if reason:  # a signal stopped the fetching: what was fetched and extracted before it is stored
            summary["interrupted"] = reason
        status = "interrupted" if reason else "completed"
        return summary
    except (KeyboardInterrupt, interrupt.Interrupted) as exc:  # a second signal: stop at once
        status, summary = "interrupted", {**summary, "interrupted": str(exc) or "interrupted"}
        raise
    finally:
        with open_store(settings) as store:
            store.finish_run(run_id, status, {"status": status, **summary})


def run_ingest(settings: Settings, outlets_file: str | None = None, query: str | None = None,
               since: str | None = None) -> dict[str, Any]:
    """Run the ingest flow for the CLI: Prefect home in the data folder; ephemeral unless PREFECT_API_URL is set."""
    outlets = outlets_file or (str(settings.outlets_file) if settings.outlets_file else None)
    with prefect_env(settings), tags(*run_tags(outlets, query)):
        start_ephemeral_server(settings)
        flow_fn = ingest_flow
        if settings.task_runner == "dask":
            flow_fn = ingest_flow.with_options(task_runner=dask_runner(settings))
        result: dict[str, Any] = flow_fn(outlets, query, since, str(settings.home), settings.task_runner)
        return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python flows/ingest.py", description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", help="outlets TOML file (default: the bundled outlets)")
    parser.add_argument("--query", help="also discover with this GDELT query")
    parser.add_argument("--since", help="only articles published on or after this date (ISO 8601)")
    parser.add_argument("--home", help="data folder (default: CORROBORATE_HOME)")
    parser.add_argument("--dask", action="store_true", help="run fetch/extract on a Dask cluster")
    args = parser.parse_args(argv)
    settings = flow_settings(args.home, task_runner="dask" if args.dask else None)
    summary = run_ingest(settings, args.outlets, args.query, args.since)
    print(json.dumps(summary["outlets"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
