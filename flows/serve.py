"""Deployments and the local Prefect server.

``corroborate server`` runs ``prefect server start`` with Prefect's files in the data folder: the
dashboard. ``corroborate serve`` registers four deployments with that server and runs their flow
runs until interrupted:

- ``ingest-outlets``  every ``ingest_interval_minutes`` (default 30)
- ``ingest-query``    on ``ingest_query_cron`` with ``query = ingest_query`` (only when a query is set)
- ``check-article``   on demand, parameter ``source`` (a file path or URL)
- ``check-claim``     on demand, parameter ``claim``

Prefect starts every flow run in a new process, so the serving process also keeps a warm checker
service (:mod:`corroborate.service`): the check runs ask it and the models stay loaded between runs.

``prefect.yaml`` declares the same deployments for a process work pool (``prefect worker start
--pool corroborate``) when flows should run on other machines.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python flows/serve.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corroborate.corpus.lock import make_folder
from corroborate.errors import ConfigError
from corroborate.settings import Settings
from flows.common import flow_settings, prefect_env, prefect_env_vars

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4200


def api_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    return f"http://{host}:{port}/api"


def deployments(settings: Settings) -> list[Any]:
    """The four RunnerDeployments, parameterised by ``settings`` (the data folder, outlets, schedules)."""
    from flows.check import check_article_flow, check_claim_flow
    from flows.ingest import ingest_flow

    home = str(settings.home)
    outlets = str(settings.outlets_file) if settings.outlets_file else None
    out = [
        ingest_flow.to_deployment(
            "ingest-outlets", interval=timedelta(minutes=settings.ingest_interval_minutes),
            parameters={"outlets_file": outlets, "home": home, "task_runner": settings.task_runner},
            tags=["ingest"], description="Discover, fetch, store and index the outlets' new articles.",
            concurrency_limit=1,  # one writer at a time anyway (the writer lock); don't queue up a backlog
        ),
        check_article_flow.to_deployment(
            "check-article", parameters={"home": home}, tags=["check"],
            description="Check every claim of an article (parameter source: file path or URL).",
        ),
        check_claim_flow.to_deployment(
            "check-claim", parameters={"home": home}, tags=["check"],
            description="Check one claim against the corpus (parameter claim).",
        ),
    ]
    if settings.ingest_query:
        out.insert(1, ingest_flow.to_deployment(
            "ingest-query", cron=settings.ingest_query_cron,
            parameters={"outlets_file": outlets, "query": settings.ingest_query, "home": home,
                        "task_runner": settings.task_runner},
            tags=["ingest", "gdelt"], description="Ingest what GDELT finds for the configured query.",
            concurrency_limit=1,
        ))
    return out


def server_env_vars(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> dict[str, str]:
    """Environment of ``prefect server start``: the UI must be told its API's port, ``--port`` alone does not."""
    return {**prefect_env_vars(settings), "PREFECT_SERVER_API_HOST": host, "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_UI_API_URL": api_url(host, port)}


