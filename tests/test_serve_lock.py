"""`corroborate serve` is exclusive per data folder and pauses only its own deployments (issue 24, finding 4).

A real `prefect server start` on a free loopback port and real `corroborate serve` processes: a second serve of
the same data folder names the first (pid, host) and exits non-zero without touching the server; a serve that
stops after another data folder's serve took the deployment names over leaves them running; the last one
pauses its own on the way out.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from test_dashboard import prefect_server  # noqa: E402,F401 - the fixture

pytestmark = [pytest.mark.flow, pytest.mark.slow]
DEPLOYMENTS = {"ingest-outlets", "check-article", "check-claim"}
START_TIMEOUT_S = 240


def _serve(home: Path, api: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_"))
           or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update(CORROBORATE_HOME=str(home), PREFECT_API_URL=api)
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "corroborate.cli", "serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _wait_serving(proc: subprocess.Popen[bytes], log: Path, api: str, home: Path) -> None:
    """Until the three deployments are registered for ``home`` (the runner does it after it prints)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert proc.poll() is None, f"serve exited {proc.returncode}: {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"serve not up: {log.read_text(errors='replace')[-2000:]}"
        found = _deployments(api)
        if set(found) == DEPLOYMENTS and all(d["parameters"].get("home") == str(home) for d in found.values()):
            return
        time.sleep(1)


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"serve did not stop on SIGTERM: {log.read_text(errors='replace')[-2000:]}")


def _deployments(api: str) -> dict[str, dict[str, object]]:
    reply = httpx.post(f"{api}/deployments/filter", json={}, timeout=30)
    reply.raise_for_status()
    return {d["name"]: d for d in reply.json() if d["name"] in DEPLOYMENTS}


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_is_exclusive_per_data_folder_and_pauses_only_its_own(
    prefect_server: str, tmp_path: Path, procs: list[subprocess.Popen[bytes]]  # noqa: F811
) -> None:
    api = f"{prefect_server}/api"
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    first = _serve(home_a, api, tmp_path / "a.log")
    procs.append(first)
    _wait_serving(first, tmp_path / "a.log", api, home_a)
    assert {n: d["paused"] for n, d in _deployments(api).items()} == dict.fromkeys(DEPLOYMENTS, False)

    # a second serve of the same data folder: refused at once, naming the first; nothing paused
    second = subprocess.run([sys.executable, "-m", "corroborate.cli", "serve"], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "CORROBORATE_HOME": str(home_a), "PREFECT_API_URL": api})
    assert second.returncode != 0
    assert "already runs for" in second.stderr and f"pid {first.pid}" in second.stderr, second.stderr
    assert socket.gethostname() in second.stderr
    assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert first.poll() is None
    assert not any(d["paused"] for d in _deployments(api).values())

    # another data folder's serve takes the names over; the first one stopping must not pause them
    other = _serve(home_b, api, tmp_path / "b.log")
    procs.append(other)
    _wait_serving(other, tmp_path / "b.log", api, home_b)
    assert {d["parameters"]["home"] for d in _deployments(api).values()} == {str(home_b)}
    _stop(first, tmp_path / "a.log")
    now = _deployments(api)
    assert not any(d["paused"] for d in now.values()), {n: d["paused"] for n, d in now.items()}
    assert "All deployments have been paused" not in (tmp_path / "a.log").read_text(errors="replace")

    # the last serve pauses its own on the way out
    _stop(other, tmp_path / "b.log")
    assert all(d["paused"] for d in _deployments(api).values())
    assert "paused this data folder's deployments" in (tmp_path / "b.log").read_text(errors="replace")


def test_prefect_yaml_deployments_do_not_take_serves_names(tmp_path: Path) -> None:
    """A Prefect server knows a deployment by flow and name: prefect.yaml's process-pool deployments named like
    `corroborate serve`'s would take them over when both run against one server (the work pool's and the served
    ones then swap with each registration, and both the worker and serve poll for the same runs)."""
    import yaml

    from corroborate.settings import load_settings
    from flows.serve import deployments

    settings = load_settings({"home": tmp_path, "ingest_query": "election"}, environ={})
    served = {(d.flow_name, d.name) for d in deployments(settings)}
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    flow_names = {"flows/ingest.py:ingest_flow": "ingest", "flows/check.py:check_article_flow": "check-article",
                  "flows/check.py:check_claim_flow": "check-claim"}
    pooled = {(flow_names[d["entrypoint"]], d["name"]) for d in spec["deployments"]}
    assert len(pooled) == len(spec["deployments"]) == len(served) == 4
    assert not served & pooled, served & pooled
    assert {name for _, name in pooled} == {f"{name}-pool" for _, name in served}  # the same four, for a pool
    assert all(d["work_pool"]["name"] == "corroborate" for d in spec["deployments"])
