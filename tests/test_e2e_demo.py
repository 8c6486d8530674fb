"""End to end, as a user runs it: serve the demo site and the real-page site, `corroborate ingest`
(the Prefect flow, ephemeral server), then `corroborate article` on the demo article; the statuses
must be those the demo corpus was written to produce (corroborate/data/demo/expected.json).
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from newssite import NewsSite

from corroborate.ingest.demosite import DemoSite, demo_expected
from corroborate.report import report_schema

DEMO = Path(__file__).resolve().parents[1] / "corroborate" / "data" / "demo"


def _run(home: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CORROBORATE_", "PREFECT_")) or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update({"CORROBORATE_HOME": str(home), "CORROBORATE_ALLOW_PRIVATE": "1", "CORROBORATE_PER_HOST_DELAY_S": "0",
                "CORROBORATE_PER_HOST_CONCURRENCY": "4", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1"})
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory, news_site: NewsSite) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("demo-home")
    with DemoSite(port=0) as site:
        outlets = home / "outlets.toml"
        # the demo outlets plus the loopback site's RSS feed (about 60 of its 181 real pages): realistic noise
        # around the demo stories (the whole site is ingested by tests/test_flows.py)
        outlets.write_text(site.outlets_toml + "\n" + news_site.outlets_toml(rss_only=True), encoding="utf-8")
        result = _run(home, "ingest", "--outlets", str(outlets))
        assert result.returncode == 0, result.stderr[-3000:]
        again = _run(home, "ingest", "--outlets", str(outlets))
        assert again.returncode == 0, again.stderr[-3000:]
        (home / "second-run.txt").write_text(again.stdout, encoding="utf-8")
    yield home


@pytest.fixture(scope="module")
def report(demo_home: Path) -> dict[str, Any]:
    result = _run(demo_home, "article", str(DEMO / "article.txt"), "--outlet", "The Port Amsel Courier", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_second_ingest_adds_nothing(demo_home: Path) -> None:
    lines = (demo_home / "second-run.txt").read_text(encoding="utf-8").splitlines()
    # summary rows end in: discovered fetched new unchanged skipped failed
    tails = [line.split()[-6:] for line in lines if len(line.split()) >= 7]
    rows = [t for t in tails if all(x.isdigit() for x in t)]
    assert len(rows) >= 9, lines  # 8 demo outlets + the loopback site
    assert all(row[2] == "0" for row in rows), lines
    # every feed and sitemap is unchanged since the first run: each answers 304, lists nothing, asks for nothing
    counts = [line for line in lines if line.startswith("unchanged since the last run (HTTP 304):")]
    assert counts, lines
    found = re.search(r": (\d+) of (\d+) feeds and sitemaps", counts[0])
    assert found and int(found.group(1)) == int(found.group(2)) > 0, counts


def test_report_matches_schema(report: dict[str, Any]) -> None:
    jsonschema.validate(report, report_schema())


def _entry(report: dict[str, Any], text: str) -> dict[str, Any]:
    found = [c for c in report["claims"] if text in c["text"]]
    assert len(found) == 1, f"sentence not found once: {text}"
    return found[0]


# Statuses the shipped judge does not reach yet (docs/evaluation.md, "Known weaknesses"): it reads
# "rejected the tram line" as stating "approved the tram line", and "The expansion will add two
# deep-water berths" as not stating "The 48 million crown expansion will add two deep-water berths".
# strict=True: a judge that gets them right turns these into failures that ask for the mark to go.
_NOT_YET: dict[str, str] = {}  # key -> why a status is not reached yet (a strict xfail)
_EXPECTED = [
    pytest.param(c, id=c["key"], marks=pytest.mark.xfail(strict=True, reason=_NOT_YET[c["key"]]))
    if c["key"] in _NOT_YET else pytest.param(c, id=c["key"])
    for c in demo_expected()["claims"]
]


@pytest.mark.parametrize("expected", _EXPECTED)
def test_intended_statuses(report: dict[str, Any], expected: dict[str, Any]) -> None:
    got = _entry(report, expected["text"])
    assert got["is_claim"] == expected["is_claim"], got
    assert got["status"] == expected["status"], json.dumps(got, indent=1)[:3000]
    assert set(expected["flags"]) <= set(got["flags"])
    if expected.get("attribution"):
        assert got["attribution"]["kind"] == expected["attribution"]


def test_syndicated_copy_counts_once(report: dict[str, Any]) -> None:
    got = _entry(report, "approved a 48 million crown expansion")
    outlets_per_voice = [set(v["outlets"]) for v in got["voices_for"]]
    wire = [v for v in outlets_per_voice if "Meridian Wire" in v or "Veloria Daily Ledger" in v]
    assert len(wire) == 1, outlets_per_voice  # the wire story and its reprint are one voice
    assert all("The Port Amsel Courier" not in v for v in outlets_per_voice)  # never corroborates itself


def test_state_media_is_flagged(report: dict[str, Any]) -> None:
    got = _entry(report, "freight railway")
    assert all(v["state_media"] for v in got["voices_for"])
    assert "state_media_only" in got["flags"]


def test_markdown_and_table(demo_home: Path) -> None:
    md = _run(demo_home, "article", str(DEMO / "article.txt"), "--outlet", "The Port Amsel Courier", "--markdown")
    assert md.returncode == 0 and md.stdout.startswith("# Check:")
    assert "contradicted" in md.stdout and "“" in md.stdout  # quotes behind the verdicts
    # each part says who says it: the provenance is the trade magazine's, the approval the writer's
    # part lines: "N. **status** · kind[, said by S] — text — for: …"
    numbered = [line for line in md.stdout.splitlines() if line[:1].isdigit() and " — " in line]
    parts = {line.split(" — ")[1]: line for line in numbered if line.split(" — ")[1].startswith("The Kessel expansion")}
    assert "· provenance, said by Keelhaven Review (named) — " in parts["The Kessel expansion plan was first revealed "
                                                                       "by the trade magazine Keelhaven Review"], parts
    main = parts["The Kessel expansion plan was approved by the harbour authority."]
    assert "· main — " in main and "said by" not in main, parts
    # finding 15: the summary says each status first, narrow (a list: the dashboard does not wrap table cells);
    # each evidence sentence once; no part that repeats the claim word for word
    summary = md.stdout.split("## 1.", 1)[0]
    assert any(f"1. {status} " in summary for status in ("✔ **corroborated**", "· **unmatched**", "✘ **contradicted**"))
    assert "|" not in summary
    first = md.stdout.split("## 1.", 1)[1].split("## 2.", 1)[0]
    bullets = [line for line in first.splitlines() if line.startswith("- ")]
    assert len(bullets) == len({b.split(" — ")[0] for b in bullets}), bullets
    assert "· qualifier" not in first and "the claim without “on Monday”" in first, first
    table = _run(demo_home, "article", str(DEMO / "article.txt"))
    assert table.returncode == 0 and "corroborated" in table.stdout


def test_check_claim_against_the_demo_corpus(demo_home: Path) -> None:
    res = _run(demo_home, "check", "The city council rejected the Halvik tram line.", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(res.stdout)
    assert data["evidence"] and data["evidence"][0]["outlet"] == "The Veloria Observer"


def test_atoms_of_the_compound_sentence(report: dict[str, Any]) -> None:
    """The background of the compound sentence is corroborated, its provenance is not: partly corroborated."""
    got = _entry(report, "first revealed by the trade magazine Keelhaven Review")
    by_kind = {a["kind"]: a for a in got["atoms"]}
    assert by_kind["main"]["status"] == "corroborated", json.dumps(got["atoms"], indent=1)
    assert by_kind["provenance"]["status"] == "unmatched"
    assert got["status"] == "unmatched" and "partly_corroborated" in got["flags"]


def test_debunked_hoax_names_the_denying_sentences(report: dict[str, Any]) -> None:
    got = _entry(report, "Edvard Lask died")
    against = {o for v in got["voices_against"] for o in v["outlets"]}
    assert {"VBS News", "The Veloria Observer"} <= against, got["voices_against"]
    denials = [e for e in got["evidence"] if e["stance"] == "disagree"]
    assert denials and all(e["judge"]["contradicts"] >= 0.5 for e in denials)
    assert {e["outlet"] for e in denials} <= {"VBS News", "The Veloria Observer"}


def test_stance_csv_says_what_check_counted(demo_home: Path, tmp_path: Path) -> None:
    """One judging path: `stance` on (claim, quoted sentence) gives the stance `check` gave that sentence.
    (One-atom claims without attribution: an attribution rule may read the sentences around a quote,
    which a CSV row does not carry; a several-atom claim has no single per-document stance in check.)"""
    claims = [
        "The city council rejected the Halvik tram line.",
        "The harbour authority approved the expansion of the Kessel container terminal.",
        "Edvard Lask is alive.",
        "The expansion will add two deep-water berths.",
    ]
    listing = tmp_path / "claims.txt"
    listing.write_text("\n".join(claims) + "\n", encoding="utf-8")
    res = _run(demo_home, "check", "--file", str(listing), "--jsonl")
    assert res.returncode == 0, res.stderr[-2000:]
    rows = []
    for line in res.stdout.splitlines():
        entry = json.loads(line)
        if len(entry["atoms"]) != 1:
            continue
        for e in entry["evidence"]:
            rows.append((f"r{len(rows)}", entry["claim"], e["quote"], e["stance"]))
    assert len({r[1] for r in rows}) >= 3 and len(rows) >= 10, rows
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "claim", "evidence"])
        w.writerows(r[:3] for r in rows)
    out = tmp_path / "out.csv"
    res = _run(demo_home, "stance", str(pairs), "-o", str(out))
    assert res.returncode == 0, res.stderr[-2000:]
    with out.open(encoding="utf-8", newline="") as fh:
        got = {r["id"]: r["stance"] for r in csv.DictReader(fh)}
    assert {r[0]: r[3] for r in rows} == got
