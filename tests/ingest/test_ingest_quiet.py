"""A normal ingest is quiet (no Prefect warnings, progress still logged) and publishes its sources'
health as a table artifact; on the loopback site's fresh, stale and dead sources (a small ingest)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # flows/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import make_loopback_settings  # noqa: E402
from newssite import HEALTH_PAGES, NewsSite  # noqa: E402

from corroborate.screens import table_cell  # noqa: E402

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        mp.setenv("DO_NOT_TRACK", "1")
        with prefect_test_harness(server_startup_timeout=180):
            yield


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_ingest_logs_no_warnings_and_publishes_source_health(
    prefect_harness: None, news_site: NewsSite, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import run_ingest

    outlets = tmp_path / "health-outlets.toml"
    outlets.write_text(news_site.health_outlets_toml(), encoding="utf-8")
    settings = make_loopback_settings(tmp_path / "home")
    handler = _Records()
    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        summary = run_ingest(settings, str(outlets))
    finally:
        for logger in loggers:
            logger.removeHandler(handler)

    records = list({id(r): r for r in handler.records}.values())
    prefect_warnings = [f"{r.name}: {r.getMessage()}" for r in records
                        if r.levelno >= logging.WARNING and r.name.startswith("prefect")]
    assert not [w for w in prefect_warnings if "worker thread" in w], prefect_warnings
    assert not prefect_warnings
    # progress stays visible: the per-outlet line is logged at INFO
    assert any("Loopback Health: discovered" in r.getMessage() for r in records if r.levelno == logging.INFO)
    (row,) = summary["outlets"]
    assert row["discovered"] == 2 * HEALTH_PAGES and row["failed"] == 0

    with get_client(sync_client=True) as client:
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["source-health-health-outlets"])))
    assert tables, "the source-health table artifact is published under a stable key"
    rows = tables[0].data if isinstance(tables[0].data, list) else json.loads(str(tables[0].data))
    # every text cell is Markdown that links nothing (corroborate.screens.table_cell): "http\\://…"
    urls = {k: table_cell(v) for k, v in news_site.health_urls.items()}
    assert {r["url"]: r["state"] for r in rows} == {
        urls["fresh_feed"]: "ok", urls["stale_feed"]: "stale", urls["dead_feed"]: "dead",
        urls["fresh_sitemap"]: "ok", urls["dead_sitemap"]: "dead",
    }
    assert {r["status"] for r in rows if r["state"] == "dead"} == {404}
    assert set(rows[0]) == {"outlet", "kind", "url", "status", "items", "newest", "stale", "state", "action",
                            "source"}
