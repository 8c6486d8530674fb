"""One corpus, many hosts, end to end on loopback (issue 25, "Done when"; docs/scaling.md, "A Prefect server on it,
two workers, a check"), every piece a real process:

- a PostgreSQL server (``system_postgres`` in tests/conftest.py: this machine's PostgreSQL, which has the pg_trgm
  extension a Prefect server's schema needs; the pgserver wheel's PostgreSQL does not) holding two databases, one
  for Prefect and one for the corpus, as in the documented recipe: one server, and the test starts nothing more;
- ``prefect server start`` keeping its database in PostgreSQL (PREFECT_SERVER_DATABASE_*), its home in a temp folder;
- two workers, ``corroborate ingest`` processes with a data folder, Prefect home and outlets file each (two outlets
  of the loopback news site with different pages), at the same time, reporting their flow runs to that server
  (PREFECT_API_URL) and storing into the one corpus (CORROBORATE_STORE_URL, the password in PGPASSWORD);
- ``corroborate check`` from a third data folder, which finds pages of both workers;
- and the Prefect server has recorded both flow runs, Completed: through its API and in its tables in PostgreSQL.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import PG_PASSWORD, PG_USER, quoted_password, wait_for_health
from hostile import child_env, one_outlet_file, serving
from newssite import NewsSite

from corroborate.corpus.pglocal import SystemPostgres, _free_port
from corroborate.corpus.pgstore import PostgresStore
from corroborate.settings import load_settings

pytestmark = [pytest.mark.flow, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 420  # the first start migrates Prefect's schema: 15 s on a quiet 2-core box, 250 s at load 10
RUN_TIMEOUT_S = 600
PAGES_PER_WORKER = 3


def _env(**more: str) -> dict[str, str]:
    """A child's environment: loopback fetching, offline models, nothing of ours, Prefect's or libpq's inherited."""
    env = {k: v for k, v in child_env().items() if not k.startswith("PG")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", **more)
    return env


def prefect_server_env(server: SystemPostgres, database: str, home: Path) -> dict[str, str]:
    """What docs/scaling.md sets for a Prefect server on PostgreSQL (the password apart from the URL)."""
    return _env(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_DRIVER="postgresql+asyncpg",
        PREFECT_SERVER_DATABASE_HOST="127.0.0.1",
        PREFECT_SERVER_DATABASE_PORT=str(server.port),
        PREFECT_SERVER_DATABASE_USER=PG_USER,
        PREFECT_SERVER_DATABASE_NAME=database,
        PREFECT_SERVER_DATABASE_PASSWORD=PG_PASSWORD,
        PREFECT_UI_ENABLED="false",  # nobody browses it here; a served dashboard changes nothing below
    )


@pytest.fixture(scope="module")
def prefect_on_postgres(system_postgres: SystemPostgres) -> Iterator[tuple[str, str, Path]]:
    """A real ``prefect server start`` whose database is a new database in PostgreSQL; yields its API URL, that
    database's name and the server's Prefect home. Stopped, and its database dropped, afterwards."""
    database = "prefect_" + secrets.token_hex(4)
    system_postgres.create_database(database, PG_USER)
    home = Path(tempfile.mkdtemp(prefix="corroborate-prefect-"))
    port = _free_port()
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=prefect_server_env(system_postgres, database, home), stdout=log, stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for_health(proc, f"{api}/health", SERVER_START_TIMEOUT_S, log_path, "prefect server")
        yield api, database, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        try:
            system_postgres.drop_database(database)
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def corpus_database(system_postgres: SystemPostgres) -> Iterator[str]:
    """A new, empty database for the corpus in the same server; its URL without the password (that goes in
    PGPASSWORD, as docs/scaling.md advises)."""
    name = "corpus_" + secrets.token_hex(4)
    system_postgres.create_database(name, PG_USER)
    try:
        yield system_postgres.url(name, PG_USER)
    finally:
        system_postgres.drop_database(name)


def _claim_from(store: PostgresStore, url: str) -> str:
    """A sentence of the stored page at ``url``, as a claim a checker should find that page for."""
    doc = store.document_by_url(url)
    assert doc is not None, f"never stored: {url}"
    passages = [p for p in store.passages(store.passage_ids().tolist()).values() if p.document_id == doc.id]
    sentences = [s.strip() for p in sorted(passages, key=lambda p: p.start)
                 for s in re.split(r"(?<=[.!?])\s+", p.text)]
    fitting = [s for s in sentences if 8 <= len(s.split()) <= 40 and s.endswith(".")]
    assert fitting, f"no sentence to check in {url}: {sentences[:5]}"
    return fitting[0]


def _finish(proc: subprocess.Popen[str], deadline: float, what: str) -> tuple[int, str, str]:
    """Wait for ``proc`` until ``deadline``; past it, kill it and fail with what it wrote."""
    try:
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{what} still running after {RUN_TIMEOUT_S} s: {out[-2000:]}\n{err[-3000:]}")
    return proc.returncode, out, err


def _flow_runs(api: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["ingest"]}}}, timeout=30)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def test_two_workers_and_a_checker_on_a_prefect_server_on_postgres(
    system_postgres: SystemPostgres, prefect_on_postgres: tuple[str, str, Path], corpus_database: str,
    news_site: NewsSite, tmp_path: Path,
) -> None:
    api, prefect_database, prefect_server_home = prefect_on_postgres
    pages = sorted(news_site.pages.values())
    per_worker = {"a": pages[:PAGES_PER_WORKER], "b": pages[PAGES_PER_WORKER:2 * PAGES_PER_WORKER]}
    homes = {name: tmp_path / f"home-{name}" for name in ("a", "b", "c")}
    store_env = {"CORROBORATE_STORE_URL": corpus_database, "PGPASSWORD": PG_PASSWORD}

    # two workers at once: own data folder (Prefect home, fetch cache, index cache), own outlets, one corpus
    with serving(per_worker["a"]) as feed_a, serving(per_worker["b"]) as feed_b:
        procs = {}
        for name, feed in (("a", feed_a), ("b", feed_b)):
            folder = tmp_path / f"worker-{name}"
            folder.mkdir()
            outlets = one_outlet_file(folder, feed, f"Worker {name.upper()} Times")
            env = _env(CORROBORATE_HOME=str(homes[name]), PREFECT_API_URL=api, **store_env)
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "corroborate.cli", "ingest", "--outlets", str(outlets)],
                cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        results = {name: _finish(p, deadline, f"worker {name}") for name, p in procs.items()}
    for name, (code, out, err) in results.items():
        assert code == 0 and "Traceback" not in err, f"worker {name}: {out[-2000:]}\n{err[-3000:]}"
        assert PG_PASSWORD not in out + err and quoted_password() not in out + err
        # the runs went to the server: no worker started an ephemeral Prefect server of its own
        prefect_home = load_settings({"home": homes[name]}, environ={}).prefect_home
        assert not (prefect_home / "prefect.db").exists(), f"worker {name} used an ephemeral Prefect server"

    with PostgresStore(corpus_database.replace(f"{PG_USER}@", f"{PG_USER}:{quoted_password()}@", 1)) as store:
        assert store.document_count() == 2 * PAGES_PER_WORKER and store.unembedded_count() == 0
        for name in ("a", "b"):
            for url in per_worker[name]:
                assert store.document_by_url(url) is not None, f"worker {name} never stored {url}"
        assert sorted(r["status"] for r in store.runs()) == ["completed", "completed"]
        claims = {name: _claim_from(store, per_worker[name][0]) for name in ("a", "b")}

    # a third process with its own data folder (no index yet: it builds its cache from PostgreSQL)
    claims_file = tmp_path / "claims.txt"
    claims_file.write_text(f"{claims['a']}\n{claims['b']}\n", encoding="utf-8")
    checker = subprocess.Popen(
        [sys.executable, "-m", "corroborate.cli", "check", "--file", str(claims_file), "--jsonl"],
        cwd=REPO, env=_env(CORROBORATE_HOME=str(homes["c"]), **store_env), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    code, out, err = _finish(checker, time.monotonic() + RUN_TIMEOUT_S, "the check")
    assert code == 0 and "Traceback" not in err, err[-3000:]
    reports = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [r["claim"] for r in reports] == [claims["a"], claims["b"]], out[-3000:]
    for name, report in zip(("a", "b"), reports, strict=True):
        found = {e["url"] for e in report["evidence"]}
        assert per_worker[name][0] in found, f"the check did not find worker {name}'s page: {sorted(found)}"
    assert PG_PASSWORD not in out + err

    # the Prefect server on PostgreSQL recorded both workers' flow runs, and they ended Completed
    runs = _flow_runs(api)
    assert sorted(r["parameters"]["home"] for r in runs) == sorted(str(homes[n]) for n in ("a", "b")), runs
    for run in runs:
        assert run["state_type"] == "COMPLETED" and run["state_name"] == "Completed", run["state"]
    stored = system_postgres.sql("SELECT flow_run.state_type::text, flow_run.state_name, flow.name FROM flow_run "
                                 "JOIN flow ON flow.id = flow_run.flow_id ORDER BY 1", prefect_database)
    assert stored == [("COMPLETED", "Completed", "ingest")] * 2, stored
    assert not (prefect_server_home / "prefect.db").exists()  # the server kept nothing in SQLite
