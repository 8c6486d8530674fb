"""SIGKILL and parallelise the real ``corroborate ingest`` and ``corroborate import``, as users run them.

test_crash and test_concurrency do this to the library steps (``tests/hostile.py``); here the
child is the CLI itself: the Prefect flow with its ephemeral API server, its run bookkeeping
(``start_run`` before the writer lock, ``finish_run`` in ``finally``) and its task cache. Each
test has its own data folder, so each first ingest also migrates a fresh Prefect database.

The quick tests at the end pin the two fixes these found in flows/common.py: Prefect's temporary
server starts under a lock in the Prefect home, and servers whose owner was killed are stopped.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from hostile import FeedServer, child_env, one_outlet_file, serving
from newssite import NewsSite
from test_crash import assert_consistent

from corroborate.corpus.lock import writer_lock
from corroborate.corpus.store import Store, process_name, this_process
from corroborate.errors import StoreError
from corroborate.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
PAGES = 6
RUN_TIMEOUT_S = 400


@pytest.fixture
def feed(news_site: NewsSite) -> Iterator[FeedServer]:
    with serving(sorted(news_site.pages.values())[:PAGES]) as server:
        yield server


def _outlets(tmp_path: Path, feed: FeedServer) -> Path:
    return one_outlet_file(tmp_path, feed, "Writer Weekly")


def _env(tmp_path: Path, home: Path) -> dict[str, str]:
    """Loopback allowed, short timeouts, this test's own data folder and Prefect home, no telemetry."""
    return child_env(CORROBORATE_HOME=str(home), PREFECT_HOME=str(tmp_path / "prefect"),
                     PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")


class Cli:
    """One ``corroborate`` process; its output goes to files, so a chatty child never blocks on a pipe."""

    def __init__(self, tmp_path: Path, home: Path, name: str, *args: str) -> None:
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "corroborate.cli", *args], cwd=REPO,
                                         env=_env(tmp_path, home), stdout=out, stderr=err, text=True)

    def wait(self) -> tuple[int, str, str]:
        code = self.proc.wait(RUN_TIMEOUT_S)
        return code, self.out.read_text(), self.err.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def _clean(code: int, out: str, err: str) -> None:
    assert code == 0, f"exit {code}:\n{out[-2000:]}\n{err[-4000:]}"
    assert "Traceback" not in err, err[-4000:]


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the store as an outsider would while a writer works (read-only, never blocking it)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        return list(conn.execute(sql))
    except sqlite3.Error:
        return []  # no store or no schema yet
    finally:
        conn.close()


def _runs(home: Path) -> list[tuple[object, ...]]:
    return _query(home / "corroborate.db", "SELECT kind, status FROM runs ORDER BY id")


def _flow_run_state(home: Path, run_id: int) -> tuple[str, str]:
    """Prefect's state type and message for our run ``run_id``'s flow run, as the dashboard shows them."""
    flow_run = _query(home / "corroborate.db", f"SELECT flow_run FROM runs WHERE id = {run_id}")[0][0]
    rows = _query(home / ".prefect" / "prefect.db", "SELECT f.id, s.type, s.message FROM flow_run f "
                                                     "JOIN flow_run_state s ON s.id = f.state_id")
    (state,) = [(str(t), str(m)) for i, t, m in rows if uuid.UUID(str(i)) == uuid.UUID(str(flow_run))]
    return state


def _flow_run_states(home: Path) -> Counter[str]:
    return Counter(str(t) for (t,) in _query(home / ".prefect" / "prefect.db", "SELECT state_type FROM flow_run"))


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _assert_stored_once(home: Path, urls: list[str]) -> None:
    with Store(home / "corroborate.db") as store:
        for url in urls:
            assert store.document_by_url(url) is not None, f"never stored: {url}"
        assert store.document_count() == len(urls)
    rows = _query(home / "corroborate.db", "SELECT COUNT(DISTINCT content_hash), COUNT(DISTINCT canonical_url), "
                                           "COUNT(*) FROM documents")
    assert rows == [(len(urls), len(urls), len(urls))], "a story is stored twice"
    assert assert_consistent(home) == "index current"


def _table_row(out: str, outlet: str) -> dict[str, int]:
    """The counts of ``outlet``'s row in ingest's summary table."""
    cols = ["discovered", "fetched", "new", "unchanged", "skipped", "failed"]
    line = next(ln for ln in out.splitlines() if ln.startswith(outlet))
    return dict(zip(cols, map(int, line.split()[-len(cols):]), strict=True))


