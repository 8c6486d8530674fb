"""Private by default (issue 24, finding 10): a new data folder is 0700, the store and the index files 0600,
whatever the umask lets other users read; an existing file keeps the mode its owner gave it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

DOCS = [
    {"url": "https://a.example/1", "title": "Council approves the tram line",
     "text": "The Harbor City council approved the new tram line on Monday.", "outlet": "a.example"},
]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_data_folder_store_and_index_are_private_to_their_owner(tmp_path: Path) -> None:
    home = tmp_path / "data" / "home"
    docs = tmp_path / "docs.jsonl"
    docs.write_text("\n".join(json.dumps(d) for d in DOCS) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env["CORROBORATE_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-m", "corroborate.cli", "import", str(docs)], env=env,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: os.umask(0o022))  # the usual umask: new files 0644 unless made private
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _mode(home) == 0o700
    assert _mode(home / "corroborate.db") == 0o600
    assert _mode(home / "index") == 0o700
    files = [p for p in (home / "index").iterdir() if p.is_file()]
    assert files, "no index files"
    for path in [*files, *home.glob("corroborate.db-*"), home / "write.lock"]:
        if path.exists():
            assert _mode(path) & 0o077 == 0, f"{path.name} is {oct(_mode(path))}"


def test_an_existing_store_keeps_its_mode(tmp_path: Path) -> None:
    from corroborate.corpus.store import Store

    path = tmp_path / "corroborate.db"
    with Store(path):
        pass
    os.chmod(path, 0o640)  # shared with a group on purpose
    with Store(path):
        pass
    assert _mode(path) == 0o640
