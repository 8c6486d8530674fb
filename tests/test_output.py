"""Output files (issue 12): `stance -o` never harms what is at the path, and its CSV is spreadsheet-safe.

These use a stand-in stance model, so they test the writing, not the model (tests/test_stance.py does that).
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from corroborate.errors import ConfigError
from corroborate.judge.pairs import run_stance_csv
from corroborate.output import check_output, csv_safe, write_output

PAIRS = "id,claim,evidence\n1,The bridge opened.,The bridge opened on Monday.\n2,Rain fell.,It was dry all week.\n"
HEADER = ["id", "stance", "p_agree", "p_disagree", "p_discuss", "p_unrelated", "problem"]


@dataclass(frozen=True)
class FakeResult:
    """Has what either stance writer reads: label/p_* (document model) and stance/probabilities (judge)."""

    label: str = "agree"
    stance: str = "agree"
    p_agree: float = 0.7
    p_disagree: float = 0.1
    p_discuss: float = 0.1
    p_unrelated: float = 0.1

    @property
    def probabilities(self) -> dict[str, float]:
        return {"agree": 0.7, "disagree": 0.1, "discuss": 0.1, "unrelated": 0.1}


class FakeModel:
    """Answers 'agree' for every pair and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs: Sequence[tuple[str, str]], **_: Any) -> list[FakeResult]:
        self.calls += 1
        return [FakeResult() for _ in pairs]


@pytest.fixture(autouse=True)
def _fake_judging(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_stance_csv may label pairs with corroborate.judge.reading.judge_pairs(model, ...) instead of model.predict
    judge = sys.modules.get("corroborate.judge.reading") or _import_or_none("corroborate.judge.reading")
    if judge is not None and hasattr(judge, "judge_pairs"):
        monkeypatch.setattr(judge, "judge_pairs", lambda model, pairs, **kw: model.predict(pairs, **kw))


def _import_or_none(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _model() -> tuple[Any, FakeModel]:
    fake = FakeModel()
    return fake, fake


@pytest.fixture
def pairs(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text(PAIRS, encoding="utf-8")
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_output_that_is_the_input_is_refused_and_the_input_kept(pairs: Path) -> None:
    model, fake = _model()
    with pytest.raises(ConfigError, match="is the input file") as info:
        run_stance_csv(pairs, pairs, model=model)
    assert "\n" not in str(info.value)
    assert pairs.read_text(encoding="utf-8") == PAIRS
    assert fake.calls == 0  # refused before any work


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
def test_output_that_reaches_the_input_through_a_link_is_refused(pairs: Path, tmp_path: Path, kind: str) -> None:
    link = tmp_path / "out.csv"
    if kind == "hardlink":
        os.link(pairs, link)
    else:
        link.symlink_to(pairs)
    with pytest.raises(ConfigError, match="is the input file"):
        run_stance_csv(pairs, link, model=_model()[0])
    assert pairs.read_text(encoding="utf-8") == PAIRS


def test_symlink_to_a_file_stays_a_link_and_its_target_is_written(pairs: Path, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "result.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert run_stance_csv(pairs, link, model=_model()[0]) == 2
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert _rows(target.read_text(encoding="utf-8"))[0] == HEADER
    assert not [p for p in (tmp_path / "real").iterdir() if p.name.endswith(".tmp")]


def test_fifo_is_written_in_place_not_replaced(pairs: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so opening the write end does not block
    try:
        assert run_stance_csv(pairs, fifo, model=_model()[0]) == 2
        data = os.read(reader, 65536).decode("utf-8")
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _rows(data)[0] == HEADER and len(_rows(data)) == 3


def test_dev_null_is_written_in_place() -> None:
    before = os.stat("/dev/null")
    check_output("/dev/null")
    write_output("/dev/null", lambda fh: fh.write("x\n"))
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_dash_is_stdout(pairs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_stance_csv(pairs, Path("-"), model=_model()[0]) == 2
    assert _rows(capsys.readouterr().out)[0] == HEADER
    assert not Path("-").exists()


@pytest.mark.usefixtures("umask_022")
def test_new_file_gets_the_umask_mode_and_an_existing_file_keeps_its_mode(pairs: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "new.csv"
    run_stance_csv(pairs, fresh, model=_model()[0])
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # 0o666 & ~0o022, not mkstemp's 0o600
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o640)
    run_stance_csv(pairs, kept, model=_model()[0])
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert _rows(kept.read_text(encoding="utf-8"))[0] == HEADER


def test_folder_output_fails_before_the_model_runs(pairs: Path, tmp_path: Path) -> None:
    model, fake = _model()
    with pytest.raises(ConfigError, match="is a folder"):
        run_stance_csv(pairs, tmp_path, model=model)
    assert fake.calls == 0


def test_cli_checks_the_output_before_loading_the_model(
    pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_load(*_: Any, **__: Any) -> Any:
        raise AssertionError("the model was loaded before the output was checked")

    judge = _import_or_none("corroborate.judge.reading")
    if judge is not None and hasattr(judge, "Judge"):
        monkeypatch.setattr(judge.Judge, "load", no_load)
    from corroborate.cli import cli

    for output, message in [(tmp_path, "is a folder"), (pairs, "is the input file"), (tmp_path / "no" / "o.csv", "")]:
        result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "stance", str(pairs), "-o", str(output)])
        assert isinstance(result.exception, ConfigError), result.exception
        assert message in str(result.exception)


def test_formula_ids_are_quoted_and_columns_unchanged(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    ids = ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "plain", "a=b"]
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "claim", "evidence"])
        for i in ids:
            w.writerow([i, "A claim.", "Some evidence."])
    out = tmp_path / "out.csv"
    run_stance_csv(src, out, model=_model()[0])
    rows = _rows(out.read_text(encoding="utf-8"))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+cmd", "'-2+3", "'@SUM(A1)", "'\t=x", "plain", "a=b"]


def test_csv_safe() -> None:
    assert csv_safe("=HYPERLINK()") == "'=HYPERLINK()"
    assert csv_safe("") == ""
    assert csv_safe("x-1") == "x-1"


def test_failed_write_leaves_no_temp_file_and_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")

    def boom(fh: Any) -> None:
        fh.write("partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_output(out, boom)
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_missing_folder_and_empty_path_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        check_output(tmp_path / "nope" / "out.csv")
    with pytest.raises(ConfigError, match="empty"):
        check_output("")
