"""Settings precedence: defaults < corroborate.toml < CORROBORATE_* env < overrides (CLI flags)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.settings import RANGES, Settings, load_settings, settings_markdown


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"home": tmp_path}, environ={})
    assert s.home == tmp_path
    assert s.per_host_concurrency == Settings.model_fields["per_host_concurrency"].default
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
        ("per_host_concurrency = 0\n", "'per_host_concurrency' must be between 1 and 64"),
        ("task_runner = 'kubernetes'\n", "task_runner"),
        ("judge_precision = 'float16'\n", "'judge_precision' must be 'auto', 'float32' or 'bfloat16'"),
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
    for name in Settings.model_fields:
        assert f"`{name}`" in table


# -- issue 12: a discovered config file may not load code; numbers have ranges; home is never empty ------


def test_discovered_config_may_not_set_code_paths_or_allow_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "corroborate.toml").write_text(
        'judge_model = "m"\nallow_private = true\ndask_address = "tcp://evil:8786"\ndense_k = 7\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(work)
    warnings: list[str] = []
    s = load_settings({"home": tmp_path / "home"}, environ={}, warn=warnings.append)
    assert s.judge_model is None and s.allow_private is False and s.dask_address == ""
    assert s.dense_k == 7  # the rest of the file still counts
    assert sorted(w.split("'")[1] for w in warnings) == ["allow_private", "dask_address", "judge_model"]
    assert all("\n" not in w and "corroborate.toml" in w for w in warnings)


def test_home_config_is_discovered_too_and_warns_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "corroborate.toml").write_text('judge_model = "/tmp/evil"\n', encoding="utf-8")
    assert load_settings({"home": tmp_path}, environ={}).judge_model is None
    err = capsys.readouterr().err
    assert "ignoring 'judge_model'" in err and len(err.strip().splitlines()) == 1


def test_explicit_config_env_and_flags_may_set_them(tmp_path: Path) -> None:
    cfg = tmp_path / "mine.toml"
    cfg.write_text('judge_model = "m"\nallow_private = true\n', encoding="utf-8")
    s = load_settings({"home": tmp_path}, config=cfg, environ={}, warn=pytest.fail)
    assert s.judge_model == Path("m") and s.allow_private is True
    s = load_settings({"home": tmp_path}, environ={"CORROBORATE_CONFIG": str(cfg)}, warn=pytest.fail)
    assert s.allow_private is True
    env = {"CORROBORATE_JUDGE_MODEL": "e", "CORROBORATE_ALLOW_PRIVATE": "1"}
    s = load_settings({"home": tmp_path}, environ=env, warn=pytest.fail)
    assert s.judge_model == Path("e") and s.allow_private is True
    assert load_settings({"home": tmp_path, "allow_private": True}, environ={}).allow_private is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CORROBORATE_MAX_PASSAGE_CHARS": "0"}, "CORROBORATE_MAX_PASSAGE_CHARS: setting 'max_passage_chars'"),
        ({"CORROBORATE_MAX_PASSAGE_CHARS": "-5"}, "'max_passage_chars' must be between"),
        ({"CORROBORATE_TIMEOUT_S": "inf"}, "'timeout_s' must be a finite number"),
        ({"CORROBORATE_TIMEOUT_S": "nan"}, "'timeout_s' must be a finite number"),
        ({"CORROBORATE_CONNECT_TIMEOUT_S": "0"}, "connect_timeout_s"),
        ({"CORROBORATE_RRF_K": "-1"}, "'rrf_k' must be between 0"),
        ({"CORROBORATE_MAX_BYTES": "1e400"}, "'max_bytes' must be int"),
        ({"CORROBORATE_MAX_BYTES": "9" * 5000}, "'max_bytes' must be int"),
        ({"CORROBORATE_PASSAGE_SENTENCES": "-1"}, "passage_sentences"),
        ({"CORROBORATE_MIN_VOICES_CORROBORATED": "0"}, "min_voices_corroborated"),
        ({"CORROBORATE_WINDOW_DAYS": "-3"}, "window_days"),
        ({"CORROBORATE_GDELT_MAX_RECORDS": "100000"}, "gdelt_max_records"),
        ({"CORROBORATE_HNSW_M": "0"}, "hnsw_m"),
        ({"CORROBORATE_BACKOFF_MAX_S": "-inf"}, "backoff_max_s"),
        ({"CORROBORATE_USER_AGENT": "bot\r\nX-Evil: 1"}, "user_agent"),
        ({"CORROBORATE_GDELT_URL": "file:///etc/passwd"}, "gdelt_url"),
    ],
)
def test_numbers_out_of_range_are_refused_naming_the_setting_and_source(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_settings({"home": tmp_path}, environ=env)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("timeout_s = inf\n", "must be a finite number"),
        ("timeout_s = nan\n", "must be a finite number"),
        ("rrf_k = -1\n", "'rrf_k' must be between"),
        ("max_bytes = 1e400\n", "'max_bytes' must be int"),
        ("dense_k = 2.5\n", "'dense_k' must be int"),
        ("max_passage_chars = 0\n", "max_passage_chars"),
    ],
)
def test_toml_values_out_of_range_name_the_file(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "corroborate.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_settings({"home": tmp_path}, environ={})
    assert str(err.value).startswith(f"config {tmp_path / 'corroborate.toml'}: ")


def test_every_number_has_a_range_and_the_defaults_are_inside() -> None:
    hints = typing.get_type_hints(Settings)
    numeric = {n for n, h in hints.items() if int in typing.get_args(h) or h in (int, float)}
    assert numeric == set(RANGES)
    defaults = Settings()
    for name, (lo, hi) in RANGES.items():
        value = getattr(defaults, name)
        assert value is None or lo <= value <= hi, name


def test_empty_home_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="CORROBORATE_HOME: home is empty"):
        load_settings(environ={"CORROBORATE_HOME": ""})
    with pytest.raises(ConfigError, match="home is empty"):
        load_settings({"home": " "}, environ={})
    from click.testing import CliRunner

    from corroborate.cli import cli

    result = CliRunner().invoke(cli, ["--home", "", "index", "status"], env={"CORROBORATE_HOME": None})
    assert isinstance(result.exception, ConfigError) and "home is empty" in str(result.exception)
    assert not (tmp_path / "corroborate.db").exists()


def test_retired_stance_settings_in_a_config_file_warn_and_load(tmp_path: Path) -> None:
    cfg = tmp_path / "old.toml"
    cfg.write_text('stance_model = "m.joblib"\nmin_quote_similarity = 0.5\ndense_k = 9\n', encoding="utf-8")
    warnings: list[str] = []
    s = load_settings({"home": tmp_path}, config=cfg, environ={}, warn=warnings.append)
    assert s.dense_k == 9
    assert len(warnings) == 2 and all("retired" in w and "\n" not in w for w in warnings)
    assert not hasattr(s, "stance_model")
