"""Fast ad-hoc checks without setup (issue 24, finding 14): the real CLI, with the background warm checker on.

The first `check` of a data folder starts `python -m corroborate.daemon` (the checker service of `serve`,
without Prefect) and asks it; the next `check` finds it and loads no model; it answers only its user (socket
and key 0600); it exits after `checker_idle_minutes` without a request, and when its data folder is removed.
`--no-daemon` starts none. The rest of the suite runs with CORROBORATE_CHECKER_DAEMON=0 (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corroborate.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
CLAIM = "The Harbor City council approved the new tram line"
IDLE_MINUTES = 0.5


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_")}
    env.update(CORROBORATE_HOME=str(home), CORROBORATE_CHECKER_DAEMON="1",
               CORROBORATE_CHECKER_IDLE_MINUTES=str(IDLE_MINUTES), **extra)
    return env


def _cli(home: Path, *args: str, **extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "corroborate.cli", *args], cwd=ROOT, env=_env(home, **extra),
                          capture_output=True, text=True, timeout=600)
    return proc, time.monotonic() - started


def _daemon_pid(home: Path) -> int:
    found = re.findall(r"background checker pid (\d+)", (home / "checker.log").read_text())
    assert found, (home / "checker.log").read_text()
    return int(found[-1])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie has exited too (its parent, the first check, is gone; a container's init may not reap it)
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pid: int, timeout: float) -> float:
    started = time.monotonic()
    while not _gone(pid):
        if time.monotonic() - started > timeout:
            os.kill(pid, 9)
            pytest.fail(f"background checker {pid} still running after {timeout} s")
        time.sleep(0.5)
    return time.monotonic() - started


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"url": "https://a.example/1", "title": "Tram line approved", "outlet": "a.example",
                                "text": "The Harbor City council approved the new tram line on Monday."}) + "\n")
    proc, _ = _cli(home, "import", str(docs))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return home


@pytest.mark.slow
def test_the_first_check_starts_a_warm_checker_the_next_uses_it_and_it_exits_when_idle(home: Path) -> None:
    first, cold = _cli(home, "--debug", "check", "--json", CLAIM)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "started a background checker" in first.stderr
    pid = _daemon_pid(home)
    for name in ("checker.sock", "checker.key", "checker.log"):  # only its user may connect, read its key or log
        assert stat.S_IMODE(os.lstat(home / name).st_mode) == 0o600, name

    second, warm = _cli(home, "--debug", "check", "--json", CLAIM)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "using the warm checker service" in second.stderr and "started a background" not in second.stderr
    assert json.loads(second.stdout)["status"] == json.loads(first.stdout)["status"]
    assert _daemon_pid(home) == pid and not _gone(pid)
    print(f"first check {cold:.1f} s (starts the checker), second {warm:.1f} s (warm)")
    assert warm < cold

    # --no-daemon starts nothing, but a warm checker already running still answers
    third, _ = _cli(home, "--debug", "check", "--no-daemon", "--json", CLAIM)
    assert third.returncode == 0 and "started a background" not in third.stderr

    waited = _wait_gone(pid, IDLE_MINUTES * 60 + 90)
    print(f"exited {waited:.0f} s after the last check (idle limit {IDLE_MINUTES * 60:.0f} s)")
    assert "idle for" in (home / "checker.log").read_text()
    assert not (home / "checker.sock").exists() and not (home / "checker.key").exists()


@pytest.mark.slow
def test_no_daemon_checks_in_its_own_process(home: Path) -> None:
    proc, _ = _cli(home, "--debug", "check", "--no-daemon", "--json", CLAIM)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "started a background" not in proc.stderr and "loading the models in this process" in proc.stderr
    assert not (home / "checker.log").exists() and not (home / "checker.key").exists()


@pytest.mark.slow
def test_the_background_checker_exits_when_its_data_folder_is_removed(tmp_path: Path) -> None:
    home = tmp_path / "gone"
    settings = load_settings({"home": home, "checker_idle_minutes": 60}, environ={})
    home.mkdir()
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "corroborate.daemon"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=log, stderr=subprocess.STDOUT, env=_env(home))
    assert proc.stdin is not None
    proc.stdin.write(pickle.dumps(settings))
    proc.stdin.close()
    deadline = time.monotonic() + 120
    while not (home / "checker.key").exists():
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()
        time.sleep(0.2)
    shutil.rmtree(home)
    try:
        assert proc.wait(timeout=180) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert "is gone" in (tmp_path / "daemon.log").read_text()
