"""An ingest run is named (and tagged, and its artifacts keyed) after the outlets it ingests, wherever the file
was named: the ``outlets_file`` parameter (``corroborate ingest --outlets``, ``corroborate serve``) or, for a
prefect.yaml deployment whose worker sets it, the ``outlets_file`` setting (CORROBORATE_OUTLETS_FILE). Before, a
worker's run of another outlet set was called "ingest: bundled outlets" and wrote the bundled set's artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ingest import outlet_set_name, outlets_in_use


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no corroborate.toml of the checkout
    for name in ("CORROBORATE_OUTLETS_FILE", "CORROBORATE_HOME", "CORROBORATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_the_parameter_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CORROBORATE_OUTLETS_FILE", str(tmp_path / "outlets-b.toml"))
    assert outlets_in_use("elsewhere/outlets-a.toml", str(tmp_path)) == "elsewhere/outlets-a.toml"


def test_without_the_parameter_the_setting_names_the_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CORROBORATE_OUTLETS_FILE", str(tmp_path / "outlets-b.toml"))
    used = outlets_in_use(None, str(tmp_path))
    assert used is not None and outlet_set_name(used) == "outlets-b"


def test_neither_means_the_bundled_outlets(tmp_path: Path) -> None:
    assert outlet_set_name(outlets_in_use(None, str(tmp_path))) == "bundled outlets"
