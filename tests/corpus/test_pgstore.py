"""The PostgreSQL store against a real server (tests/corpus/conftest.py): what only a shared store has to get right.

Bad input and faults are done for real: a wrong password, a closed port, a database that is someone
else's, a schema from a newer corroborate, a server restarted in the middle of an import. Many writers
are separate processes with data folders of their own (as on separate hosts) and one database.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import PG_PASSWORD, PG_USER, quoted_password
from hostile import child_env, one_outlet_file, serving
from newssite import NewsSite

from corroborate.corpus.dburl import redact_url, scrub
from corroborate.corpus.passages import split_passages
from corroborate.corpus.pglocal import LocalPostgres
from corroborate.corpus.pgstore import PG_SCHEMA_VERSION, PostgresStore
from corroborate.corpus.records import NewDocument
from corroborate.errors import StoreError
from corroborate.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600


def _doc(url: str, text: str, outlet: str = "pg.example") -> NewDocument:
    from corroborate.corpus.dedup import content_hash

    return NewDocument(url=url, canonical_url=url, outlet=outlet, text=text, content_hash=content_hash(text),
                       title=text.split(".")[0])


def _story(i: int) -> str:
    return (f"Story number {i} of the harbour. The quay reopened on day {i} after repairs. "
            f"Ferry {i} resumed its crossings to the island.")


def _cli(home: Path, *args: str, url: str | None = None, timeout: float = RUN_TIMEOUT_S,
         **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_", "PG"))}
    environ.update(CORROBORATE_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   TOKENIZERS_PARALLELISM="false", **env)
    if url is not None:
        environ["CORROBORATE_STORE_URL"] = url
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], cwd=REPO, env=environ, text=True,
                          capture_output=True, timeout=timeout)


def _one_line_error(result: subprocess.CompletedProcess[str], *, contains: str) -> str:
    assert result.returncode != 0, result.stdout
    err = result.stderr.strip()
    assert "Traceback" not in err, err
    assert PG_PASSWORD not in err and quoted_password() not in err and PG_PASSWORD not in result.stdout
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and contains in lines[0], err
    return lines[0]


def _tables(postgres: LocalPostgres, database: str) -> list[str]:
    return [str(r[0]) for r in postgres.sql("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'public' ORDER BY 1", database)]


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


# -- the connection string is a secret -----------------------------------------------------------------------


def test_redaction_hides_every_form_of_the_password() -> None:
    raw = "postgresql://ann:s%40cr%3At@db.example:5432/news?sslmode=require&password=other"
    shown = redact_url(raw)
    assert "s%40cr" not in shown and "other" not in shown and "ann:***@db.example:5432/news" in shown
    assert "password=***" in shown
    assert redact_url("host=db user=ann password='x y' dbname=news") == "host=db user=ann password=*** dbname=news"
    assert redact_url("postgresql://ann@db/news") == "postgresql://ann@db/news"
    assert scrub("failed for s@cr:t and s%40cr%3At\n\tretry", raw) == "failed for *** and *** retry"


def test_settings_never_show_the_store_url_password(pg_url: str, tmp_path: Path) -> None:
    s = load_settings({"home": tmp_path}, environ={"CORROBORATE_STORE_URL": pg_url})
    assert s.store_url == pg_url and quoted_password() not in repr(s)
    result = _cli(tmp_path, "settings", url=pg_url)
    assert result.returncode == 0, result.stderr
    assert quoted_password() not in result.stdout and PG_PASSWORD not in result.stdout
    assert f"store_url = '{redact_url(pg_url)}'" in result.stdout
    bad = _cli(tmp_path, "settings", url="mysql://ann:hunter2@db/news")
    assert "hunter2" not in bad.stderr and "must be a postgresql:// URL" in bad.stderr


# -- bad connections and foreign databases: one line, nothing written ----------------------------------------


def test_wrong_password_is_one_line(postgres: LocalPostgres, pg_url: str, tmp_path: Path) -> None:
    wrong = pg_url.replace(quoted_password(), "not-the-password")
    line = _one_line_error(_cli(tmp_path, "index", "status", url=wrong), contains="password authentication failed")
    assert "not-the-password" not in line and "corroborate:***@127.0.0.1" in line
    assert _tables(postgres, _database(pg_url)) == []  # nothing written


def test_unreachable_server_is_one_line(postgres: LocalPostgres, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://{PG_USER}:{quoted_password()}@127.0.0.1:{port}/news"
    _one_line_error(_cli(tmp_path, "index", "status", url=url), contains="Connection refused")


def test_a_database_that_is_not_corroborates_is_left_alone(postgres: LocalPostgres, pg_url: str,
                                                           tmp_path: Path) -> None:
    database = _database(pg_url)
    postgres.sql(f"CREATE TABLE invoices(id serial PRIMARY KEY); ALTER TABLE invoices OWNER TO {PG_USER}", database)
    _one_line_error(_cli(tmp_path, "index", "status", url=pg_url), contains="is not a corroborate store")
    assert _tables(postgres, database) == ["invoices"]


def test_a_newer_schema_is_refused(postgres: LocalPostgres, pg_url: str, tmp_path: Path) -> None:
    with PostgresStore(pg_url) as store:
        store.add_document(_doc("https://pg.example/1", _story(1)), split_passages(_story(1)))
        generation = store.generation()
    postgres.sql(f"INSERT INTO corroborate_schema(version, applied) VALUES ({PG_SCHEMA_VERSION + 5}, 'later')",
                 _database(pg_url))
    _one_line_error(_cli(tmp_path, "index", "status", url=pg_url), contains="newer than this corroborate")
    with pytest.raises(StoreError, match="upgrade"):
        PostgresStore(pg_url)
    rows = postgres.sql("SELECT (SELECT value FROM meta WHERE key='generation'), (SELECT COUNT(*) FROM documents)",
                        _database(pg_url))
    assert rows == [(str(generation), 1)]


# -- schema migration and many writers -------------------------------------------------------------------------


def _open(url: str) -> int:
    with PostgresStore(url) as store:
        return store.schema_version()


def test_processes_starting_on_a_new_database_migrate_it_once(postgres: LocalPostgres, pg_url: str) -> None:
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        versions = pool.map(_open, [pg_url] * 6)
    assert versions == [PG_SCHEMA_VERSION] * 6
    rows = postgres.sql("SELECT version FROM corroborate_schema ORDER BY version", _database(pg_url))
    assert rows == [(v,) for v in range(1, PG_SCHEMA_VERSION + 1)]


def _writer(url: str, start: int, stop: int, barrier: Any) -> list[str]:
    """Add stories ``start..stop`` (and a copy of each under a syndication URL) as fast as possible."""
    outcomes = []
    with PostgresStore(url) as store:
        barrier.wait()
        for i in range(start, stop):
            text = _story(i)
            outcomes.append(store.add_document(_doc(f"https://pg.example/{i}", text), split_passages(text)).outcome)
            outcomes.append(store.add_document(_doc(f"https://wire.example/{i}", text, "wire.example"),
                                               split_passages(text)).outcome)
    return outcomes


def test_concurrent_writers_store_each_page_once(pg_url: str) -> None:
    """Three processes store overlapping pages, and the same text under a second URL, at the same moment."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(3)
        with ctx.Pool(3) as pool:
            results = pool.starmap(_writer, [(pg_url, 0, 30, barrier), (pg_url, 10, 40, barrier),
                                             (pg_url, 20, 50, barrier)])
    outcomes = [o for r in results for o in r]
    assert outcomes.count("new") == 50, outcomes
    with PostgresStore(pg_url) as store:
        assert store.document_count() == 50
        for i in range(50):
            own, wire = store.document_by_url(f"https://pg.example/{i}"), store.document_by_url(f"https://wire.example/{i}")
            assert own is not None and wire is not None and own.id == wire.id  # one document, two URLs
        assert store.passage_count() == sum(len(split_passages(_story(i))) for i in range(50))
        assert store.integrity_check() == []


