"""The check flows: one article, or one claim, against the stored corpus; the result as dashboard artifacts.

``corroborate serve`` runs each flow run in a new process, so the check tasks first ask the warm
checker service that the serving process keeps (:mod:`corroborate.service`): the models stay loaded
between runs. Without one (``python flows/check.py``, a worker elsewhere, a service that went away)
the :class:`Checker` (store, index, embedder, stance model) is loaded in this process and cached per
data folder. Either is reopened when an ingest has moved the store on since it was loaded.

    python flows/check.py article FILE_OR_URL
    python flows/check.py claim "TEXT"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # `python flows/check.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from corroborate.check.checker import Article, ArticleReport, Checker, ClaimResult, read_article
from corroborate.report import table_rows, to_markdown
from corroborate.screens import md_text, one_line, table_cell
from corroborate.service import ServiceClient, WarmChecker, warm_or_here
from corroborate.settings import Settings
from flows.common import flow_settings, prefect_env, slug, start_ephemeral_server

RUN_NAME_CLAIM_CHARS = 60
T = TypeVar("T")

_CHECKERS: dict[Path, WarmChecker] = {}
_CHECKERS_LOCK = threading.Lock()


def get_checker(settings: Settings) -> Checker:
    """The process's Checker for this data folder; reopened when the store's generation moved on."""
    home = settings.home.resolve()
    with _CHECKERS_LOCK:
        warm = _CHECKERS.get(home)
        if warm is None:
            warm = _CHECKERS[home] = WarmChecker(settings, log=_log)
    return warm.get()


def _log(message: str) -> None:
    try:
        get_run_logger().info(message)
    except Exception:  # noqa: BLE001 - outside a run context there is no run logger
        print(message, file=sys.stderr)


# -- tasks ---------------------------------------------------------------------------------------


@task(name="read-article", cache_policy=NO_CACHE, timeout_seconds=120)
def read_article_task(source: str, settings: Settings) -> Article:
    return read_article(source, settings)


def _warm_or_here(settings: Settings, check: Callable[[ServiceClient | Checker], T]) -> T:
    """``check`` as :func:`corroborate.service.warm_or_here` decides; here = this process's Checker."""
    return warm_or_here(settings, check, log=_log, here=lambda: contextlib.nullcontext(get_checker(settings)))


@task(name="check-article", cache_policy=NO_CACHE, timeout_seconds=1800)
def check_article_task(article: Article, settings: Settings) -> ArticleReport:
    return _warm_or_here(settings, lambda checker: checker.check_article(article))


@task(name="check-claim", cache_policy=NO_CACHE, timeout_seconds=600)
def check_claim_task(claim: str, settings: Settings) -> ClaimResult:
    return _warm_or_here(settings, lambda checker: checker.check_claim(claim))


@task(name="publish-report", cache_policy=NO_CACHE, timeout_seconds=60)
def publish_report_task(report: ArticleReport | ClaimResult, key: str, title: str) -> None:
    """A table (one row per claim) and the Markdown report, under keys stable per article or claim.

    Both are made safe by corroborate.screens: the UI renders the Markdown report, the table's cells and
    the description as Markdown, so all three take its Markdown path (escaped text, http(s) links only).
    """
    rows = [{k: table_cell(v) for k, v in row.items()} for row in table_rows(report)]
    create_table_artifact(rows or [{"status": "", "claim": "(no check-worthy claims found)"}],
                          key=f"check-{key}", description=md_text(title))
    create_markdown_artifact(to_markdown(report), key=f"check-report-{key}", description=md_text(title))


# -- flows ---------------------------------------------------------------------------------------


def _article_run_name() -> str:
    source = str(flow_run.parameters.get("source", ""))
    return one_line(f"check-article: {Path(source).name or source}")


def _claim_run_name() -> str:
    claim = " ".join(str(flow_run.parameters.get("claim", "")).split())
    return one_line(f"check-claim: {claim[:RUN_NAME_CLAIM_CHARS]}")


def article_key(article: Article) -> str:
    return slug(article.title or Path(article.source).stem or article.url or "article", "article")


def claim_key(claim: str) -> str:
    return slug(claim, "claim")


@flow(name="check-article", flow_run_name=_article_run_name)
def check_article_flow(source: str, home: str | None = None) -> dict[str, Any]:
    """Check every claim of an article (a file path or a URL); returns the JSON of `corroborate article --json`."""
    settings = flow_settings(home)
    article = read_article_task(source, settings)
    _rename_run(one_line(f"check-article: {article.title or Path(source).name or source}"))
    report = check_article_task(article, settings)
    data = report.to_dict()
    summary = data["article"]["summary"]
    get_run_logger().info("%s: %d claims — %d corroborated, %d contradicted, %d unmatched", one_line(report.title),
                          data["article"]["claims"], summary["corroborated"], summary["contradicted"],
                          summary["unmatched"])
    publish_report_task(report, article_key(article), f"Check of {report.title}")
    return data


@flow(name="check-claim", flow_run_name=_claim_run_name)
def check_claim_flow(claim: str, home: str | None = None) -> dict[str, Any]:
    """Check one claim; returns the JSON of `corroborate check --json`."""
    settings = flow_settings(home)
    result = check_claim_task(claim, settings)
    data = result.to_dict()
    get_run_logger().info("%s: %s (confidence %.2f)", one_line(result.claim[:RUN_NAME_CLAIM_CHARS]), data["status"],
                          data["confidence"])
    publish_report_task(result, claim_key(result.claim), f"Check of claim: {result.claim[:RUN_NAME_CLAIM_CHARS]}")
    return data


def _rename_run(name: str) -> None:
    """Name the run after the article's title once it is known (the file name is all we have at start)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(ctx.flow_run.id, name=name[:200])
    except Exception as exc:  # noqa: BLE001 - a cosmetic rename must never fail the check
        get_run_logger().debug("could not rename the run: %s", exc)


def run_check(settings: Settings, *, source: str | None = None, claim: str | None = None) -> dict[str, Any]:
    """Run one check flow with Prefect's files in the data folder (ephemeral unless PREFECT_API_URL is set)."""
    with prefect_env(settings):
        start_ephemeral_server(settings)
        if source is not None:
            return check_article_flow(source, str(settings.home))
        if claim is not None:
            return check_claim_flow(claim, str(settings.home))
    raise ValueError("run_check needs a source or a claim")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python flows/check.py", description="Check an article or a claim.")
    parser.add_argument("kind", choices=["article", "claim"])
    parser.add_argument("value", help="file path or URL (article), or the claim's text")
    parser.add_argument("--home", help="data folder (default: CORROBORATE_HOME)")
    args = parser.parse_args(argv)
    settings = flow_settings(args.home)
    data = run_check(settings, **({"source": args.value} if args.kind == "article" else {"claim": args.value}))
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
