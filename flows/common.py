"""What every flow module shares: the Prefect environment of a data folder, settings, artifact keys."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from corroborate.corpus.backend import CorpusStore
from corroborate.corpus.lock import make_folder, writer_lock
from corroborate.corpus.store import AbandonedRun, process_gone, process_name, this_process
from corroborate.settings import ENV_PREFIX, Settings, load_settings, settings_fields

# Prefect's own first start of an ephemeral server takes ~11 s on a small machine; its default (20 s) is too tight.
EPHEMERAL_STARTUP_TIMEOUT_S = 90
SERVER_LOCK = "server.lock"  # in the Prefect home: one ephemeral server starts (and migrates prefect.db) at a time
SERVERS_FOLDER = "servers"  # in the Prefect home: one file per ephemeral server, naming it and its owner
SERVER_STOP_WAIT_S = 5.0
_KEY_BAD = re.compile(r"[^a-z0-9]+")
MAX_KEY_CHARS = 60  # room for a prefix inside Prefect's artifact key limit, still readable in the UI


def flow_settings(home: str | None = None, **overrides: Any) -> Settings:
    """Settings as a flow run sees them: environment and corroborate.toml, ``home`` if given."""
    return load_settings({"home": home, **overrides})


def slug(text: str, fallback: str = "default") -> str:
    """A piece of an artifact key: lowercase letters, digits and dashes only (Prefect's rule)."""
    cleaned = _KEY_BAD.sub("-", text.lower()).strip("-")
    cleaned = cleaned[:MAX_KEY_CHARS].rstrip("-")
    return cleaned or fallback


def settings_env_vars(settings: Settings) -> dict[str, str]:
    """``settings`` as CORROBORATE_* variables, so a flow that loads its own settings sees these exactly."""
    out: dict[str, str] = {}
    for name in settings_fields():
        value = getattr(settings, name)
        if isinstance(value, bool):
            out[ENV_PREFIX + name.upper()] = "true" if value else "false"
        elif isinstance(value, tuple):  # a list setting (languages): comma-separated, as load_settings reads it
            out[ENV_PREFIX + name.upper()] = ",".join(value)
        else:
            out[ENV_PREFIX + name.upper()] = "" if value is None else str(value)
    return out


def prefect_env_vars(settings: Settings) -> dict[str, str]:
    """Environment that keeps Prefect's files in the data folder and its telemetry off."""
    home = settings.prefect_home
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_S),
    }


