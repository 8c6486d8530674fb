"""The command line: CliRunner for behaviour, subprocesses for what a user sees on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from corroborate.cli import cli

DOCS = [
    {
        "url": "https://a.example/1",
        "title": "Council approves new bridge over the river",
        "text": "The city council approved a new bridge over the river on Monday.",
        "outlet": "a.example",
    },
    {
        "url": "https://b.example/2",
        "title": "City council votes yes on river bridge",
        "text": "Councillors voted to build a bridge across the river, officials said.",
        "outlet": "b.example",
    },
    {
        "url": "https://c.example/3",
        "title": "Council rejects bridge plan",
        "text": "The council did not approve the bridge; the plan was rejected.",
        "outlet": "c.example",
    },
]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env["CORROBORATE_HOME"] = str(home)
    return env


def run_cli(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "corroborate.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        input=stdin.decode() if stdin else None,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    docs = home / "docs.jsonl"
    docs.write_text("\n".join(json.dumps(d) for d in DOCS) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(home), "import", str(docs)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    return home


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ["ingest", "import", "check", "article", "stance", "eval", "demo-site", "serve", "server", "index"]:
        assert command in result.output


def test_import_is_idempotent(corpus_home: Path) -> None:
    docs = corpus_home / "docs.jsonl"
    result = CliRunner().invoke(cli, ["--home", str(corpus_home), "import", str(docs)], catch_exceptions=False)
    assert result.exit_code == 0 and "0 new" in result.output


def test_check_jsonl_in_input_order(corpus_home: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.txt"
    claims.write_text(
        "The city council approved a new bridge over the river.\nA volcano erupted on Mars yesterday.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--home", str(corpus_home), "check", "--file", str(claims), "--jsonl"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["claim"] for r in lines] == [
        "The city council approved a new bridge over the river.",
        "A volcano erupted on Mars yesterday.",
    ]
    bridge, mars = lines
    assert mars["status"] == "unmatched"
    assert bridge["evidence"], "the bridge claim must find the bridge reports"
    assert {e["outlet"] for e in bridge["evidence"]} >= {"a.example", "c.example"}
    for r in lines:
        assert set(r) >= {"claim", "status", "confidence", "voices_for", "voices_against", "flags", "evidence"}


def test_check_table_output(corpus_home: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--home", str(corpus_home), "check", "Councillors voted to build a bridge"], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert "Claim check" in result.output


@pytest.mark.parametrize(
    ("args", "setup", "expected"),
    [
        (["article", "{tmp}/empty.txt"], lambda t: (t / "empty.txt").write_bytes(b""), "empty"),
        (["article", "{tmp}/bin.dat"], lambda t: (t / "bin.dat").write_bytes(bytes(range(256)) * 16), "binary"),
        (
            ["article", "{tmp}/latin.txt"],
            lambda t: (t / "latin.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1")),
            "not UTF-8",
        ),
        (["article", "{tmp}/nope.txt"], None, "does not exist"),
        (
            ["article", "{tmp}/huge.txt"],
            lambda t: (t / "huge.txt").write_bytes(b"The sky is blue. " * 650_000),
            "limit",
        ),
        (["check", ""], None, "empty"),
        (["check"], None, "CLAIM"),
        (
            ["stance", "{tmp}/bad.csv", "-o", "{tmp}/o.csv"],
            lambda t: (t / "bad.csv").write_text('id,claim\n1,"unterminated\n'),
            "",
        ),
        (["ingest", "--outlets", "{tmp}/bad.toml"], lambda t: (t / "bad.toml").write_text("[outlet\nname="), "TOML"),
        (
            ["import", "{tmp}/bad.jsonl"],
            lambda t: (t / "bad.jsonl").write_text('{"url": "https://x.example/1"}\n'),
            "text",
        ),
        (["import", "{tmp}/notjson.jsonl"], lambda t: (t / "notjson.jsonl").write_text("{nope\n"), "not valid JSON"),
        (
            ["--config", "{tmp}/bad-config.toml", "settings"],
            lambda t: (t / "bad-config.toml").write_text("x = [\n"),
            "TOML",
        ),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path: Path, args: list[str], setup, expected: str) -> None:  # type: ignore[no-untyped-def]
    if setup:
        setup(tmp_path)
    result = run_cli(tmp_path / "home", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "an error message is expected"
    assert expected in result.stderr
    assert len([line for line in lines if line.startswith("error")]) <= 1


def test_bad_import_line_leaves_the_store_untouched(corpus_home: Path, tmp_path: Path) -> None:
    from corroborate.corpus.store import Store

    bad = tmp_path / "mixed.jsonl"
    bad.write_text(
        json.dumps({"url": "https://d.example/4", "text": "A fine new document."}) + "\n{broken\n", encoding="utf-8"
    )
    with Store(corpus_home / "corroborate.db") as store:
        before = store.document_count()
    result = run_cli(corpus_home, "import", str(bad))
    assert result.returncode != 0 and ":2:" in result.stderr
    with Store(corpus_home / "corroborate.db") as store:
        assert store.document_count() == before
        assert store.integrity_check() == []


def test_bad_field_on_a_later_line_leaves_the_store_untouched(corpus_home: Path, tmp_path: Path) -> None:
    """Every record is validated before anything is written, not only its JSON."""
    from corroborate.corpus.store import Store

    bad = tmp_path / "late-bad-field.jsonl"
    good = [json.dumps({"url": f"https://e.example/{i}", "text": f"Good document number {i} about harbours."})
            for i in range(3)]
    bad.write_text("\n".join([*good, json.dumps({"url": "https://e.example/x", "text": "Fine.",
                                                 "published": "yesterday"})]) + "\n", encoding="utf-8")
    with Store(corpus_home / "corroborate.db") as store:
        before = store.document_count()
    result = run_cli(corpus_home, "import", str(bad))
    assert result.returncode != 0 and ":4:" in result.stderr and "published" in result.stderr
    with Store(corpus_home / "corroborate.db") as store:
        assert store.document_count() == before


def _mixed_archive(path: Path) -> None:
    """Two good records among five bad lines (and a blank one): an archive one bad record used to block."""
    lines = [
        json.dumps(DOCS[0]).encode(),
        json.dumps({"url": "www.example.com/no-scheme", "text": "A story whose URL lost its scheme."}).encode(),
        b"",
        b'{"url": "https://x.example/1", "text": "broken',
        b"[1, 2, 3]",
        b'{"url": "https://x.example/2", "text": "caf\xe9 au lait"}',  # latin-1, not UTF-8
        json.dumps({"url": "https://x.example/3", "text": "Fine.", "published": "yesterday"}).encode(),
        json.dumps(DOCS[1]).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_import_rejects_file_lists_bad_lines_and_imports_the_rest(tmp_path: Path) -> None:
    from corroborate.corpus.store import Store

    docs, rejects, home = tmp_path / "archive.jsonl", tmp_path / "rejects.jsonl", tmp_path / "home"
    _mixed_archive(docs)
    before = docs.read_bytes()
    result = CliRunner().invoke(cli, ["--home", str(home), "import", str(docs), "--rejects", str(rejects)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = [line for line in result.output.splitlines() if line.startswith("imported")]
    assert summary == [
        f"imported 2 records of 7 (5 rejected, listed in {rejects}): 2 new, 0 updated, 0 unchanged/duplicates; "
        + summary[0].split("; ")[1]
    ]
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["reason"]) for r in rows] == [
        (2, "'url' must be an http(s) URL"),
        (4, "not valid JSON (Invalid control character at)"),
        (5, "each line must be a JSON object"),
        (6, "not UTF-8 text"),
        (7, "'published' 'yesterday' is not a date: it is not an ISO 8601 date like 2024-03-01"),
    ]
    assert json.loads(rows[0]["raw"])["url"] == "www.example.com/no-scheme"  # the line itself, to fix and re-import
    assert rows[3]["raw"] == '{"url": "https://x.example/2", "text": "caf\ufffd au lait"}'
    assert docs.read_bytes() == before
    with Store(home / "corroborate.db") as store:
        assert store.document_count() == 2
        assert store.document_by_url(DOCS[1]["url"]) is not None
        (run,) = store.runs()
        assert run["status"] == "completed"


def test_import_skip_invalid_names_rejected_lines_on_stderr(tmp_path: Path) -> None:
    docs = tmp_path / "archive.jsonl"
    _mixed_archive(docs)
    result = run_cli(tmp_path / "home", "import", "--skip-invalid", str(docs))
    assert result.returncode == 0, result.stderr
    assert f"rejected {docs}:2: 'url' must be an http(s) URL" in result.stderr
    assert result.stderr.count("rejected ") == 5
    assert result.stdout.startswith("imported 2 records of 7 (5 rejected): 2 new")


def test_import_strict_by_default_on_the_same_archive(tmp_path: Path) -> None:
    docs = tmp_path / "archive.jsonl"
    _mixed_archive(docs)
    result = run_cli(tmp_path / "home", "import", str(docs))
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: {docs}:2: 'url' must be an http(s) URL"
    assert not (tmp_path / "home" / "corroborate.db").exists()


def test_import_rejects_file_is_never_the_input(tmp_path: Path) -> None:
    docs = tmp_path / "archive.jsonl"
    _mixed_archive(docs)
    before = docs.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(docs)
    for target in (docs, link):
        result = run_cli(tmp_path / "home", "import", str(docs), "--rejects", str(target))
        assert result.returncode != 0 and "is the input" in result.stderr, result.stderr
    assert docs.read_bytes() == before
    assert not (tmp_path / "home" / "corroborate.db").exists()


def test_import_with_only_bad_records_writes_the_rejects_and_fails(tmp_path: Path) -> None:
    docs, rejects = tmp_path / "bad.jsonl", tmp_path / "rejects.jsonl"
    docs.write_text('{"url": "nope", "text": "x"}\n{"text": "no url"}\n', encoding="utf-8")
    result = run_cli(tmp_path / "home", "import", str(docs), "--rejects", str(rejects))
    assert result.returncode != 0 and f"{docs} has no valid records" in result.stderr
    assert [json.loads(line)["line"] for line in rejects.read_text(encoding="utf-8").splitlines()] == [1, 2]


def test_reimport_skips_unchanged_and_replaces_changed(corpus_home: Path) -> None:
    from corroborate.corpus.store import Store

    docs = corpus_home / "docs.jsonl"
    records = [json.loads(line) for line in docs.read_text(encoding="utf-8").splitlines() if line.strip()]
    records[0]["text"] = records[0]["text"] + " A correction was added later that day."
    changed = corpus_home / "docs-changed.jsonl"
    changed.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--home", str(corpus_home), "import", str(changed)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "0 new" in result.output and "1 updated" in result.output
    assert f"{len(records) - 1} unchanged" in result.output  # "N unchanged/duplicates"
    with Store(corpus_home / "corroborate.db") as store:
        assert store.stored_hash(records[0]["url"]) is not None
        assert store.integrity_check() == []


def test_import_accepts_a_utf8_bom(tmp_path: Path) -> None:
    from corroborate.corpus.store import Store

    docs = tmp_path / "bom.jsonl"
    docs.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOCS[0]).encode() + b"\n")
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(docs)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "home" / "corroborate.db") as store:
        assert store.stored_hash(DOCS[0]["url"]) is not None


def test_import_stores_lone_surrogates_as_replacement_characters(tmp_path: Path) -> None:
    """JSON's "\\ud800" passed validation, then failed with UnicodeEncodeError while being written."""
    from corroborate.corpus.store import Store

    docs = tmp_path / "surrogates.jsonl"
    docs.write_text(
        '{"url": "https://s.example/1", "title": "Bridge \\udc00", "outlet": "S \\ud800", '
        '"text": "The council approved the bridge \\ud800 on Monday."}\n'
        + json.dumps(DOCS[1]) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(docs)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    with Store(tmp_path / "home" / "corroborate.db") as store:
        doc = store.document_by_url("https://s.example/1")
        assert doc is not None and doc.text == "The council approved the bridge \ufffd on Monday."
        assert doc.title == "Bridge \ufffd" and doc.outlet == "S \ufffd"
        assert [r["status"] for r in store.runs()] == ["completed"]
