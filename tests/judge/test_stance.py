"""The CSV batch command (``corroborate stance``: judged through corroborate.judge.reading, as check judges)
and the FNC-1 weighted score."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.judge.pairs import run_stance_csv
from corroborate.judge.reading import Judge
from corroborate.training.evaluate_judge import fnc_score

CLAIM = "Apple will release its first smartwatch, the iWatch, in October"
SUPPORTING = (
    "Apple confirmed on Tuesday that it will release the iWatch, its first smartwatch, in October. "
    "The company said the watch will go on sale in the United States first, with other countries to follow. "
    "Analysts expect strong demand during the holiday season."
)
REFUTING = (
    "Apple has denied reports that it will release a smartwatch in October. "
    "A company spokesperson said the rumours about an iWatch launch were false and that no such product "
    "is planned this year. The claims, first made on a tech blog, have been debunked."
)
UNRELATED = (
    "The city council voted on Monday to approve a new budget for road repairs. "
    "Council members said potholes on Main Street would be fixed before winter. "
    "The mayor welcomed the decision."
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_run_stance_csv_keeps_ids_and_order(tmp_path: Path, judge: Judge) -> None:
    src = tmp_path / "pairs.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["claim", "id", "evidence", "note"])
        w.writerow([CLAIM, "z-9", UNRELATED, "ignored"])
        w.writerow([CLAIM, "a-1", REFUTING, ""])
        w.writerow([CLAIM, "m,5", SUPPORTING, "x"])
    out = tmp_path / "out.csv"
    assert run_stance_csv(src, out, model=judge) == 3
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["z-9", "a-1", "m,5"]
    assert list(rows[0]) == ["id", "stance", "p_agree", "p_disagree", "p_discuss", "p_unrelated", "problem"]
    # the CSV says what check would count: the same judge, the same rules
    assert [r["stance"] for r in rows] == ["unrelated", "disagree", "agree"]
    for r in rows:
        total = sum(float(r[k]) for k in ("p_agree", "p_disagree", "p_discuss", "p_unrelated"))
        assert abs(total - 1.0) <= 0.01
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('id,claim,evidence\n1,"unterminated,evidence\n', "malformed"),
        ("id,evidence\n1,some text\n", "claim"),
        ("", "empty"),
        (b"id,claim,evidence\n1,caf\xe9,x\n", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ],
)
def test_run_stance_csv_rejects_bad_input(
    tmp_path: Path, judge: Judge, content: str | bytes, message: str
) -> None:
    src = tmp_path / "in.csv"
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        _write(src, content)
    out = tmp_path / "out.csv"
    with pytest.raises(ConfigError, match=message) as info:
        run_stance_csv(src, out, model=judge)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_a_refused_row_is_written_with_its_problem(tmp_path: Path, judge: Judge) -> None:
    """An empty claim no longer refuses the file (issue 24, finding 6): its row says why it was not judged."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, "id,claim,evidence\n1,  ,evidence text\n")
    assert run_stance_csv(src, out, model=judge) == 1
    with out.open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["stance"] == "" and "empty" in row["problem"] and "line 2" in row["problem"]


def test_run_stance_csv_missing_file(tmp_path: Path, judge: Judge) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        run_stance_csv(tmp_path / "absent.csv", tmp_path / "out.csv", model=judge)


def test_fnc_score_hand_made() -> None:
    assert fnc_score(["agree", "unrelated"], ["agree", "unrelated"]) == pytest.approx(1.0)
    assert fnc_score(["agree"], ["discuss"]) == pytest.approx(0.25)
    assert fnc_score(["unrelated"], ["agree"]) == pytest.approx(0.0)
    assert fnc_score(["agree"], ["unrelated"]) == pytest.approx(0.0)
    # (0.25 for related-vs-unrelated right) + 0.25 unrelated right, out of 1.0 + 0.25
    assert fnc_score(["agree", "unrelated"], ["disagree", "unrelated"]) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        fnc_score(["agree"], [])
