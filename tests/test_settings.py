"""Settings precedence: defaults < corroborate.toml < CORROBORATE_* env < overrides (CLI flags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.settings import Settings, load_settings, settings_markdown


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"home": tmp_path}, environ={})
    assert s.home == tmp_path
    assert s.per_host_concurrency == Settings.__dataclass_fields__["per_host_concurrency"].default
    assert s.store_path == tmp_path / "corroborate.db"
    assert s.index_dir == tmp_path / "index"


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "corroborate.toml").write_text("timeout_s = 7\nmax_retries = 9\ndense_k = 11\n", encoding="utf-8")
    env = {"CORROBORATE_HOME": str(tmp_path), "CORROBORATE_MAX_RETRIES": "4", "CORROBORATE_DENSE_K": "12"}
    s = load_settings({"dense_k": 13}, environ=env)
    assert s.timeout_s == 7.0  # toml beats default
    assert s.max_retries == 4  # env beats toml
    assert s.dense_k == 13  # flag beats env
    assert load_settings({"dense_k": None}, environ=env).dense_k == 12  # an unset flag masks nothing


def test_frozen(tmp_path: Path) -> None:
    s = load_settings({"home": tmp_path}, environ={})
    with pytest.raises(AttributeError):
        s.dense_k = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[oops\nname=", "not valid TOML"),
        ("bogus = 1\n", "unknown setting 'bogus'"),
        ("timeout_s = 'fast'\n", "'timeout_s' must be float"),
        ("per_host_concurrency = 0\n", "'per_host_concurrency' must be > 0"),
        ("task_runner = 'kubernetes'\n", "task_runner"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "corroborate.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings({"home": tmp_path}, environ={})
    assert message in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_bad_env(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CORROBORATE_ALLOW_PRIVATE"):
        load_settings({"home": tmp_path}, environ={"CORROBORATE_ALLOW_PRIVATE": "maybe"})


def test_markdown_table_lists_every_setting() -> None:
    table = settings_markdown()
    for name in Settings.__dataclass_fields__:
        assert f"`{name}`" in table
