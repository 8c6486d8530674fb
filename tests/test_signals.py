"""SIGINT and SIGTERM end runs cleanly (issue 24, findings 5 and 8): the real CLI in a subprocess, signalled
the way a terminal (Ctrl-C) or `timeout` signals it, to its whole process group, in the middle of its work.

- `ingest` against the loopback news site: fetching stops within a few seconds (no page request starts
  later, as the site's own log shows), what was fetched and extracted is stored, the run is `interrupted`
  with the signal as its reason, one line says so on stderr, no traceback, exit 128 + the signal.
- `article`, `check --file`, `import` and `stance`: one line ("interrupted by SIGTERM"), no traceback, exit
  143 (130 for Ctrl-C); the import's run row ends `interrupted` with that reason; stance writes no file.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from newssite import NewsSite

from corroborate.corpus.store import Store

ROOT = Path(__file__).resolve().parents[1]
STOP_WITHIN_S = 3.0  # no page request may start this long after the signal
EXIT_WITHIN_S = 90.0  # storing what was fetched, the flow's end, the ephemeral server's stop (busy 2-core box)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORROBORATE_", "PREFECT_"))
           or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update(CORROBORATE_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180", **extra)
    return env


def _start(home: Path, *args: str, **extra: str) -> tuple[subprocess.Popen[str], Path, Path]:
    out, err = home.parent / f"{home.name}.out", home.parent / f"{home.name}.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([sys.executable, "-m", "corroborate.cli", *args], cwd=ROOT, env=_env(home, **extra),
                                stdout=o, stderr=e, text=True, start_new_session=True)  # its own group, as in a shell
    return proc, out, err


def _wait_for(what: str, done: object, proc: subprocess.Popen[str], err: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert proc.poll() is None, f"exited {proc.returncode} before {what}: {err.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s: {err.read_text()[-3000:]}"
        time.sleep(0.1)


def _signal_group(proc: subprocess.Popen[str], sig: int) -> float:
    os.killpg(proc.pid, sig)  # the whole group, as Ctrl-C in a terminal or `timeout` does
    return time.monotonic()


def _finish(proc: subprocess.Popen[str], timeout: float = EXIT_WITHIN_S) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"still running {timeout} s after the signal")


def _assert_one_clean_line(err: Path, expected: str) -> None:
    text = err.read_text()
    assert "Traceback" not in text, text[-4000:]
    lines = [line for line in text.splitlines() if "interrupted" in line.lower()]
    assert len(lines) == 1 and expected in lines[0], text[-4000:]


def _pages(site: NewsSite) -> list[float]:
    return [r.start for r in site.requests if r.path.startswith("/news/")]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_ingest_stops_fetching_stores_what_was_fetched_and_ends_the_run(
    news_site: NewsSite, tmp_path: Path, sig: int
) -> None:
    outlets = tmp_path / "outlets.toml"
    outlets.write_text(news_site.outlets_toml(), encoding="utf-8")
    home = tmp_path / "home"
    news_site.reset_log()
    # one page at a time, 0.3 s apart: fetching all 181 pages would take about a minute
    proc, out, err = _start(home, "ingest", "--outlets", str(outlets), CORROBORATE_ALLOW_PRIVATE="1",
                            CORROBORATE_PER_HOST_DELAY_S="0.3", CORROBORATE_PER_HOST_CONCURRENCY="1",
                            CORROBORATE_TIMEOUT_S="5", CORROBORATE_MAX_RETRIES="1")
    _wait_for("ten page requests", lambda: len(_pages(news_site)) >= 10, proc, err)
    signalled = _signal_group(proc, sig)
    code = _finish(proc)
    took = time.monotonic() - signalled
    late = [t - signalled for t in _pages(news_site) if t > signalled + STOP_WITHIN_S]
    fetched = sum(1 for t in _pages(news_site) if t <= signalled + STOP_WITHIN_S)

    assert code == 128 + sig, err.read_text()[-3000:]
    assert not late, f"{len(late)} page requests started more than {STOP_WITHIN_S} s after the signal"
    assert fetched < 181, "the signal came after the fetching had finished; nothing was interrupted"
    name = signal.Signals(sig).name
    _assert_one_clean_line(err, f"interrupted by {name}")
    with Store(home / "corroborate.db") as store:
        documents = store.document_count()
        run = store.runs(limit=1)[0]
    assert 0 < documents <= fetched, (documents, fetched)
    assert run["kind"] == "ingest" and run["status"] == "interrupted"
    summary = json.loads(run["summary"])
    assert summary["interrupted"] == f"interrupted by {name}"
    assert "store:" in out.read_text()  # the summary is still printed
    print(f"{name}: exit {code} {took:.1f} s after the signal; {fetched} pages fetched, {documents} stored")


def _corpus(home: Path) -> None:
    docs = home.parent / "docs.jsonl"
    docs.write_text(json.dumps({"url": "https://a.example/1", "title": "Tram", "outlet": "a.example",
                                "text": "The Harbor City council approved the new tram line on Monday."}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "corroborate.cli", "import", str(docs)], cwd=ROOT, env=_env(home),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _progress(err: Path, label: str) -> bool:
    return f"{label}: " in err.read_text()


@pytest.mark.slow
def test_sigterm_during_check_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _corpus(home)
    claims = tmp_path / "claims.txt"
    claims.write_text("".join(f"The council approved tram line number {i} on Monday.\n" for i in range(3000)))
    proc, _, err = _start(home, "check", "--file", str(claims), "--jsonl")
    _wait_for("check progress", lambda: _progress(err, "check"), proc, err)
    _signal_group(proc, signal.SIGTERM)
    assert _finish(proc, 60) == 143
    _assert_one_clean_line(err, "interrupted by SIGTERM")


@pytest.mark.slow
def test_ctrl_c_during_check_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _corpus(home)
    claims = tmp_path / "claims.txt"
    claims.write_text("".join(f"The council approved tram line number {i} on Monday.\n" for i in range(3000)))
    proc, _, err = _start(home, "check", "--file", str(claims))
    _wait_for("check progress", lambda: _progress(err, "check"), proc, err)
    _signal_group(proc, signal.SIGINT)
    assert _finish(proc, 60) == 130
    _assert_one_clean_line(err, "interrupted by SIGINT")
    assert "Aborted" not in err.read_text()


@pytest.mark.slow
def test_sigterm_during_article_is_one_line(news_site: NewsSite, tmp_path: Path) -> None:
    home = tmp_path / "home"
    page = sorted(news_site.pages.values())[0]
    # a slow answer: the signal lands while the article is being fetched or the models load
    proc, _, err = _start(home, "article", f"{page}?delay=5", CORROBORATE_ALLOW_PRIVATE="1")
    time.sleep(2.5)
    assert proc.poll() is None, err.read_text()
    _signal_group(proc, signal.SIGTERM)
    assert _finish(proc, 60) == 143
    _assert_one_clean_line(err, "interrupted by SIGTERM")


@pytest.mark.slow
def test_sigterm_during_import_ends_its_run_interrupted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    docs = tmp_path / "big.jsonl"
    with docs.open("w", encoding="utf-8") as fh:
        for i in range(20000):
            fh.write(json.dumps({"url": f"https://a.example/{i}", "title": f"Story {i}", "outlet": "a.example",
                                 "text": f"Story {i}: the council of town {i} approved a new tram line on Monday. "
                                         f"The line will have {i % 40 + 3} stops, officials said."}) + "\n")
    proc, _, err = _start(home, "import", str(docs))
    _wait_for("import progress", lambda: _progress(err, "import"), proc, err)
    _signal_group(proc, signal.SIGTERM)
    assert _finish(proc, 60) == 143
    _assert_one_clean_line(err, "interrupted by SIGTERM")
    with Store(home / "corroborate.db") as store:
        run = store.runs(limit=1)[0]
    assert run["kind"] == "import" and run["status"] == "interrupted"
    assert json.loads(run["summary"])["error"] == "interrupted by SIGTERM"


@pytest.mark.slow
def test_sigterm_during_stance_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pairs, output = tmp_path / "pairs.csv", tmp_path / "out.csv"
    with pairs.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "claim", "evidence"])
        for i in range(2000):
            writer.writerow([f"p{i}", f"The council approved tram line {i}.",
                             f"Councillors voted for tram line {i} on Monday, officials said."])
    proc, _, err = _start(home, "stance", str(pairs), "-o", str(output))
    # the claims' atoms are made before the first judged batch reports progress: signal once the judge is loaded
    started = time.monotonic()
    _wait_for("the judge", lambda: _progress(err, "stance") or "Loading weights" in err.read_text()
              or time.monotonic() - started > 45, proc, err)
    time.sleep(2)
    _signal_group(proc, signal.SIGTERM)
    assert _finish(proc, 60) == 143
    _assert_one_clean_line(err, "interrupted by SIGTERM")
    assert not output.exists()