@pytest.mark.slow
def test_a_killed_corroborate_ingest_is_picked_up_by_the_next(feed: FeedServer, tmp_path: Path) -> None:
    """Killed after it stored documents, before its index and its run row were finished."""
    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    killed = Cli(tmp_path, home, "killed", "ingest", "--outlets", str(outlets))
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while killed.proc.poll() is None and time.monotonic() < deadline:
            if _query(home / "corroborate.db", "SELECT COUNT(*) FROM documents") not in ([], [(0,)]):
                break
            time.sleep(0.02)
        children = psutil.Process(killed.proc.pid).children(recursive=True)  # Prefect's temporary API server
        killed.proc.send_signal(signal.SIGKILL)
        code, out, err = killed.wait()
        assert code == -signal.SIGKILL, f"it finished before the kill:\n{err[-3000:]}"
        assert _runs(home) == [("ingest", "running")], "killed mid-run: nobody has ended its row yet"
        assert _flow_run_state(home, 1)[0] == "RUNNING"
        state = assert_consistent(home)
        assert state in {"no index yet", "index stale (next run or check syncs it)"}, state
        strays = _alive(children)

        code, out, err = Cli(tmp_path, home, "next", "ingest", "--outlets", str(outlets)).wait()
        _clean(code, out, err)
        assert _runs(home) == [("ingest", "abandoned"), ("ingest", "completed")]
        summary = _query(home / "corroborate.db", "SELECT summary FROM runs WHERE id = 1")[0][0]
        assert f"pid {killed.proc.pid}" in json.loads(str(summary))["error"]
        assert _flow_run_states(home) == {"CRASHED": 1, "COMPLETED": 1}, "the killed flow run still Running"
        crashed = _flow_run_state(home, 1)
        assert crashed[0] == "CRASHED" and f"pid {killed.proc.pid}" in crashed[1], crashed
        _assert_stored_once(home, feed.listed)
        assert _table_row(out, "Writer Weekly")["failed"] == 0
        assert not _alive(strays), (f"the killed ingest's Prefect server {[p.pid for p in strays]} still runs "
                                    "after the next ingest")
    finally:
        killed.stop()
        for p in _alive(children):  # this test's own processes only, by pid
            p.kill()


def _together(clis: list[Cli]) -> list[tuple[int, str, str]]:
    """Wait for every one (all are stopped whatever happens) and assert that each exited cleanly."""
    try:
        results = [c.wait() for c in clis]
    finally:
        for c in clis:
            c.stop()
    for code, out, err in results:
        _clean(code, out, err)
    return results


@pytest.mark.slow
def test_two_corroborate_ingests_at_once(feed: FeedServer, tmp_path: Path) -> None:
    """Started together on a fresh data folder: the second waits for the writer lock, then finds it all stored."""
    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    both = [Cli(tmp_path, home, name, "ingest", "--outlets", str(outlets)) for name in ("first", "second")]
    results = _together(both)
    rows = [_table_row(out, "Writer Weekly") for _, out, _ in results]
    assert sorted(r["new"] for r in rows) == [0, PAGES], rows  # each page new in exactly one of them
    assert all(r["failed"] == 0 for r in rows), rows
    assert _runs(home) == [("ingest", "completed"), ("ingest", "completed")]
    new = _query(home / "corroborate.db", "SELECT COUNT(*), COUNT(DISTINCT url) FROM fetch_log WHERE outcome='new'")
    assert new == [(PAGES, PAGES)]
    _assert_stored_once(home, feed.listed)


def _records(start: int, stop: int) -> str:
    return "".join(json.dumps({"url": f"https://twin.example/{i}", "title": f"Story {i}",
                               "text": f"Story number {i} of the harbour. The quay reopened on day {i} after repairs."})
                   + "\n" for i in range(start, stop))


@pytest.mark.slow
def test_two_corroborate_imports_at_once(tmp_path: Path) -> None:
    """Two imports with overlapping records: one waits for the other; every record is stored once."""
    home = tmp_path / "home"
    (tmp_path / "a.jsonl").write_text(_records(0, 30), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(_records(15, 45), encoding="utf-8")
    both = [Cli(tmp_path, home, name, "import", str(tmp_path / f"{name}.jsonl")) for name in ("a", "b")]
    results = _together(both)
    new = [int(m.group(1)) for _, out, _ in results if (m := re.search(r"(\d+) new", out))]
    assert sorted(new) == [15, 30], [out for _, out, _ in results]  # the later one finds 15 already stored
    assert _runs(home) == [("import", "completed"), ("import", "completed")]
    _assert_stored_once(home, [f"https://twin.example/{i}" for i in range(45)])


# -- the fixes, without models: quick -------------------------------------------------------------


def test_the_temporary_prefect_server_starts_under_the_prefect_homes_lock(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.server.api.server import SubprocessASGIServer

    from flows.common import SERVER_LOCK, prefect_env, start_ephemeral_server

    settings = load_settings({"home": tmp_path / "home"}, environ={})
    started: list[bool] = []

    def start(self: SubprocessASGIServer, timeout: int | None = None) -> None:
        with pytest.raises(StoreError, match="is writing to"), writer_lock(settings.prefect_home, name=SERVER_LOCK):
            pass  # another start (another process) waits here until this one is up
        started.append(True)

    monkeypatch.setattr(SubprocessASGIServer, "start", start)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with prefect_env(settings):
        start_ephemeral_server(settings)
    assert started == [True]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_servers_whose_owner_is_gone_are_stopped(tmp_path: Path) -> None:
    from flows.common import stop_orphaned_servers

    records = tmp_path / "servers"
    records.mkdir()
    sleepers = [subprocess.Popen(["sleep", "120"]) for _ in range(4)]
    owner, orphan, kept, reused = sleepers
    try:
        dead_owner = process_name(owner.pid)
        owner.kill()
        owner.wait(10)
        host, pid, start = process_name(reused.pid).rsplit("/", 2)
        for server, who, name in [(orphan, dead_owner, process_name(orphan.pid)),
                                  (kept, this_process(), process_name(kept.pid)),
                                  (reused, dead_owner, f"{host}/{pid}/{int(start) + 1}")]:  # its pid, not it
            (records / str(server.pid)).write_text(json.dumps({"owner": who, "server": name}))
        (records / "torn").write_text("{")

        assert stop_orphaned_servers(records) == [orphan.pid]
        assert orphan.wait(10) == -signal.SIGTERM
        assert kept.poll() is None and reused.poll() is None, "a live owner's server or a reused pid was signalled"
        assert [p.name for p in records.iterdir()] == [str(kept.pid)]
    finally:
        for p in sleepers:
            p.kill()
            p.wait(10)
