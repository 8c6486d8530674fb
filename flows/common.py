"""What every flow module shares: the Prefect environment of a data folder, settings, artifact keys."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corroborate.lock import make_folder
from corroborate.settings import ENV_PREFIX, Settings, load_settings, settings_fields

# Prefect's own first start of an ephemeral server takes ~11 s on a small machine; its default (20 s) is too tight.
EPHEMERAL_STARTUP_TIMEOUT_S = 90
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
    for f in settings_fields():
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            out[ENV_PREFIX + f.name.upper()] = "true" if value else "false"
        else:
            out[ENV_PREFIX + f.name.upper()] = "" if value is None else str(value)
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
