"""One corpus, many hosts, end to end on loopback (issue 25, "Done when"; docs/scaling.md, "A Prefect server on it,
two workers, a check"), every piece a real process:

- a PostgreSQL server (``system_postgres`` in tests/conftest.py: this machine's PostgreSQL, which has the pg_trgm
  extension a Prefect server's schema needs; the pgserver wheel's PostgreSQL does not) holding two databases, one
  for Prefect and one for the corpus, as in the documented recipe: one server, and the test starts nothing more;
- ``prefect server start`` keeping its database in PostgreSQL (PREFECT_SERVER_DATABASE_*), its home in a temp folder;
- two workers at the same time, the two ways deployments run, each with a data folder, Prefect home and outlets
  file of its own (two outlets of the loopback news site with different pages), reporting to that server
  (PREFECT_API_URL) and storing into the one corpus (CORROBORATE_STORE_URL, the password in PGPASSWORD):
  ``corroborate serve`` (its ``ingest-outlets`` deployment) and ``prefect worker start --pool corroborate`` on the
  checkout's prefect.yaml (its ``ingest-outlets-pool`` deployment, ``prefect deploy``-ed from the checkout's root);
  the test starts one run of each through the server's API and waits for both;
- ``corroborate check`` from a third data folder, which finds pages of both workers;
- and the Prefect server has recorded both flow runs, Completed: through its API and in its tables in PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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
CLI_TIMEOUT_S = 300
PAGES_PER_WORKER = 3
POOL = "corroborate"  # prefect.yaml's work pool
SERVED_DEPLOYMENT = "ingest-outlets"  # flows/serve.py's scheduled ingest (`corroborate serve`)
POOL_DEPLOYMENT = "ingest-outlets-pool"  # prefect.yaml's, for a process work pool (`prefect worker start`)
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


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
        # no scheduled runs: the test starts one run of each deployment itself (their interval schedules' first
        # runs are 30 minutes away anyway, but the scheduler would write dozens of future runs into PostgreSQL)
        PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
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


def _start(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``cmd`` in a process group (session) of its own, its output in ``log``: stopped as a group afterwards."""
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop_group(proc: subprocess.Popen[bytes], log: Path, graceful_s: float = 60, must_stop: bool = True) -> None:
    """SIGTERM to ``proc``'s whole group (its flow runs too), SIGKILL after ``graceful_s``; fail if it had to,
    unless ``must_stop`` is off: Prefect's own ``prefect worker start`` relays a group's SIGTERM to its inner
    worker as SIGINT twice and was seen (1 run in CI) still running 60 s later; its shutdown is Prefect's, not ours."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=graceful_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            if must_stop:
                pytest.fail(f"{' '.join(map(str, proc.args))} did not stop on SIGTERM: {_tail(log)}")
    _kill_group(proc)  # what it started and left behind


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait()


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def _prefect(args: list[str], env: dict[str, str], log: Path) -> None:
    """A ``prefect`` CLI command from the repository root (prefect.yaml is there), non-interactive."""
    done = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    with log.open("a") as out:
        out.write(f"$ prefect {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    assert done.returncode == 0, f"prefect {' '.join(args)}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def _deployment(api: str, name: str, procs: dict[str, tuple[subprocess.Popen[bytes], Path]],
                deadline: float, ready: Callable[[dict[str, Any]], bool] = lambda d: True) -> dict[str, Any]:
    """The deployment ``flow/name`` once the server has it (and ``ready`` holds); fails if a process exits first."""
    while True:
        reply = httpx.get(f"{api}/deployments/name/{name}", timeout=30)
        if reply.status_code == 200 and ready(reply.json()):
            deployment: dict[str, Any] = reply.json()
            return deployment
        _alive(procs)
        if time.monotonic() > deadline:
            pytest.fail(f"no deployment {name} after {RUN_TIMEOUT_S} s: {reply.text[:500]}\n"
                        + "\n".join(f"{n}: {_tail(log)}" for n, (_, log) in procs.items()))
        time.sleep(0.5)


def _alive(procs: dict[str, tuple[subprocess.Popen[bytes], Path]]) -> None:
    for name, (proc, log) in procs.items():
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}: {_tail(log)}")


def _wait_final(api: str, run_ids: dict[str, str], procs: dict[str, tuple[subprocess.Popen[bytes], Path]],
                deadline: float) -> dict[str, dict[str, Any]]:
    """The flow runs ``run_ids`` once every one is in a final state; fails past ``deadline`` or if a worker exits."""
    while True:
        runs = {name: httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json() for name, run_id in run_ids.items()}
        if all(r["state_type"] in FINAL_STATES for r in runs.values()):
            return runs
        _alive(procs)
        if time.monotonic() > deadline:
            pytest.fail(f"flow runs not finished after {RUN_TIMEOUT_S} s: "
                        f"{ {n: r['state_name'] for n, r in runs.items()} }\n"
                        + "\n".join(f"{n}: {_tail(log)}" for n, (_, log) in procs.items()))
        time.sleep(0.5)


def _wait_run_processes_gone(procs: dict[str, tuple[subprocess.Popen[bytes], Path]], run_ids: set[str],
                             deadline: float) -> None:
    """Until no process under ``procs`` runs one of ``run_ids``. A flow run's process reports its final state
    before it exits; a serve stopped in between cancels the "still running" run, Completed though it is (seen:
    Prefect 3.9's runner set it Cancelled on SIGTERM)."""
    import psutil

    while True:
        running = []
        for proc, _ in procs.values():
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(proc.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if child.environ().get("PREFECT__FLOW_RUN_ID") in run_ids:
                            running.append(child.pid)
        if not running:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"flow run processes {running} still there after {RUN_TIMEOUT_S} s")
        time.sleep(0.2)


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
    logs = tmp_path / "logs"
    logs.mkdir()

    # two workers at once: own data folder (Prefect home, fetch cache, index cache), own outlets, one corpus
    procs: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    with serving(per_worker["a"]) as feed_a, serving(per_worker["b"]) as feed_b:
        outlets = {}
        for name, feed in (("a", feed_a), ("b", feed_b)):
            folder = tmp_path / f"worker-{name}"
            folder.mkdir()
            outlets[name] = one_outlet_file(folder, feed, f"Worker {name.upper()} Times").rename(
                folder / f"outlets-{name}.toml")  # the runs are named after it: "ingest: outlets-a"
        worker_env = {name: _env(CORROBORATE_HOME=str(homes[name]), CORROBORATE_OUTLETS_FILE=str(outlets[name]),
                                 PREFECT_API_URL=api, **store_env) for name in ("a", "b")}
        try:
            # worker A: `corroborate serve` in its own folder, asking the server for its runs every second
            procs["serve"] = (_start([sys.executable, "-m", "corroborate.cli", "serve"], outlets["a"].parent,
                                     {**worker_env["a"], "PREFECT_RUNNER_POLL_FREQUENCY": "1"},
                                     logs / "serve.log"), logs / "serve.log")
            # worker B: a process work pool, prefect.yaml's ingest deployment for it, a worker on it
            # the pull step's working directory is $PWD, the worker's (a subprocess's cwd does not set PWD)
            prefect_home_b = load_settings({"home": homes["b"]}, environ={}).prefect_home
            prefect_home_b.mkdir(parents=True)
            pool_env = {**worker_env["b"], "PREFECT_HOME": str(prefect_home_b), "PWD": str(REPO),
                        "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"}
            _prefect(["work-pool", "create", POOL, "--type", "process"], pool_env, logs / "deploy.log")
            _prefect(["deploy", "--name", POOL_DEPLOYMENT], pool_env, logs / "deploy.log")
            procs["worker"] = (_start([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL],
                                      REPO, pool_env, logs / "worker.log"), logs / "worker.log")

            deadline = time.monotonic() + RUN_TIMEOUT_S
            served = _deployment(api, f"ingest/{SERVED_DEPLOYMENT}", procs, deadline,
                                 lambda d: (d["parameters"] or {}).get("home") == str(homes["a"]))
            pooled = _deployment(api, f"ingest/{POOL_DEPLOYMENT}", procs, deadline)
            assert served["id"] != pooled["id"] and served["work_pool_name"] is None
            assert pooled["work_pool_name"] == POOL and pooled["parameters"] == {}
            assert [s["schedule"]["interval"] for d in (served, pooled) for s in d["schedules"]] == [1800.0] * 2
            run_ids = {}
            for name, deployment in (("a", served), ("b", pooled)):
                reply = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=30)
                reply.raise_for_status()
                run_ids[name] = reply.json()["id"]
            finished = _wait_final(api, run_ids, procs, deadline)
            _wait_run_processes_gone(procs, set(run_ids.values()), deadline)
        except BaseException:
            for proc, _ in procs.values():
                _kill_group(proc)
            raise
        try:
            for name, (proc, log) in procs.items():
                # corroborate serve must stop on SIGTERM; the Prefect worker is stopped, killed if it must be
                _stop_group(proc, log, graceful_s=60 if name == "serve" else 20, must_stop=name == "serve")
        finally:  # one that would not stop must not leave the other running
            for proc, _ in procs.values():
                if proc.poll() is None:
                    _kill_group(proc)
    for (name, run), log in zip(finished.items(), (logs / "serve.log", logs / "worker.log"), strict=True):
        assert run["state_type"] == "COMPLETED", f"worker {name}: {run['state']}\n{_tail(log)}"
    text = {name: log.read_text(errors="replace") for name, (_, log) in procs.items()}
    for name, out in text.items():
        assert PG_PASSWORD not in out and quoted_password() not in out, f"{name} printed the password"
    assert f"paused this data folder's deployments: {SERVED_DEPLOYMENT}" in text["serve"], text["serve"][-3000:]
    assert httpx.get(f"{api}/deployments/{served['id']}", timeout=30).json()["paused"]  # serve paused its own
    for name in ("a", "b"):
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
    runs = {r["id"]: r for r in _flow_runs(api)}
    assert sorted(runs) == sorted(run_ids.values()), runs  # no other run: the scheduler is off (see the fixture)
    run_a, run_b = runs[run_ids["a"]], runs[run_ids["b"]]
    # each run is named after the outlets it ingested, B's from its worker's CORROBORATE_OUTLETS_FILE
    assert (run_a["name"], run_b["name"]) == ("ingest: outlets-a", "ingest: outlets-b"), (run_a, run_b)
    assert run_b["parameters"] == {}, run_b
    reply = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"key": {"like_": "source-health-"}}}, timeout=30)
    reply.raise_for_status()
    assert sorted({a["key"] for a in reply.json()}) == ["source-health-outlets-a", "source-health-outlets-b"]
    assert run_a["deployment_id"] == served["id"] and run_a["parameters"]["home"] == str(homes["a"]), run_a
    assert run_b["deployment_id"] == pooled["id"] and run_b["work_pool_name"] == POOL, run_b
    for run in runs.values():
        assert run["state_type"] == "COMPLETED" and run["state_name"] == "Completed", run["state"]
    stored = system_postgres.sql(
        "SELECT flow_run.state_type::text, flow_run.state_name, flow.name, deployment.name FROM flow_run "
        "JOIN flow ON flow.id = flow_run.flow_id JOIN deployment ON deployment.id = flow_run.deployment_id "
        "ORDER BY 4", prefect_database)
    assert stored == [("COMPLETED", "Completed", "ingest", SERVED_DEPLOYMENT),
                      ("COMPLETED", "Completed", "ingest", POOL_DEPLOYMENT)], stored
    assert not (prefect_server_home / "prefect.db").exists()  # the server kept nothing in SQLite