@contextmanager
def prefect_env(settings: Settings) -> Iterator[None]:
    """Point Prefect at ``settings.prefect_home`` for this process and the processes it starts.

    ``settings`` also go into CORROBORATE_* variables: flows take only ``home`` as a parameter and
    load their settings themselves, so this is how CLI flags reach a flow run.

    Prefect reads its settings once at import, so the environment alone is not enough for this
    process: a ``temporary_settings`` block carries them here, the environment carries them to
    children (Dask workers, the ephemeral server). A PREFECT_API_URL already set wins: then runs
    go to that server and only local files move.
    """
    from prefect.settings import get_current_settings, temporary_settings

    values = {**settings_env_vars(settings), **prefect_env_vars(settings)}
    make_folder(settings.home)  # a one-line error for a home that is a file, not Prefect's traceback
    make_folder(settings.prefect_home, "Prefect home")
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    updates: dict[str, Any] = {
        "home": Path(values["PREFECT_HOME"]),
        "results.local_storage_path": Path(values["PREFECT_LOCAL_STORAGE_PATH"]),
        "server.analytics_enabled": False,
        "server.ephemeral.startup_timeout_seconds": EPHEMERAL_STARTUP_TIMEOUT_S,
    }
    if not get_current_settings().api.url:  # only an ephemeral server of our own uses this database
        updates["server.database.connection_url"] = values["PREFECT_SERVER_DATABASE_CONNECTION_URL"]
    try:
        with temporary_settings(updates=updates):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_ephemeral_server(settings: Settings) -> None:
    """Start Prefect's temporary API server for this process now, one start at a time per data folder.

    Call it inside :func:`prefect_env`; with a PREFECT_API_URL it does nothing. Prefect itself
    starts the server on first use, so two ``corroborate ingest`` starting together on a new data
    folder migrate the same prefect.db at once: a server can die on the other's half-made schema
    ("already exists", "duplicate column name", "No such constraint"), and then the runs fail with
    "Timed out while attempting to connect to ephemeral Prefect API server". Under a lock in the
    Prefect home the later start finds the database migrated; Prefect's own start() calls later in
    this process reuse this server.

    Prefect stops the server when this process exits, which a SIGKILLed process never does: the
    server would run for ever. So each server is recorded with its owner, and every start first
    stops the servers whose owner is gone.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return
    home = settings.prefect_home
    with writer_lock(home, timeout=2 * EPHEMERAL_STARTUP_TIMEOUT_S, what="Prefect server start", name=SERVER_LOCK):
        records = make_folder(home / SERVERS_FOLDER, "Prefect server records")
        stop_orphaned_servers(records)
        server = SubprocessASGIServer()
        with _own_session():
            server.start()
        if server.server_process is not None:
            pid = server.server_process.pid
            names = {"owner": this_process(), "server": process_name(pid)}
            (records / str(pid)).write_text(json.dumps(names) + "\n", encoding="utf-8")


@contextmanager
def _own_session() -> Iterator[None]:
    """Prefect's temporary server, while it starts here, goes in a session of its own.

    Ctrl-C in a terminal and ``timeout``'s SIGTERM reach the whole process group: a server that died with
    the command's first signal left the run unable to report its end (ConnectError after minutes of
    retries, nothing stored). Out of the group it outlives the signal; Prefect still stops it when this
    process exits, and :func:`stop_orphaned_servers` when this process was killed.
    """
    import subprocess
    import types
    from functools import partial

    from prefect.server.api import server as server_module

    shim = types.SimpleNamespace(**vars(subprocess))
    shim.Popen = partial(subprocess.Popen, start_new_session=True)
    names = vars(server_module)  # its globals: Popen is looked up there when the server starts
    saved = names["subprocess"]
    names["subprocess"] = shim
    try:
        yield
    finally:
        names["subprocess"] = saved


def stop_orphaned_servers(records: Path) -> list[int]:
    """Stop the recorded ephemeral servers whose owner has ended; the pids stopped.

    A record whose owner is alive is kept; one whose owner and server have both ended is removed.
    A server is only signalled when its start time matches the record, so a reused pid is left alone.
    """
    stopped: list[int] = []
    for record in records.iterdir():
        try:
            names = json.loads(record.read_text(encoding="utf-8"))
            owner, server = str(names["owner"]), str(names["server"])
            pid, start = int(server.rsplit("/", 2)[1]), server.rsplit("/", 2)[2]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            with contextlib.suppress(OSError):  # not a record, or torn by a kill mid-write: nothing to go on
                record.unlink()
            continue
        if not process_gone(owner):
            continue
        if start and not process_gone(server):
            _stop(pid, server)
            stopped.append(pid)
        record.unlink(missing_ok=True)
    return stopped


def _stop(pid: int, name: str) -> None:
    """SIGTERM, then SIGKILL if it is still there after SERVER_STOP_WAIT_S."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + SERVER_STOP_WAIT_S
        while time.monotonic() < deadline:
            if process_gone(name):
                return
            time.sleep(0.05)


def crash_abandoned_flow_runs(store: CorpusStore,
                              logger: logging.Logger | logging.LoggerAdapter[Any]) -> list[AbandonedRun]:
    """Set Crashed, in Prefect, the flow runs of the runs the store found abandoned; those it set.

    A SIGKILLed flow never reports its end, so Prefect (and the dashboard) would show it Running for
    good. The store knows which runs' processes died (``Store.start_run`` marks their rows
    ``abandoned``); this tells Prefect, naming the dead pid. A flow run already in a final state is
    left as it is, and one this Prefect server does not know (the runs went to another server) is
    counted as ended: there is nothing here to end. When Prefect does not answer, the runs wait
    for the next writer.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    abandoned = store.abandoned_flow_runs()
    ended: list[AbandonedRun] = []
    if not abandoned:
        return ended
    with get_client(sync_client=True) as client:
        for run in abandoned:
            message = (f"its process (pid {run.pid}) was killed or crashed without finishing it; "
                       f"found by the next corroborate writer (run {run.id} in the store)")
            try:
                flow_run = client.read_flow_run(UUID(run.flow_run))
                if flow_run.state is None or not flow_run.state.is_final():
                    client.set_flow_run_state(flow_run.id, Crashed(message=message), force=True)
                    ended.append(run)
            except (ObjectNotFound, ValueError):  # unknown here, or not an id: nothing to end
                pass
            except Exception as exc:  # noqa: BLE001 - housekeeping must not fail the run that found it
                logger.warning("could not mark flow run %s of dead pid %s Crashed: %s", run.flow_run, run.pid, exc)
                continue
            store.flow_run_ended(run.id)
    return ended
