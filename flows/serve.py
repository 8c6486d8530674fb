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
    """
    from prefect import serve

    url = os.environ.get("PREFECT_API_URL") or api_url()
    if not _server_reachable(url):
        raise ConfigError(f"no Prefect server at {url}; start one with `corroborate server` (or set PREFECT_API_URL)")
    from prefect.settings import temporary_settings

    with prefect_env(settings), temporary_settings(updates={"api.url": url}), _checker_service(settings):
        os.environ["PREFECT_API_URL"] = url  # flow runs are child processes: they read the environment
        names = ", ".join(d.name for d in deployments(settings))
        print(f"serving {names} against {url} (dashboard: {url.removesuffix('/api')})", flush=True)
        serve(*deployments(settings), print_starting_message=False)


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
