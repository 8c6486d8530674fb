"""A real PostgreSQL server for the session (the pgserver wheel: PostgreSQL 16), and a fresh database per test.

The server listens on 127.0.0.1 with password authentication, as a team's server would, and is
stopped at the end of the session. ``./run test`` installs it (the ``postgres`` extra); under CI a
missing package fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_USER = "corroborate"
PG_PASSWORD = "pw-" + secrets.token_hex(8) + ":@/x"  # characters a URL must escape: redaction must still find it


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