def test_concurrent_writers_leave_no_duplicate_text(postgres: LocalPostgres, pg_url: str) -> None:
    test_concurrent_writers_store_each_page_once(pg_url)
    twice = postgres.sql("SELECT content_hash FROM documents GROUP BY 1 HAVING COUNT(*) > 1", _database(pg_url))
    assert twice == []


def _records(path: Path, start: int, stop: int) -> None:
    path.write_text("".join(json.dumps({"url": f"https://pg.example/{i}", "title": f"Story {i}", "text": _story(i)})
                            + "\n" for i in range(start, stop)), encoding="utf-8")


@pytest.mark.slow
def test_two_workers_and_a_checker_share_one_database(pg_url: str, tmp_path: Path) -> None:
    """Two `corroborate import` workers, each with a data folder of its own (as on two hosts), import overlapping
    records into one database at the same time; a `corroborate check` from a third data folder sees both."""
    _records(tmp_path / "a.jsonl", 0, 30)
    _records(tmp_path / "b.jsonl", 15, 45)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_", "PG"))}
    procs = []
    for name in ("a", "b"):
        env = {**environ, "CORROBORATE_HOME": str(tmp_path / f"home-{name}"), "CORROBORATE_STORE_URL": pg_url,
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        command = [sys.executable, "-m", "corroborate.cli", "import", str(tmp_path / f"{name}.jsonl")]
        procs.append(subprocess.Popen(command, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    results = [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=RUN_TIMEOUT_S)]]
    for code, _, err in results:
        assert code == 0 and "Traceback" not in err, err[-3000:]
    new = sorted(int(m.group(1)) for _, out, _ in results if (m := re.search(r"(\d+) new", out)))
    assert sum(new) == 45 and all(n >= 15 for n in new), [out for _, out, _ in results]  # each record new once
    with PostgresStore(pg_url) as store:
        assert store.document_count() == 45 and store.unembedded_count() == 0
        assert [r["status"] for r in store.runs()] == ["completed", "completed"]
        assert store.integrity_check() == []
    # the third process: its own data folder, no index yet; the claim is in a record only worker b imported
    checker = _cli(tmp_path / "home-c", "check", "The quay reopened on day 44 after repairs.", "--json", url=pg_url)
    assert checker.returncode == 0, checker.stderr[-3000:]
    assert "https://pg.example/44" in checker.stdout, checker.stdout[-3000:]
    status = _cli(tmp_path / "home-c", "index", "status", url=pg_url)
    assert json.loads(status.stdout)["documents"] == 45, status.stdout
    assert PG_PASSWORD not in checker.stderr and quoted_password() not in checker.stdout + checker.stderr


# -- a restarted server --------------------------------------------------------------------------------------------


def test_restart_in_the_middle_of_an_import(postgres: LocalPostgres, pg_url: str, tmp_path: Path) -> None:
    """The server restarts while `corroborate import` writes: the import waits for it and completes, every
    record stored once; an import run again finds them all stored."""
    _records(tmp_path / "many.jsonl", 0, 400)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_", "PG"))}
    env = {**environ, "CORROBORATE_HOME": str(tmp_path / "home"), "CORROBORATE_STORE_URL": pg_url,
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "corroborate.cli", "import", str(tmp_path / "many.jsonl")],
                            cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = _database(pg_url)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        count = postgres.sql("SELECT COUNT(*) FROM documents", database)[0][0] \
            if "documents" in _tables(postgres, database) else 0
        if count >= 40:
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the import never started writing")
    postgres.restart()
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert "400 new" in out or re.search(r"(\d+) new", out), out
    with PostgresStore(pg_url) as store:
        assert store.document_count() == 400 and store.integrity_check() == []
        assert store.runs()[0]["status"] == "completed"
    again = _cli(tmp_path / "home", "import", str(tmp_path / "many.jsonl"), url=pg_url)
    assert again.returncode == 0 and "0 new" in again.stdout, again.stdout + again.stderr[-2000:]


def test_a_lost_connection_past_the_retry_window_is_one_clear_error(postgres: LocalPostgres, pg_url: str) -> None:
    """While the server is down longer than the store waits, a write fails with one line and writes nothing."""
    store = PostgresStore(pg_url, retry_s=1.0)
    store.add_document(_doc("https://pg.example/1", _story(1)), split_passages(_story(1)))
    postgres.stop()
    try:
        with pytest.raises(StoreError, match="lost the connection") as info:
            store.add_document(_doc("https://pg.example/2", _story(2)), split_passages(_story(2)))
        assert "\n" not in str(info.value) and PG_PASSWORD not in str(info.value)
    finally:
        postgres.start()
    assert store.document_count() == 1  # reconnected; the failed write left nothing
    store.close()


# -- runs of other hosts: told dead by their advisory lock ----------------------------------------------------------

ELSEWHERE = "worker-9.elsewhere"
# a run's owner as another host would be: a real process that starts a run and waits (until the test kills it)
_OWNER = """
import sys, time
from corroborate.corpus.pgstore import PostgresStore
store = PostgresStore(sys.argv[1])
print(store.start_run("ingest", {"outlets_file": "x"}), flush=True)
time.sleep(300)
"""
# another writer, in a process of its own (a new store in the test's own process would take the test's locks again)
_OTHER_WRITER = """
import sys
from corroborate.corpus.pgstore import PostgresStore
with PostgresStore(sys.argv[1], restart_grace_s=float(sys.argv[2])) as store:
    print(store.end_abandoned_runs())
"""


def _elsewhere(postgres: LocalPostgres, url: str, run_id: int) -> None:
    """Rewrite run ``run_id``'s owner to name another host (its pid and start time kept)."""
    postgres.sql(f"UPDATE runs SET owner = regexp_replace(owner, '^[^/]*', '{ELSEWHERE}') WHERE id = {run_id}",
                 _database(url))


def _owner_elsewhere(postgres: LocalPostgres, url: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", _OWNER, url], cwd=REPO, env=child_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        pytest.fail(f"the owner process did not start a run: {line}{proc.communicate(timeout=30)[1][-3000:]}")
    run_id = int(line)
    _elsewhere(postgres, url, run_id)
    return proc, run_id


def _run_row(store: PostgresStore, run_id: int) -> dict[str, Any]:
    (row,) = [r for r in store.runs(100) if r["id"] == run_id]
    return row


def _run_locks_held(postgres: LocalPostgres, url: str, run_id: int) -> int:
    from corroborate.corpus.pgstore import run_lock_key

    cls, key = run_lock_key(run_id)
    return int(postgres.sql("SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                            f"WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid = {cls & 0xFFFFFFFF} "
                            f"AND l.objid = {key & 0xFFFFFFFF} AND d.datname = '{_database(url)}'")[0][0])


def test_a_killed_run_of_another_host_is_ended_once_its_session_is_gone(postgres: LocalPostgres, pg_url: str) -> None:
    """A process of "another host" starts a run and is SIGKILLed: the next writer here cannot ask that host about
    its pid, but finds the run's lock free, and ends the row abandoned."""
    proc, run_id = _owner_elsewhere(postgres, pg_url)
    with PostgresStore(pg_url, restart_grace_s=0) as store:
        try:
            assert store.end_abandoned_runs() == 0  # its owner lives and holds the lock
        finally:
            proc.kill()
            proc.communicate(timeout=30)
        deadline = time.monotonic() + 10  # the server ends the killed client's session on its own
        ended = 0
        while not ended and time.monotonic() < deadline:
            ended = store.end_abandoned_runs()
            time.sleep(0.1)
        assert ended == 1
        row = _run_row(store, run_id)
        assert row["status"] == "abandoned" and row["finished"]
        assert f"on host {ELSEWHERE}" in json.loads(row["summary"])["error"]
        mine = store.start_run("import")
        assert _run_row(store, run_id)["status"] == "abandoned" and _run_row(store, mine)["status"] == "running"
        store.finish_run(mine, "completed")


def test_a_live_run_of_another_host_is_not_ended(postgres: LocalPostgres, pg_url: str) -> None:
    """A live run of "another host" (a real process holding its lock) stays running through other writers' starts;
    so does a row of another host from a corroborate older than run locks (no lock to test)."""
    proc, run_id = _owner_elsewhere(postgres, pg_url)
    try:
        with PostgresStore(pg_url, restart_grace_s=0) as store:
            old = store.start_run("import")
            store.finish_run(old, "completed")
            postgres.sql(f"INSERT INTO runs(kind, started, status, owner) VALUES ('ingest', '2024-01-01T00:00:00Z', "
                         f"'running', '{ELSEWHERE}/4242/1') ", _database(pg_url))
            for _ in range(3):
                mine = store.start_run("import")
                assert store.end_abandoned_runs() == 0
                store.finish_run(mine, "completed")
            assert _run_row(store, run_id)["status"] == "running"
            assert _run_locks_held(postgres, pg_url, run_id) == 1 and _run_locks_held(postgres, pg_url, mine) == 0
            assert [r["status"] for r in store.runs(10) if r["owner"].startswith(ELSEWHERE)] == ["running", "running"]
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_a_restarted_server_gives_owners_time_to_lock_their_runs_again(postgres: LocalPostgres, pg_url: str) -> None:
    """A restart drops every run lock. Right after it no run of another host is ended (owners take their locks
    again at their next call); an owner that does takes it back; one another writer ended meanwhile finishes with
    its real status, the abandonment kept in its summary."""
    owner = PostgresStore(pg_url)
    try:
        run_id = owner.start_run("ingest")
        _elsewhere(postgres, pg_url, run_id)
        assert _run_locks_held(postgres, pg_url, run_id) == 1
        postgres.restart()
        with PostgresStore(pg_url) as other:  # its new connection takes this process's lock again, too
            assert other.end_abandoned_runs() == 0
        assert owner.document_count() == 0 and _run_locks_held(postgres, pg_url, run_id) == 1
        postgres.restart()  # and now another writer comes first: within the grace it waits, waiving it it ends the run
        for grace, ended in (("60", "0"), ("0", "1")):
            writer = subprocess.run([sys.executable, "-c", _OTHER_WRITER, pg_url, grace], cwd=REPO, env=child_env(),
                                    text=True, capture_output=True, timeout=120)
            assert writer.returncode == 0 and writer.stdout.strip() == ended, writer.stdout + writer.stderr[-3000:]
        owner.finish_run(run_id, "completed", {"new": 3})
        row = _run_row(owner, run_id)
        summary = json.loads(row["summary"])
        assert row["status"] == "completed" and summary["new"] == 3
        meanwhile = summary["abandoned_meanwhile"]
        assert f"on host {ELSEWHERE}" in meanwhile["error"] and meanwhile["at"]
        assert _run_locks_held(postgres, pg_url, run_id) == 0
    finally:
        owner.close()


def test_an_owner_takes_back_a_lock_whose_session_alone_was_lost(postgres: LocalPostgres, pg_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The run lock's own connection is cut (its store connection is not): the owner's next store call (past
    RUN_LOCK_CHECK_S, here 0) opens a new lock session and takes the lock again."""
    from corroborate.corpus import pgstore

    monkeypatch.setattr(pgstore, "RUN_LOCK_CHECK_S", 0.0)
    with PostgresStore(pg_url) as owner:
        run_id = owner.start_run("import")
        cut = postgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           f"WHERE application_name = 'corroborate run locks' AND datname = '{_database(pg_url)}'")
        assert cut == [(True,)]
        deadline = time.monotonic() + 10
        while _run_locks_held(postgres, pg_url, run_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _run_locks_held(postgres, pg_url, run_id) == 0
        assert owner.document_count() == 0 and _run_locks_held(postgres, pg_url, run_id) == 1
        owner.finish_run(run_id, "completed")
        assert _run_locks_held(postgres, pg_url, run_id) == 0 and _run_row(owner, run_id)["status"] == "completed"


# -- store copy --------------------------------------------------------------------------------------------------


def _sqlite_corpus(home: Path, n: int) -> None:
    from corroborate.corpus.store import Store

    rng = np.random.default_rng(7)
    with Store(home / "corroborate.db") as store:
        run = store.start_run("import", {"file": "x"})
        for i in range(n):
            store.add_document(_doc(f"https://pg.example/{i}", _story(i)), split_passages(_story(i)), run_id=run)
        store.add_document(_doc("https://wire.example/3", _story(3), "wire.example"), split_passages(_story(3)))
        store.record_fetch("https://pg.example/0", "new", run_id=run, etag='"e0"')
        store.finish_run(run, "completed", {"new": n})
        ids = store.passage_ids()
        vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
        store.set_embeddings(ids.tolist(), vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        store.save_check("claim", None, None, {"claims": [{"text": "x", "is_claim": True, "status": "unmatched"}]})


def test_store_copy_is_resumable_and_verified(pg_url: str, tmp_path: Path) -> None:
    from corroborate.corpus.copy import copy_to_postgres
    from corroborate.corpus.store import Store

    home = tmp_path / "home"
    _sqlite_corpus(home, 60)
    seen: list[int] = []

    def interrupt(table: str, done: int, total: int) -> None:
        seen.append(done)
        if table == "passages" and done > 50:
            raise KeyboardInterrupt  # as Ctrl-C would, after some committed batches

    with pytest.raises(KeyboardInterrupt):
        copy_to_postgres(home, pg_url, batch=20, progress=interrupt)
    with PostgresStore(pg_url) as partial:
        assert 0 < partial.passage_count() < 180
    result = _cli(home, "store", "copy", "--to", pg_url, "--batch", "20")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(resumed); verified" in result.stdout and PG_PASSWORD not in result.stdout + result.stderr
    with Store(home / "corroborate.db") as source, PostgresStore(pg_url) as target:
        assert target.document_count() == source.document_count() == 60
        assert target.passage_ids().tolist() == source.passage_ids().tolist()
        (sid, svec), = list(source.embeddings())
        (tid, tvec), = list(target.embeddings())
        assert np.array_equal(sid, tid) and np.array_equal(svec, tvec)  # the same vectors, not embedded again
        assert target.unembedded_count() == 0 and target.generation() > 0
        assert target.document_by_url("https://wire.example/3") == source.document_by_url("https://wire.example/3")
        assert target.validators("https://pg.example/0") == ('"e0"', None)
        # the copied dedup keys hold: the same text under a new URL is an alias, a new story gets the next id
        assert target.add_document(_doc("https://other.example/3", _story(3)), split_passages(_story(3))).outcome \
            == "duplicate"
        added = target.add_document(_doc("https://pg.example/new", _story(999)), split_passages(_story(999)))
        assert added.outcome == "new" and added.document_id == 61
    again = _cli(home, "store", "copy", "--to", pg_url)
    assert again.returncode != 0 and "does not match" in again.stderr  # the target moved on: no silent copy


def test_store_copy_refuses_a_database_holding_another_corpus(pg_url: str, tmp_path: Path) -> None:
    with PostgresStore(pg_url) as store:
        store.add_document(_doc("https://pg.example/x", _story(5)), split_passages(_story(5)))
    home = tmp_path / "home"
    _sqlite_corpus(home, 3)
    result = _cli(home, "store", "copy", "--to", pg_url)
    _one_line_error(result, contains="already holds a corpus")


def test_a_reader_thread_and_writer_share_a_store(pg_url: str) -> None:
    """One store object used from two threads (the warm service does): the lock keeps them apart."""
    with PostgresStore(pg_url) as store:
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for i in range(40):
                    store.add_document(_doc(f"https://pg.example/t{i}", _story(i)), split_passages(_story(i)))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        t = threading.Thread(target=write)
        t.start()
        while t.is_alive():
            store.keyword_search("harbour quay", 5)
            store.document_count()
        t.join()
        assert not errors and store.document_count() == 40


@pytest.mark.slow
def test_a_worker_killed_mid_import_while_another_keeps_writing(pg_url: str, tmp_path: Path) -> None:
    """SIGKILL one of two importing workers: the other completes, nothing is half-written, the killed run is
    marked abandoned by the next run on its host, and that run stores the rest: every record once."""
    _records(tmp_path / "a.jsonl", 0, 300)
    _records(tmp_path / "b.jsonl", 150, 450)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_", "PG"))}

    def start(name: str) -> subprocess.Popen[str]:
        env = {**environ, "CORROBORATE_HOME": str(tmp_path / f"home-{name}"), "CORROBORATE_STORE_URL": pg_url,
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        return subprocess.Popen([sys.executable, "-m", "corroborate.cli", "import", str(tmp_path / f"{name}.jsonl")],
                                cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    a, b = start("a"), start("b")
    with PostgresStore(pg_url) as store:
        deadline = time.monotonic() + 300
        while store.document_count() < 60 and time.monotonic() < deadline and a.poll() is None:
            time.sleep(0.1)
        assert a.poll() is None, "worker a finished before it could be killed"
        a.kill()
        a.communicate(timeout=60)
        out, err = b.communicate(timeout=RUN_TIMEOUT_S)
        assert b.returncode == 0 and "Traceback" not in err, err[-3000:]
        assert store.integrity_check() == []
    rerun = _cli(tmp_path / "home-a", "import", str(tmp_path / "a.jsonl"), url=pg_url)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    with PostgresStore(pg_url) as store:
        assert store.document_count() == 450 and store.unembedded_count() == 0
        for i in (0, 149, 150, 299, 449):
            assert store.document_by_url(f"https://pg.example/{i}") is not None
        statuses = sorted(r["status"] for r in store.runs())
        assert statuses == ["abandoned", "completed", "completed"], statuses
        assert store.integrity_check() == []


@pytest.mark.slow
def test_two_prefect_ingests_into_one_database(news_site: NewsSite, pg_url: str, tmp_path: Path) -> None:
    """`corroborate ingest` (the Prefect flow, each with its own data folder and Prefect home) of two outlets whose
    feeds share two pages, at the same time, into one database: each page stored once, both runs complete."""
    pages = sorted(news_site.pages.values())
    with serving(pages[:4]) as feed_a, serving(pages[2:6]) as feed_b:
        procs = []
        for name, feed in (("a", feed_a), ("b", feed_b)):
            folder = tmp_path / name
            folder.mkdir()
            outlets = one_outlet_file(folder, feed, f"Worker {name.upper()} Times")
            env = child_env(CORROBORATE_HOME=str(folder / "home"), PREFECT_HOME=str(folder / "prefect"),
                            CORROBORATE_STORE_URL=pg_url, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                            HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
            command = [sys.executable, "-m", "corroborate.cli", "ingest", "--outlets", str(outlets)]
            procs.append(subprocess.Popen(command, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE))
        results = [(p, *p.communicate(timeout=RUN_TIMEOUT_S)) for p in procs]
        listed = sorted(set(feed_a.listed) | set(feed_b.listed))
    for proc, _, err in results:
        assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
        assert PG_PASSWORD not in err and quoted_password() not in err
    assert len(listed) == 6
    with PostgresStore(pg_url) as store:
        for url in listed:
            assert store.document_by_url(url) is not None, f"never stored: {url}"
        assert store.document_count() == 6 and store.unembedded_count() == 0
        assert sorted(r["status"] for r in store.runs()) == ["completed", "completed"]
        new = [row["url"] for row in store.fetch_log() if row["outcome"] == "new"]
        assert sorted(new) == listed  # each page new in exactly one of the two runs
        assert store.integrity_check() == []
