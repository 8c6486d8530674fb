"""A throwaway PostgreSQL server on this machine, from the ``pgserver`` wheel (PostgreSQL 16 + pgvector).

For the test suite, the benchmarks and a one-machine trial of the shared store (docs/scaling.md); a
team runs a real server instead. It listens on 127.0.0.1 (a free port) with password (SCRAM)
authentication, as a remote server would, and on a unix socket in its folder, where its superuser
``postgres`` needs no password (only this machine's root and the server's own user can reach it).

``pgserver.get_server`` makes and starts the cluster (as the user ``pgserver`` when run as root, which
PostgreSQL refuses to run as); the server is then restarted with the settings above under ``pg_ctl``,
which this class drives from then on (stop, restart: the restart test uses it)::

    python -m corroborate.corpus.pglocal /tmp/pg      # start; prints a store_url; Ctrl-C stops it

:class:`SystemPostgres` does the same with the PostgreSQL installed on this machine (Debian's
``postgresql`` and ``postgresql-contrib`` packages): it has the ``pg_trgm`` extension that a Prefect
server's schema needs and the wheel lacks, so a Prefect server can keep its database in it::

    python -m corroborate.corpus.pglocal --system /tmp/pg
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from corroborate.errors import StoreError

ADMIN = "postgres"
SYSTEM_USER = "postgres"  # the unprivileged user Debian's package makes; initdb and postgres refuse to run as root
SYSTEM_ROOT = Path("/usr/lib/postgresql")  # Debian: one <major version>/bin per installed server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """One PostgreSQL cluster in ``folder``/data; start it, make roles and databases, stop it."""

    def __init__(self, folder: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.folder = Path(folder).resolve()
        self.pgdata = self.folder / "data"
        self.port = port or _free_port()
        self.durable = durable  # False: fsync off (tests); True: PostgreSQL's defaults (benchmarks)
        self.socket_dir: Path | None = None
        self._user: str | None = None
        self._cwd: Path | None = None  # where pg_ctl runs; None: here

    # -- the server ---------------------------------------------------------------------------------

    def bin_dir(self) -> Path:
        """The folder of the server's programs (pg_ctl, initdb, postgres)."""
        from pgserver._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)

    def _pg_ctl(self, *args: str, timeout: float = 60.0) -> None:
        command = [str(self.bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-w", "-t", str(int(timeout)), *args]
        # output to a file, not a pipe: the server pg_ctl starts inherits it and would hold a pipe open
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(command, check=True, stdout=out, stderr=out, user=self._user, timeout=timeout + 10,
                               cwd=self._cwd)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                out.seek(0)
                log = self.pgdata / "log"
                tail = log.read_text(errors="replace")[-1000:] if log.exists() else ""
                raise StoreError(f"pg_ctl {args[-1]} failed in {self.pgdata}: {exc}: {out.read()[-500:]} "
                                 f"(log: {' '.join(tail.split())})") from None

    def start(self) -> LocalPostgres:
        """Make the cluster if needed and start it listening on 127.0.0.1:``port``; returns self."""
        from pgserver.postgres_server import get_server

        self.folder.mkdir(parents=True, exist_ok=True)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            server: Any = get_server(self.pgdata, cleanup_mode=None)  # initdb, then a socket-only start
            info = server.get_postmaster_info()
            self.socket_dir = Path(info.socket_dir) if info.socket_dir else self.pgdata
            self._user = server.system_user
            self._pg_ctl("-m", "fast", "stop")
            self._configure()
        else:
            self._user = "pgserver" if os.geteuid() == 0 else None
            self.socket_dir = self.pgdata
            self._configure()
        self._pg_ctl("-l", str(self.pgdata / "log"), "start")
        return self

    def _configure(self) -> None:
        assert self.socket_dir is not None
        (self.pgdata / "pg_hba.conf").write_text(
            "# corroborate.corpus.pglocal: the superuser over the socket; everyone else by password on loopback\n"
            f"local all {ADMIN} trust\n"
            "local all all scram-sha-256\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        extra = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "password_encryption = 'scram-sha-256'",
            "max_connections = 200",
        ]
        if not self.durable:
            extra += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        (self.pgdata / "postgresql.auto.conf").write_text("\n".join(extra) + "\n")
        if self._user is not None:
            import shutil

            for name in ("pg_hba.conf", "postgresql.auto.conf"):
                shutil.chown(self.pgdata / name, self._user, self._user)

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Stop (fast: open connections are cut) and start again on the same port."""
        self._pg_ctl("-m", "fast", "-l", str(self.pgdata / "log"), "restart")

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- roles, databases, URLs -----------------------------------------------------------------------

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://{ADMIN}@/{database}?host={self.socket_dir}&port={self.port}"

    def url(self, database: str, user: str, password: str | None = None, host: str = "127.0.0.1") -> str:
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{user}{secret}@{host}:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement as the superuser (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(self.admin_url(database), autocommit=True) as conn:
            cur = conn.execute(statement)
            return list(cur.fetchall()) if cur.description else []

    def create_role(self, name: str, password: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name),
                                                                             sql.Literal(password)))

    def create_database(self, name: str, owner: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _version(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in bin_dir.parent.name.split(".") if part.isdigit())


def system_bin_dir(root: Path | None = None) -> Path | None:
    """The bin folder of the newest PostgreSQL installed under ``root`` (default :data:`SYSTEM_ROOT`) whose server
    has the ``pg_trgm`` extension (Debian: ``apt-get install postgresql postgresql-contrib``); None when none has."""
    found = []
    for bin_dir in (SYSTEM_ROOT if root is None else root).glob("*/bin"):
        if not all((bin_dir / name).is_file() for name in ("initdb", "pg_ctl", "postgres", "pg_config")):
            continue
        try:
            share = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                                   check=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if (Path(share) / "extension" / "pg_trgm.control").is_file():
            found.append(bin_dir)
    return max(found, key=_version, default=None)


class SystemPostgres(LocalPostgres):
    """A throwaway cluster of this machine's own PostgreSQL (:func:`system_bin_dir`) in ``folder``/data.

    Made with its ``initdb`` and run under ``pg_ctl`` as the user ``postgres`` when this process is root (the
    server refuses root), else as this user; listening on 127.0.0.1 with password authentication and on a socket in
    the data folder, as :class:`LocalPostgres`. The machine's own clusters (Debian's ``main``) are not touched.
    """

    def __init__(self, folder: Path, *, bin_dir: Path | None = None, port: int | None = None,
                 durable: bool = True) -> None:
        super().__init__(folder, port=port, durable=durable)
        found = bin_dir or system_bin_dir()
        if found is None:
            raise StoreError(f"no PostgreSQL server with the pg_trgm extension under {SYSTEM_ROOT} "
                             "(apt-get install postgresql postgresql-contrib)")
        self._bin = found

    def bin_dir(self) -> Path:
        return self._bin

    def start(self) -> SystemPostgres:
        import shutil

        self.folder.mkdir(parents=True, exist_ok=True)
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        if self._user is not None:
            shutil.chown(self.folder, self._user, self._user)
        self._cwd = self.folder  # a folder the server's user may enter (initdb and pg_ctl look up their cwd)
        self.socket_dir = self.pgdata
        if not (self.pgdata / "PG_VERSION").exists():
            command = [str(self._bin / "initdb"), "-D", str(self.pgdata), "-U", ADMIN, "-E", "UTF8", "--locale=C",
                       "--auth-local=trust", "--auth-host=scram-sha-256"]
            result = subprocess.run(command, capture_output=True, text=True, user=self._user, cwd=self.folder,
                                    timeout=300, check=False)
            if result.returncode != 0:
                who = f" (it runs as the user {self._user}: {self.folder} and its parents must be open to it)" \
                    if self._user is not None and "Permission denied" in result.stderr else ""
                raise StoreError(f"initdb failed in {self.pgdata}: {' '.join(result.stderr.split())[-500:]}{who}")
        self._configure()
        self._pg_ctl("-l", str(self.pgdata / "log"), "start")
        return self


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    system = args[:1] == ["--system"]
    if system:
        args = args[1:]
    if len(args) != 1:
        print("usage: python -m corroborate.corpus.pglocal [--system] FOLDER", file=sys.stderr)
        return 2
    server = (SystemPostgres if system else LocalPostgres)(Path(args[0])).start()
    password = secrets.token_urlsafe(16)
    try:
        server.create_role("corroborate", password)
        server.create_database("corroborate", "corroborate")
    except Exception as exc:  # noqa: BLE001 - a second start finds them made
        print(f"note: {str(exc).splitlines()[0]}", file=sys.stderr)
    print(f"PostgreSQL from {server.bin_dir()} on 127.0.0.1:{server.port}, data in {server.pgdata}")
    print(f"export PGPASSWORD='{password}'  # for a role made just now")
    print(f"export CORROBORATE_STORE_URL='{server.url('corroborate', 'corroborate')}'")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
