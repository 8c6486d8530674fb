"""Shared fixtures: the loopback news site and settings that let the fetcher talk to it."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from corroborate.judge.reading import Judge
from corroborate.settings import Settings, load_settings

try:  # tests/ has no __init__.py, so pytest puts tests/ itself on sys.path
    from newssite import DATA_DIR, NewsSite
except ImportError:  # pragma: no cover - if tests/ ever becomes a package
    from tests.newssite import DATA_DIR, NewsSite


# No background warm checker (corroborate/daemon.py) from a test's `check` or `article`: each would keep the models
# loaded for 15 idle minutes after the test. tests/test_daemon.py turns it on for its own commands; helpers that
# clear CORROBORATE_* from a child's environment keep this one.
os.environ.setdefault("CORROBORATE_CHECKER_DAEMON", "0")


# The files that take a minute or more (./run test --durations, on 2 cores), longest first. `./run test` hands whole
# files to two processes in collection order, so these go first: a long file started last would run alone at the
# end while the other process idles (the many-hosts test did: 100 s of a 1,000 s run). Others keep their order.
SLOW_FILES_FIRST = (
    "tests/test_flows.py",
    "tests/test_e2e_demo.py",
    "tests/corpus/test_pgstore.py",
    "tests/test_signals.py",
    "tests/test_cli_writers.py",
    "tests/test_many_hosts.py",
    "tests/test_load.py",
    "tests/test_daemon.py",
    "tests/corpus/test_concurrency.py",
    "tests/test_crash.py",
    "tests/ingest/test_harden_sources.py",
    "tests/judge/test_judge.py",
    "tests/test_dashboard.py",
    "tests/test_batches.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    root = Path(str(config.rootpath))

    def slow_rank(item: pytest.Item) -> int:
        try:
            name = Path(str(item.path)).relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=slow_rank)  # stable: within a file, and among the rest, the collected order stays


@pytest.fixture(scope="session")
def news_site() -> Iterator[NewsSite]:
    """One real HTTP server on 127.0.0.1 for the whole session; call ``reset_log()`` before asserting on it."""
    if not (DATA_DIR / "html").is_dir() or not (DATA_DIR / "ground-truth.json").is_file():
        pytest.skip(f"news pages not found at {DATA_DIR} (clone the repo beside shared/data)")
    site = NewsSite(DATA_DIR).start()
    try:
        yield site
    finally:
        site.stop()


def make_loopback_settings(home: Path, **overrides: object) -> Settings:
    """Settings for talking to the loopback site fast; the caller's environment does not leak in."""
    values: dict[str, object] = {
        "home": home,
        "allow_private": True,
        "per_host_delay_s": 0,
        "backoff_base_s": 0.05,
        "backoff_max_s": 2,
        "timeout_s": 3,
        "per_host_concurrency": 4,
    }
    values.update(overrides)
    return load_settings(values, environ={})


@pytest.fixture
def loopback_settings(tmp_path: Path) -> Settings:
    return make_loopback_settings(tmp_path)


@pytest.fixture(scope="session")
def judge() -> Judge:
    """The bundled sentence judge (cross-encoder + MiniLM), loaded once per test session."""
    return Judge.load()


# --- a real PostgreSQL server (the pgserver wheel: PostgreSQL 16) for the store tests -----------------------
# (here and not in tests/corpus/conftest.py: a second module named conftest would shadow this one for the
# tests that import make_loopback_settings from it)

PG_USER = "corroborate"
PG_PASSWORD = "pw-" + secrets.token_hex(8) + ":@/x"  # characters a URL must escape: redaction must still find it


def wait_for_health(proc: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path, what: str) -> None:
    """Wait until ``url`` answers 200 while ``proc`` (a server whose output goes to ``log``) runs; a test
    failure with the log's tail when it exits or does not answer within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not up after {timeout_s} s: {log.read_text()[-3000:]}")
        time.sleep(0.5)


def _under_ci(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One PostgreSQL server for the whole session, with the login role ``corroborate``."""
    if not _under_ci():
        pytest.importorskip("pgserver", reason="the postgres extra is not installed (pip install -e '.[postgres]')")
        pytest.importorskip("psycopg", reason="the postgres extra is not installed (pip install -e '.[postgres]')")
    from corroborate.corpus.pglocal import LocalPostgres

    # a folder of its own, not under pytest's basetemp: another pytest session of this user starting meanwhile
    # removes the oldest basetemps, a live server's data folder with them
    folder = Path(tempfile.mkdtemp(prefix="corroborate-pg-"))
    server = LocalPostgres(folder, durable=False).start()
    try:
        server.create_role(PG_USER, PG_PASSWORD)
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def quoted_password() -> str:
    from urllib.parse import quote

    return quote(PG_PASSWORD, safe="")


@pytest.fixture
def pg_url(postgres: object, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database owned by ``corroborate``; its URL (with the password); dropped afterwards."""
    from corroborate.corpus.pglocal import LocalPostgres

    assert isinstance(postgres, LocalPostgres)
    name = "t_" + secrets.token_hex(6)
    postgres.create_database(name, PG_USER)
    try:
        yield postgres.url(name, PG_USER, quoted_password())
    finally:
        postgres.drop_database(name)


# --- this machine's own PostgreSQL (Debian's postgresql + postgresql-contrib) for a Prefect server's database ---
# Prefect's schema needs the pg_trgm extension, which the pgserver wheel above lacks. `./run test` installs the
# packages with apt-get when it can (`./run postgres`); without them the tests that need this server skip locally
# and fail under CI (CI=true), where they must run.


def require_system_postgres(environ: Mapping[str, str]) -> Path:
    """The bin folder of a PostgreSQL server with pg_trgm; without one, skip locally but fail under CI."""
    if importlib.util.find_spec("psycopg") is None:
        reason = "psycopg not installed (pip install -e '.[postgres]'): the test cannot talk to PostgreSQL"
    else:
        from corroborate.corpus.pglocal import SYSTEM_ROOT, system_bin_dir

        found = system_bin_dir()
        if found is not None:
            return found
        reason = (f"no PostgreSQL server with the pg_trgm extension under {SYSTEM_ROOT} (apt-get install -y "
                  "postgresql postgresql-contrib, or ./run postgres): a Prefect server cannot keep its database there")
    if _under_ci(environ):
        pytest.fail(f"{reason}; under CI this test must run, not skip", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def system_postgres() -> Iterator[object]:
    """One cluster of this machine's PostgreSQL per test process (pytest-xdist worker), in a temp folder, on a free
    loopback port with password authentication, run as the user ``postgres`` when the tests run as root; with the
    login role ``corroborate``. Stopped and removed at the end of the session."""
    bin_dir = require_system_postgres(os.environ)
    from corroborate.corpus.pglocal import SystemPostgres

    folder = Path(tempfile.mkdtemp(prefix="corroborate-pgsys-"))  # not under basetemp: see `postgres` above
    server = SystemPostgres(folder, bin_dir=bin_dir, durable=False)
    try:
        server.start()
        server.create_role(PG_USER, PG_PASSWORD)
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
