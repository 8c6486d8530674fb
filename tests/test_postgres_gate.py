"""The Prefect-on-PostgreSQL test's server: a machine without Debian's PostgreSQL (with pg_trgm) skips that test
locally and fails it under CI (CI=true), and `./run postgres` (which `./run test` and `./run install` call) installs
it with apt-get as root, or stops a CI run that cannot get one; as tests/test_browser_gate.py does for the browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _no_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from corroborate.corpus import pglocal

    monkeypatch.setattr(pglocal, "SYSTEM_ROOT", tmp_path / "no-postgresql")


@pytest.mark.parametrize("ci", ["true", "True", "1"])
def test_missing_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str) -> None:
    from conftest import require_system_postgres

    _no_server(monkeypatch, tmp_path)
    with pytest.raises(pytest.fail.Exception, match="under CI this test must run"):
        require_system_postgres({"CI": ci})


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}, {"CI": ""}])
def test_missing_server_skips_locally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      environ: dict[str, str]) -> None:
    from conftest import require_system_postgres

    _no_server(monkeypatch, tmp_path)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server with the pg_trgm extension"):
        require_system_postgres(environ)


def _fake_server(root: Path, *, trgm: bool = True) -> Path:
    """A PostgreSQL installation as Debian lays it out, with programs that do nothing: ``root``/15/bin."""
    bin_dir, share = root / "15" / "bin", root.parent / "share" / "postgresql" / "15"
    bin_dir.mkdir(parents=True)
    (share / "extension").mkdir(parents=True)
    if trgm:
        (share / "extension" / "pg_trgm.control").write_text("comment = 'trigram'\n")
    for name in ("initdb", "pg_ctl", "postgres"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "pg_config").write_text(f"#!/bin/sh\necho {share}\n")
    (bin_dir / "pg_config").chmod(0o755)
    return bin_dir


def test_system_bin_dir_wants_pg_trgm(tmp_path: Path) -> None:
    from corroborate.corpus.pglocal import system_bin_dir

    assert system_bin_dir(tmp_path / "none") is None
    _fake_server(tmp_path / "no-contrib" / "lib", trgm=False)
    assert system_bin_dir(tmp_path / "no-contrib" / "lib") is None
    found = _fake_server(tmp_path / "debian" / "lib")
    assert system_bin_dir(tmp_path / "debian" / "lib") == found


def test_many_hosts_test_errors_under_ci_without_a_server(tmp_path: Path) -> None:
    """The real test module, run by pytest with CI=true on a machine whose PostgreSQL root is empty: not a skip."""
    plugin = tmp_path / "no_system_postgres.py"
    plugin.write_text("from pathlib import Path\nfrom corroborate.corpus import pglocal\n\n"
                      f"pglocal.SYSTEM_ROOT = Path({str(tmp_path / 'empty')!r})\n", encoding="utf-8")
    env = {**os.environ, "CI": "true", "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path),
                                                                                     os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no_system_postgres",
         str(ROOT / "tests" / "test_many_hosts.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert re.search(r"\b\d+ errors?\b", proc.stdout) and "skipped" not in proc.stdout, proc.stdout[-2000:]
    assert " passed" not in proc.stdout, proc.stdout[-2000:]
    assert "under CI this test must run" in proc.stdout


def _fake_bin(tmp_path: Path, *, uid: int, apt_ok: bool, apt_installs: bool = True) -> Path:
    """A PATH for ./run: dirname, an `id` that says ``uid``, an apt-get that logs its calls and, when it succeeds,
    lays out a PostgreSQL with pg_trgm under tmp_path/usr/lib/postgresql (./run's POSTGRES_ROOT here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_dirname = subprocess.run(["which", "dirname"], capture_output=True, text=True, check=True).stdout.strip()
    (bin_dir / "dirname").symlink_to(real_dirname)
    apt_log = tmp_path / "apt.log"
    if not apt_ok:
        apt_install = 'echo "E: Unable to locate package postgresql-contrib" >&2; exit 100'
    elif apt_installs:  # the packages' files, laid out now and moved in place by the install
        _fake_server(tmp_path / "usr" / "lib" / "postgresql")
        (tmp_path / "usr").rename(tmp_path / "usr.deb")
        mv = subprocess.run(["which", "mv"], capture_output=True, text=True, check=True).stdout.strip()
        apt_install = f"{mv} {tmp_path / 'usr.deb'} {tmp_path / 'usr'}"
    else:
        apt_install = ":"
    scripts = {
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": f'#!/bin/sh\necho "$@" >> {apt_log}\nif [ "$1" = install ]; then {apt_install}; fi\n',
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    return bin_dir


def _run_postgres(bin_dir: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    root = bin_dir.parent / "usr" / "lib" / "postgresql"
    env = {"PATH": str(bin_dir), "HOME": str(bin_dir.parent), "POSTGRES_ROOT": str(root)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(["/bin/bash", str(ROOT / "run"), "postgres"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_run_installs_with_apt_as_root(tmp_path: Path) -> None:
    proc = _run_postgres(_fake_bin(tmp_path, uid=0, apt_ok=True), "true")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    log = (tmp_path / "apt.log").read_text()
    assert "update" in log and "install -y -qq postgresql postgresql-contrib" in log


def test_run_stops_under_ci_when_apt_fails(tmp_path: Path) -> None:
    proc = _run_postgres(_fake_bin(tmp_path, uid=0, apt_ok=False), "true")
    assert proc.returncode == 1
    assert "E: Unable to locate package postgresql-contrib" in proc.stderr  # apt's own words are not swallowed
    assert "error: apt-get install postgresql postgresql-contrib failed" in proc.stderr


def test_run_stops_under_ci_when_apt_leaves_no_server(tmp_path: Path) -> None:
    proc = _run_postgres(_fake_bin(tmp_path, uid=0, apt_ok=True, apt_installs=False), "1")
    assert proc.returncode == 1 and "no server with pg_trgm" in proc.stderr, proc.stderr


def test_run_stops_under_ci_when_it_cannot_install(tmp_path: Path) -> None:
    proc = _run_postgres(_fake_bin(tmp_path, uid=1000, apt_ok=True), "true")
    assert proc.returncode == 1 and "needs root and apt-get" in proc.stderr
    assert not (tmp_path / "apt.log").exists()


def test_run_warns_and_goes_on_locally(tmp_path: Path) -> None:
    proc = _run_postgres(_fake_bin(tmp_path, uid=0, apt_ok=False), None)
    assert proc.returncode == 0
    assert "warning: apt-get install postgresql postgresql-contrib failed" in proc.stderr and "will skip" in proc.stderr


def test_run_installs_nothing_when_a_server_is_there(tmp_path: Path) -> None:
    _fake_server(tmp_path / "usr" / "lib" / "postgresql")
    proc = _run_postgres(_fake_bin(tmp_path, uid=0, apt_ok=False), "true")
    assert proc.returncode == 0 and proc.stderr == ""
    assert not (tmp_path / "apt.log").exists()
