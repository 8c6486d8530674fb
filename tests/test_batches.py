"""Batches are per row (issue 24, finding 6): one claim that cannot be judged no longer fails a whole file.

The real CLI in subprocesses: `stance` writes a row for every input (a refused one with an empty stance and
its reason in `problem`), `check --file` gives a refused line a status-less record (JSONL), a section
(Markdown) or a marked row (table), and both exit 3. A claim in a script without spaces is counted by its
letters and refused naming its language, unless `judge_any_language` says to judge it anyway.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corroborate.judge.reading import claim_problem, unspaced_language

CHINESE = "政府昨天批准了新的电车线路"  # "The government approved the new tram line yesterday"
JAPANESE = "市議会は月曜日に新しい路面電車の路線を承認した"
VALID = "The Harbor City council approved the new tram line"


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    full.update(CORROBORATE_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], env=full, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("batches") / "home"
    docs = home.parent / "docs.jsonl"
    docs.write_text(json.dumps({"url": "https://a.example/1", "title": "Tram line approved", "outlet": "a.example",
                                "text": "The Harbor City council approved the new tram line on Monday."}) + "\n")
    proc = _cli(home, "import", str(docs))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return home


def test_unspaced_scripts_are_counted_by_letters_and_named() -> None:
    assert unspaced_language(CHINESE) == "Chinese"
    assert unspaced_language(JAPANESE) == "Japanese"
    assert unspaced_language("Xi Jinping (习近平) visited Paris on Monday") is None  # a name in its own script
    assert "in Chinese" in (claim_problem(CHINESE) or "")
    assert "in Japanese" in (claim_problem(JAPANESE) or "")
    assert "one word" not in (claim_problem(CHINESE) or "")
    assert claim_problem(CHINESE, any_language=True) is None  # many letters: a statement, not one word
    assert "one word" in (claim_problem("Crabzilla", any_language=True) or "")


def test_stance_writes_every_row_and_exits_3(home: Path, tmp_path: Path) -> None:
    pairs, out = tmp_path / "pairs.csv", tmp_path / "out.csv"
    with pairs.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "claim", "evidence"])
        w.writerow(["r1", "The council approved the tram line", "The council approved the new tram line."])
        w.writerow(["r2", "Crabzilla", "A giant crab was seen in the harbour."])
        w.writerow(["r3", CHINESE, "The government approved the tram line."])
        w.writerow(["r4", "The bridge reopened on Tuesday", "The bridge reopened to traffic on Tuesday."])
        w.writerow(["r5", "too few fields"])
    proc = _cli(home, "stance", str(pairs), "-o", str(out))
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "3 of 5 rows refused" in proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["r1", "r2", "r3", "r4", "r5"]
    for r in (rows[0], rows[3]):
        assert r["stance"] in {"agree", "disagree", "discuss", "unrelated"} and r["problem"] == ""
        assert abs(sum(float(r[k]) for k in ("p_agree", "p_disagree", "p_discuss", "p_unrelated")) - 1) < 0.01
    for r in (rows[1], rows[2], rows[4]):
        assert r["stance"] == "" and r["p_agree"] == "" and r["problem"].strip()
    assert "one word" in rows[1]["problem"] and "line 3" in rows[1]["problem"]
    assert "Chinese" in rows[2]["problem"]
    assert "fields" in rows[4]["problem"]


def test_check_file_gives_refused_lines_their_own_record_and_exits_3(home: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.txt"
    claims.write_text(f"{VALID}\nCrabzilla\n{CHINESE}\nA volcano erupted on Mars yesterday\n", encoding="utf-8")
    proc = _cli(home, "check", "--file", str(claims), "--jsonl")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "2 of 4 claims refused" in proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [r["claim"] for r in records] == [VALID, "Crabzilla", CHINESE, "A volcano erupted on Mars yesterday"]
    assert records[0]["status"] == "corroborated" or records[0]["status"] in {"unmatched", "contradicted"}
    assert records[3]["status"] == "unmatched"
    assert records[1]["status"] is None and "one word" in records[1]["problem"]
    assert records[2]["status"] is None and "Chinese" in records[2]["problem"]

    table = _cli(home, "check", "--file", str(claims))
    assert table.returncode == 3, table.stderr[-2000:]
    marked = [line for line in table.stdout.splitlines() if "refused" in line]
    assert len(marked) == 2 and "Crabzilla" in marked[0] and "Chinese" in marked[1], table.stdout


def test_judge_any_language_checks_the_chinese_claim(home: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.txt"
    claims.write_text(f"{VALID}\n{CHINESE}\n", encoding="utf-8")
    proc = _cli(home, "check", "--file", str(claims), "--jsonl", CORROBORATE_JUDGE_ANY_LANGUAGE="true")
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [r["claim"] for r in records] == [VALID, CHINESE]
    assert records[1]["status"] in {"corroborated", "contradicted", "unmatched"}


def test_one_refused_claim_argument_is_still_an_error(home: Path) -> None:
    proc = _cli(home, "check", CHINESE)
    assert proc.returncode == 1 and "Chinese" in proc.stderr and "Traceback" not in proc.stderr