def _server_reachable(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/health", timeout=3.0).status_code == 200
    except httpx.HTTPError:
        return False


def main(settings: Settings) -> None:
    """``corroborate serve``: register the deployments with the Prefect server and run them until Ctrl-C.

    Deployments need a server that outlives this process, so an ephemeral one will not do: this
    uses PREFECT_API_URL, else the local ``corroborate server`` on port 4200.

    One ``serve`` per data folder (:func:`serve_lock`); a second one names the first and exits non-zero
    before it touches the Prefect server. On its way out a ``serve`` pauses only the deployments it
    registered that still run this data folder's flows (:func:`pause_own`), never Prefect's blanket
    "pause all deployments of this runner": another data folder's ``serve`` may have taken the names over.
    """
    from prefect import serve

    url = os.environ.get("PREFECT_API_URL") or api_url()
    with serve_lock(settings, url):
        if not _server_reachable(url):
            raise ConfigError(
                f"no Prefect server at {url}; start one with `corroborate server` (or set PREFECT_API_URL)")
        from prefect.settings import temporary_settings

        with prefect_env(settings), temporary_settings(updates={"api.url": url}), _checker_service(settings):
            os.environ["PREFECT_API_URL"] = url  # flow runs are child processes: they read the environment
            served = deployments(settings)
            names = ", ".join(d.name for d in served)
            print(f"serving {names} against {url} (dashboard: {url.removesuffix('/api')})", flush=True)
            try:
                serve(*served, print_starting_message=False, pause_on_shutdown=False)
            finally:
                paused = pause_own(settings, [f"{d.flow_name}/{d.name}" for d in served])
                if paused:
                    print(f"paused this data folder's deployments: {', '.join(paused)}", flush=True)


SERVE_LOCK = "serve.lock"  # in the data folder: held by the one `corroborate serve` of that folder


@contextlib.contextmanager
def serve_lock(settings: Settings, url: str) -> Iterator[None]:
    """Hold the data folder's serve lock for the ``with`` block, its owner (pid, host, start, API) written in it.

    A second ``serve`` of the same folder gets a one-line :class:`ConfigError` naming the owner. The lock is
    an ``flock``: it goes with the process, so a killed ``serve`` leaves nothing to clean up.
    """
    import fcntl
    import json
    import socket
    from datetime import UTC, datetime

    home = make_folder(settings.home)
    path = home / SERVE_LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"`corroborate serve` already runs for {home}: {_lock_owner(os.pread(fd, 4096, 0))}; "
                              "one serve per data folder (stop that one first)") from None
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "since": datetime.now(UTC).isoformat(timespec="seconds"), "api": url}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_owner(raw: bytes) -> str:
    import json

    try:
        owner = json.loads(raw.decode("utf-8"))
        return f"pid {int(owner['pid'])} on host {owner['host']} since {owner['since']}, against {owner['api']}"
    except (ValueError, KeyError, TypeError):
        return "another process (its owner record is not readable yet)"


def pause_own(settings: Settings, names: list[str]) -> list[str]:
    """Pause each of ``names`` ("flow/deployment") that still runs ``settings.home``'s flows; the names paused.

    A deployment another data folder's ``serve`` has registered since (same name, its own ``home``) is left
    alone, and so is one the server no longer has. Failures are printed, not raised: this runs on the way out.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    paused: list[str] = []
    try:
        with get_client(sync_client=True) as client:
            for name in names:
                try:
                    deployment = client.read_deployment_by_name(name)
                except ObjectNotFound:
                    continue
                if (deployment.parameters or {}).get("home") != str(settings.home):
                    continue
                client.pause_deployment(deployment.id)
                paused.append(name.split("/", 1)[-1])
    except Exception as exc:  # noqa: BLE001 - the server may be gone already; the deployments stay as they are
        print(f"could not pause this data folder's deployments: {type(exc).__name__}: {exc}", file=sys.stderr,
              flush=True)
    return paused


@contextlib.contextmanager
def _checker_service(settings: Settings) -> Iterator[None]:
    """The warm checker the check runs ask (models load in the background, so the first run is warm too)."""
    from corroborate.service import CheckerService

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    service = CheckerService(settings, log=log)
    try:
        service.start()
    except ConfigError as exc:  # another `corroborate serve` of this data folder: its service answers the runs
        log(f"{exc}; the check runs will use it")
        yield
        return
    log(f"checker service at {service.address} (loading the models)")
    try:
        yield
    finally:
        service.close()


def start_server(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """``corroborate server``: ``prefect server start`` in the foreground, its files in the data folder."""
    env = {**os.environ, **server_env_vars(settings, host, port)}
    env.pop("PREFECT_API_URL", None)  # the server is the API; a client URL here would point it at itself
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    print(f"Prefect dashboard: http://{host}:{port}  (API {api_url(host, port)}; Prefect home "
          f"{settings.prefect_home})", flush=True)
    print(f"In another shell: export PREFECT_API_URL={api_url(host, port)}; corroborate serve", flush=True)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the server too; it shuts itself down
        subprocess.run(cmd, env=env, check=False)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "server":
        start_server(flow_settings())
    else:
        main(flow_settings())
