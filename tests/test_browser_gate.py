"""The dashboard test's browser: a missing Chromium skips it locally and fails it under CI (CI=true),
and `./run browser` (which `./run test` calls first) stops a CI run whose browser cannot be installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    import test_dashboard

    monkeypatch.setattr(test_dashboard.shutil, "which", lambda name: None)


@pytest.mark.parametrize("ci", ["true", "True", "1"])
def test_missing_browser_fails_under_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    from test_dashboard import require_chromium

    _no_browser(monkeypatch)
    with pytest.raises(pytest.fail.Exception, match="under CI this test must run"):
        require_chromium({"CI": ci})


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}, {"CI": ""}])
def test_missing_browser_skips_locally(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    from test_dashboard import require_chromium

    _no_browser(monkeypatch)
    with pytest.raises(pytest.skip.Exception, match="chromium not installed"):
        require_chromium(environ)


def test_dashboard_test_errors_under_ci_without_a_browser(tmp_path: Path) -> None:
    """The real test module, run by pytest with CI=true and a PATH holding no browser: not a skip."""
    env = {**os.environ, "CI": "true", "PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_dashboard.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode != 0, proc.stdout[-2000:]
    # every dashboard test errors (the demo article's and the hostile record's), none is skipped
    assert re.search(r"\b\d+ errors?\b", proc.stdout) and "skipped" not in proc.stdout, proc.stdout[-2000:]
    assert " passed" not in proc.stdout, proc.stdout[-2000:]
    assert "under CI this test must run" in proc.stdout


def _fake_bin(tmp_path: Path, *, uid: int, apt_ok: bool, browser: bool) -> Path:
    """A PATH for ./run: dirname, an `id` that says ``uid``, an apt-get that logs its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_dirname = subprocess.run(["which", "dirname"], capture_output=True, text=True, check=True).stdout.strip()
    (bin_dir / "dirname").symlink_to(real_dirname)
    apt_install = ":" if apt_ok else 'echo "E: Unable to locate package chromium" >&2; exit 100'
    apt_log = tmp_path / "apt.log"
    scripts = {
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": f'#!/bin/sh\necho "$@" >> {apt_log}\nif [ "$1" = install ]; then {apt_install}; fi\n',
    }
    if browser:
        scripts["chromium"] = "#!/bin/sh\nexit 0\n"
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    return bin_dir


def _run_browser(bin_dir: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": str(bin_dir.parent)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(["/bin/bash", str(ROOT / "run"), "browser"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_run_stops_under_ci_when_apt_fails(tmp_path: Path) -> None:
    proc = _run_browser(_fake_bin(tmp_path, uid=0, apt_ok=False, browser=False), "true")
    assert proc.returncode == 1
    assert "E: Unable to locate package chromium" in proc.stderr  # apt's own words are not swallowed
    assert "error: apt-get install chromium failed" in proc.stderr
    assert "update" in (tmp_path / "apt.log").read_text()


def test_run_stops_under_ci_when_it_cannot_install(tmp_path: Path) -> None:
    proc = _run_browser(_fake_bin(tmp_path, uid=1000, apt_ok=True, browser=False), "true")
    assert proc.returncode == 1 and "needs root and apt-get" in proc.stderr
    assert not (tmp_path / "apt.log").exists()


def test_run_warns_and_goes_on_locally(tmp_path: Path) -> None:
    proc = _run_browser(_fake_bin(tmp_path, uid=0, apt_ok=False, browser=False), None)
    assert proc.returncode == 0
    assert "warning: apt-get install chromium failed" in proc.stderr and "will skip" in proc.stderr


def test_run_installs_nothing_when_a_browser_is_there(tmp_path: Path) -> None:
    proc = _run_browser(_fake_bin(tmp_path, uid=0, apt_ok=False, browser=True), "true")
    assert proc.returncode == 0 and proc.stderr == ""
    assert not (tmp_path / "apt.log").exists()
