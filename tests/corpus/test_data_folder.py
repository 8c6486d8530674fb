"""The data folder as it is found in life: read-only, a file, on a full disk; run rows that always end.

Read-only folders are made for real: a read-only bind mount in a private mount namespace (``unshare
-rm``, which works for root too), or, where user namespaces are off, ``chmod a-w`` for a non-root user.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from corroborate.cli import cli, main
from corroborate.corpus.dedup import content_hash
from corroborate.corpus.embed import load_embedder
from corroborate.corpus.index import sync_index
from corroborate.corpus.passages import split_passages
from corroborate.corpus.records import NewDocument
from corroborate.corpus.store import AbandonedRun, Store, process_gone, this_process
from corroborate.errors import StoreError
from corroborate.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
ARTICLES = {
    "https://a.example/flood": ("a.example", "Heavy rain flooded the lower town overnight. Firefighters pumped water "
                                "from dozens of cellars. No one was hurt, the fire brigade said."),
    "https://b.example/flood": ("b.example", "Firefighters pumped water out of dozens of flooded cellars in the lower "
                                "town after a night of heavy rain. Nobody was injured."),
}
CLAIM = "Firefighters pumped water from dozens of cellars after heavy rain flooded the lower town."

Runner = Callable[[Path, list[str]], subprocess.CompletedProcess[str]]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env["CORROBORATE_HOME"] = str(home)
    return env


def _add(store: Store, url: str, outlet: str, text: str) -> None:
    doc = NewDocument(url=url, canonical_url=url, outlet=outlet, text=text, content_hash=content_hash(text),
                      title=text.split(".")[0])
    store.add_document(doc, split_passages(text, 2, 1, 400))


_MOUNT_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def _mount_works(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", _MOUNT_READ_ONLY, "sh", str(folder), "sh", "-c",
                            f"! touch {folder}/probe"], capture_output=True, timeout=30)
    return probe.returncode == 0 and not (folder / "probe").exists()


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Run ``corroborate ARGS`` with the data folder read-only."""
    if _mount_works(tmp_path_factory.mktemp("probe")):
        def in_mount(home: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["unshare", "-rm", "sh", "-c", _MOUNT_READ_ONLY, "sh", str(home), sys.executable,
                                   "-m", "corroborate.cli", *args], cwd=REPO, env=_env(home), capture_output=True,
                                  text=True, timeout=300)
        return in_mount
    if os.geteuid() == 0:
        pytest.skip("no user namespaces, and root writes through chmod: cannot make a read-only folder here")

    def chmodded(home: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
        paths = [home, *home.rglob("*")]
        for p in paths:
            p.chmod(p.stat().st_mode & ~0o222)
        try:
            return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], cwd=REPO, env=_env(home),
                                  capture_output=True, text=True, timeout=300)
        finally:
            for p in paths:
                p.chmod(p.stat().st_mode | 0o200)
    return chmodded


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store and index, then one more document, so the saved index lags the store."""
    settings = load_settings({"home": tmp_path_factory.mktemp("home")}, environ={})
    with Store(settings.store_path) as store:
        for url, (outlet, text) in ARTICLES.items():
            _add(store, url, outlet, text)
        sync_index(store, load_embedder(), settings)
        _add(store, "https://c.example/zoo", "c.example", "Twin panda cubs were born at the city zoo overnight.")
    return settings


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def test_read_commands_work_in_a_read_only_data_folder(corpus: Settings, read_only: Runner) -> None:
    home = corpus.home
    before = _files(home)
    status = read_only(home, ["index", "status"])
    assert status.returncode == 0, status.stderr[-2000:]
    info = json.loads(status.stdout)
    assert info["documents"] == 3 and info["unembedded"] == 1

    check = read_only(home, ["check", CLAIM, "--json"])
    assert check.returncode == 0, check.stderr[-2000:]
    assert {e["url"] for e in json.loads(check.stdout)["evidence"]} >= set(ARTICLES)
    assert "lags the store" in check.stderr and "read-only" in check.stderr, "answers from the saved index"

    article = home.parent / f"{home.name}-article.txt"
    article.write_text(f"Cellars pumped dry\n\n{CLAIM}\n", encoding="utf-8")
    report = read_only(home, ["article", str(article), "--json"])
    assert report.returncode == 0, report.stderr[-2000:]
    assert json.loads(report.stdout)["article"]["claims"] == 1
    assert "was not saved" in report.stderr

    docs = home.parent / f"{home.name}-docs.jsonl"
    docs.write_text(json.dumps({"url": "https://d.example/1", "text": "Words on a page."}) + "\n", encoding="utf-8")
    imported = read_only(home, ["import", str(docs)])
    assert imported.returncode == 1
    lines = [line for line in imported.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot write to data folder" in lines[0] and "unexpected" not in lines[0], lines
    assert _files(home) == before, "nothing in the data folder changed"


def test_a_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "corroborate.db"
    with Store(path) as store:
        _add(store, *next((u, *v) for u, v in ARTICLES.items()))
    with Store(path, read_only=True) as store:
        assert store.read_only and store.document_count() == 1
        with pytest.raises(StoreError, match="read-only"):
            store.start_run("import")
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path / "missing" / "corroborate.db", read_only=True)
    assert not (tmp_path / "missing").exists()


# -- a full disk -------------------------------------------------------------------------------------


def test_a_full_disk_is_one_store_error_and_leaves_the_store_whole(tmp_path: Path) -> None:
    with Store(tmp_path / "corroborate.db") as store:
        _add(store, *next((u, *v) for u, v in ARTICLES.items()))
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count={pages}")  # the database may not grow: a full disk
        text = "The harbour reopened after repairs to the quay wall. " * 2000
        with pytest.raises(StoreError, match="is full"):
            _add(store, "https://b.example/harbour", "b.example", text)
        assert store.document_count() == 1
        assert store.integrity_check() == []


@pytest.mark.parametrize(
    "failure",
    [OSError(errno.ENOSPC, "No space left on device", "index/manifest.json"),
     sqlite3.OperationalError("database or disk is full")],
    ids=["ENOSPC", "SQLITE_FULL"],
)
def test_a_full_disk_is_named_not_unexpected(tmp_path: Path, failure: Exception, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def full(_index_dir: Path) -> None:
        raise failure

    monkeypatch.setattr("corroborate.corpus.index.read_manifest", full)
    with pytest.raises(SystemExit) as exit_:
        main(["--home", str(tmp_path), "index", "status"])
    assert exit_.value.code == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "disk is full" in lines[0] and "unexpected" not in lines[0], lines


# -- run rows ------------------------------------------------------------------------------------------


def test_a_failed_import_ends_its_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corroborate.ingest.steps import CorpusWriter

    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"url": u, "text": t, "outlet": o}) + "\n" for u, (o, t) in ARTICLES.items()),
                    encoding="utf-8")
    real = CorpusWriter.write
    calls: list[int] = []

    def fail_on_the_second(self: CorpusWriter, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the writer broke")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CorpusWriter, "write", fail_on_the_second)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(docs)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    with Store(tmp_path / "home" / "corroborate.db") as store:
        (run,) = store.runs()
    assert run["status"] == "failed" and run["finished"]
    assert json.loads(run["summary"])["error"] == "RuntimeError: the writer broke"


RUNNER = """
import sys, time
from pathlib import Path
from corroborate.corpus.store import Store

