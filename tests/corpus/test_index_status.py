"""`index status` says what the next check will find (issue 24, finding 11): an unrelated file in place of
passages.faiss, or a manifest claiming 10^12 vectors of dimension -1, is "will be rebuilt at next check"
with exit code 1, and after the check has rebuilt it, status is current again (exit 0). Real CLI processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = [
    {"url": "https://a.example/1", "title": "Council approves the tram line",
     "text": "The Harbor City council approved the new tram line on Monday.", "outlet": "a.example"},
    {"url": "https://b.example/2", "title": "Tram line approved",
     "text": "Councillors in Harbor City voted for the tram line, officials said.", "outlet": "b.example"},
]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env["CORROBORATE_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _status(home: Path) -> tuple[int, dict[str, object], str]:
    proc = _cli(home, "index", "status")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("status") / "home"
    docs = home.parent / "docs.jsonl"
    docs.write_text("\n".join(json.dumps(d) for d in DOCS) + "\n", encoding="utf-8")
    proc = _cli(home, "import", str(docs))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return home


def test_status_of_a_current_index_is_zero(home: Path) -> None:
    code, info, _ = _status(home)
    assert code == 0
    assert info["state"] == "current" and info["usable"] is True
    assert info["vectors"] == info["passages"]


def test_an_unrelated_index_file_and_a_lying_manifest_are_rebuilt_and_status_says_so(home: Path) -> None:
    faiss_file, manifest_file = home / "index" / "passages.faiss", home / "index" / "manifest.json"
    saved = faiss_file.read_bytes(), manifest_file.read_text(encoding="utf-8")

    faiss_file.write_bytes(b"%PDF-1.4 not an index at all\n" * 40)
    code, info, err = _status(home)
    assert code == 1
    assert info["state"] == "broken" and info["usable"] is False
    assert info["next_check"] == "will be rebuilt at next check"
    assert "will be rebuilt at next check" in err and len(err.strip().splitlines()) == 1

    faiss_file.write_bytes(saved[0])
    manifest = json.loads(saved[1])
    manifest.update(count=10**12, dimension=-1)  # the checksum still matches the file
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    code, info, err = _status(home)
    assert code == 1
    assert info["state"] == "broken" and info["next_check"] == "will be rebuilt at next check"

    # what status said is what check does: it rebuilds, and status is current again
    check = _cli(home, "check", "--json", "The Harbor City council approved the new tram line")
    assert check.returncode == 0, check.stderr[-2000:]
    code, info, _ = _status(home)
    assert code == 0 and info["state"] == "current"


def test_a_lagging_index_is_brought_up_to_date_at_next_check(home: Path) -> None:
    manifest_file = home / "index" / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    manifest["store_generation"] = -5  # an index saved before the last write
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    code, info, _ = _status(home)
    assert code == 1
    assert info["state"] == "stale" and info["next_check"] == "will be brought up to date at next check"