with Store(Path(sys.argv[1])) as store:
    store.start_run("ingest", {"file": "docs.jsonl"}, flow_run="flow-run-of-the-killed")
    print("started", flush=True)
    time.sleep(600)
"""


def test_a_killed_writers_run_is_abandoned_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "corroborate.db"
    child = subprocess.Popen([sys.executable, "-c", RUNNER, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "started"
        with Store(path) as store:
            mine = store.start_run("ingest")
            assert {r["id"]: r["status"] for r in store.runs()} == {1: "running", mine: "running"}, "alive: kept"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        child.kill()
        child.wait(30)
    with Store(path) as store:
        later = store.start_run("import")
        runs = {r["id"]: r for r in store.runs()}
    assert runs[1]["status"] == "abandoned" and runs[1]["finished"]
    assert f"pid {child.pid}" in json.loads(runs[1]["summary"])["error"]
    assert runs[mine]["status"] == runs[later]["status"] == "running", "this process's runs are alive"
    # an import (no flow runs of its own) abandoned it: its flow run waits for flow code to end it in Prefect
    with Store(path) as store:
        assert store.abandoned_flow_runs() == [AbandonedRun(1, "ingest", "flow-run-of-the-killed", str(child.pid))]
        store.flow_run_ended(1)
        assert store.abandoned_flow_runs() == []
        assert store.runs()[-1]["flow_run_ended"]


def _runs(path: Path) -> list[tuple[int, str]]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        return [(int(r[0]), str(r[1])) for r in conn.execute("SELECT id, status FROM runs ORDER BY id")]
    except sqlite3.Error:
        return []  # not made yet
    finally:
        conn.close()


def test_a_killed_corroborate_import_is_abandoned_by_the_next_import(tmp_path: Path) -> None:
    home = tmp_path / "home"
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"url": f"https://k.example/{i}", "text": f"Story {i}. The quay reopened."})
                            + "\n" for i in range(2000)), encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-m", "corroborate.cli", "import", str(docs)], cwd=REPO,
                             env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _runs(home / "corroborate.db") != [(1, "running")] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _runs(home / "corroborate.db") == [(1, "running")], "the import started its run"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        child.kill()
        child.wait(30)
    again = tmp_path / "again.jsonl"
    again.write_text(json.dumps({"url": "https://k.example/x", "text": "The quay reopened."}) + "\n",
                     encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "import", str(again)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert _runs(home / "corroborate.db") == [(1, "abandoned"), (2, "completed")]


def test_a_reused_pid_is_not_the_process_that_started_the_run() -> None:
    me = this_process()
    host, pid, start = me.rsplit("/", 2)
    assert not process_gone(me)
    if start:  # Linux: the start time tells a reused pid from the process that recorded it
        assert process_gone(f"{host}/{pid}/{int(start) + 1}")
    assert not process_gone(f"another-{host}/{pid}/{start}"), "another machine's process cannot be judged"
