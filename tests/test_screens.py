"""Issue 24: what the corpus says never drives the terminal, the report or the dashboard.

One hostile record (rich markup, ESC/OSC sequences, an OSC 8 hyperlink, bidi overrides, Markdown
links to ``javascript:``, raw HTML, a URL with credentials that tries to break out of its link) goes
through every output: the terminal table, ``--markdown``, ``--json``, CSV and the dashboard's
artifacts. Findings 1, 2, 3, 9, 12 and 15 each have a test here that failed on the code before.
The headless-Chromium check of the dashboard artifact is in tests/test_dashboard.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from corroborate import report, screens
from corroborate.check.checker import Article, ArticleReport, ClaimResult, SentenceResult
from corroborate.check.retrieve import ExcludedCopy
from corroborate.check.verdict import AtomVerdict, EvidenceItem, Verdict, Voice
from corroborate.claims.atoms import Atom
from corroborate.claims.sentences import NO_ATTRIBUTION, Attribution, ClaimSentence
from corroborate.corpus.dedup import canonicalize_url

ROOT = Path(__file__).resolve().parents[1]

# -- the hostile record ------------------------------------------------------------------------------

OSC8_LINK = "\x1b]8;;file:///etc/shadow\x07click me\x1b]8;;\x07"
HOSTILE_TITLE = (
    "ANSI \x1b]0;PWNED-TITLE\x07 Bad [/] title [link=https://evil.example]x[/link] " + OSC8_LINK
    + " \u202egnp.exe [x](javascript:alert(7)) ](javascript:alert(8)) <script>alert(1)</script>"
    " <img src=x onerror=alert(2)>"
)
HOSTILE_OUTLET = (
    "Bad [/] Outlet [link=https://evil.example]x[/link] [blink]b[/blink] \x1b[31mred\x1b[0m \u2066iso\u2069"
)
HOSTILE_CLAIM = (
    "The council [/] approved [link=file:///etc/passwd]the tram[/link] line \x1b]8;;https://evil.example\x07"
    "here\x1b]8;;\x07 \x9b31m \u202eok [x](javascript:alert(7)) ](javascript:alert(8)) <script>alert(3)</script>"
)
HOSTILE_URL = "https://user:secret@host.example/a4)[pwn](javascript:alert(6)"
HOSTILE_QUOTE = "They said \x1b[2J\x1b[H cleared <img src=x onerror=alert(4)> [y](javascript:alert(9))"

# what must never come out of a screen-facing output
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _evidence(atom: int | None, stance: str = "agree", score: float = 0.97, url: str = HOSTILE_URL,
              quote: str = HOSTILE_QUOTE, outlet: str = HOSTILE_OUTLET, title: str = HOSTILE_TITLE) -> EvidenceItem:
    return EvidenceItem(
        outlet=outlet, group=outlet, url=url, quote=quote, start=0, end=len(quote), stance=stance, score=score,
        probabilities={"agree": score, "disagree": 0.01, "discuss": 0.01, "unrelated": 0.01}, similarity=0.8,
        title=title, atom=atom, judge={"entails": score, "contradicts": 0.01, "neutral": 0.02},
        reason="judge",
    )


def _verdict(evidence: list[EvidenceItem], atoms: list[AtomVerdict] | None = None,
             outlet: str = HOSTILE_OUTLET) -> Verdict:
    voice = Voice(key="g1", stance="agree", weight=0.97, outlets=[outlet], state_media=False, evidence=evidence[:1])
    return Verdict("corroborated", 0.9, [voice], [], ["single_source"], evidence, atoms or [])


def _sentence(text: str, attribution: Attribution = NO_ATTRIBUTION) -> ClaimSentence:
    return ClaimSentence(0, text, 0, len(text), True, None, text, attribution, False, (), (), (), ())


def hostile_claim_result() -> ClaimResult:
    return ClaimResult(HOSTILE_CLAIM, _verdict([_evidence(None)]))


def hostile_article_report() -> ArticleReport:
    attribution = Attribution(HOSTILE_OUTLET, "named", "said")
    atoms = [
        AtomVerdict(Atom(HOSTILE_CLAIM + " one", "main", attribution), _verdict([_evidence(0)])),
        AtomVerdict(Atom(HOSTILE_TITLE, "relative", NO_ATTRIBUTION), _verdict([_evidence(1)])),
    ]
    verdict = _verdict([_evidence(0), _evidence(1)], atoms)
    article = Article(HOSTILE_CLAIM, HOSTILE_TITLE, HOSTILE_URL, HOSTILE_OUTLET, None, HOSTILE_URL)
    return ArticleReport(article, [SentenceResult(_sentence(HOSTILE_CLAIM, attribution), verdict)],
                         corpus={"documents": 1, "passages": 1},
                         excluded_copies=[ExcludedCopy(HOSTILE_URL, HOSTILE_OUTLET, 0.9)])


# -- what a browser would build from Markdown -----------------------------------------------------------


class _Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def markdown_dom(text: str) -> list[tuple[str, dict[str, str | None]]]:
    """The tags a permissive Markdown renderer makes of ``text``: raw HTML passed through, GFM tables, and
    every link target allowed (markdown-it refuses javascript: itself; the dashboard's renderer did not)."""
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    renderer.validateLink = lambda url: True  # type: ignore[method-assign]
    html = renderer.render(text)
    dom = _Dom()
    dom.feed(html)
    return dom.tags


def assert_markdown_safe(text: str) -> None:
    tags = markdown_dom(text)
    assert not [t for t, _ in tags if t in {"script", "img", "iframe", "object", "embed", "svg", "style"}], tags
    handlers = [(t, k) for t, attrs in tags for k in attrs if k.lower().startswith("on")]
    assert not handlers, handlers
    for tag, attrs in tags:
        href = attrs.get("href") or attrs.get("src")
        if href is not None:
            assert href.startswith(("http://", "https://")), (tag, href)
            assert not re.search(r"[()\[\]<>\"' \\]", href), href  # re-serialised: nothing to break out with
            assert "javascript" not in href.split("/", 3)[2], href  # the host is the real one
    assert not RAW_CONTROLS.search(text), repr(RAW_CONTROLS.search(text))
    assert "secret" not in text and "user:" not in text


def assert_terminal_safe(out: str) -> None:
    assert not RAW_CONTROLS.search(out), repr(out[max(0, RAW_CONTROLS.search(out).start() - 40):][:80])  # type: ignore[union-attr]
    assert "\x1b" not in out


# -- the one place ----------------------------------------------------------------------------------------


def test_visible_shows_every_control_and_bidi_character() -> None:
    shown = screens.visible("a\x1b]0;T\x07b\x9bc\u202ed\u2066e\rf\x08g\x7f")
    assert shown == "a\\x1b]0;T\\x07b\\x9bc<U+202E>d<U+2066>e\\x0df\\x08g\\x7f"
    assert screens.visible("two\nlines\tok", multiline=True) == "two\nlines\tok"
    assert screens.visible("one\nline") == "one\\x0aline"
    assert screens.visible(screens.visible(HOSTILE_CLAIM)) == screens.visible(HOSTILE_CLAIM)  # idempotent
    assert screens.visible("lone \udcff byte") == "lone \ufffd byte"


def test_terminal_text_is_never_markup() -> None:
    text = screens.terminal_text("[bold]x[/bold] [/] [link=https://e.example]y[/link]")
    assert text.plain == "[bold]x[/bold] [/] [link=https://e.example]y[/link]" and not text.spans


def test_md_text_cannot_make_links_html_or_blocks() -> None:
    for hostile in [HOSTILE_TITLE, HOSTILE_CLAIM, HOSTILE_QUOTE, "# heading", "- item", "1. item", "---",
                    "&lt;script&gt;", "| cell | break |", "`code` *em* _em_ ~~del~~", "\\[x](javascript:alert(1))",
                    "bare https://evil.example/x www.evil.example me@evil.example"]:
        out = screens.md_text(hostile)
        assert "\n" not in out
        tags = markdown_dom(out)
        assert [t for t, _ in tags] == ["p"], (hostile, out, tags)  # one paragraph of text, nothing else
        assert not re.search(r"(?<!\\)(://|@)|(?i:www\.)", out), out  # nothing a GFM autolinker would link


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/1", "https://a.example/1"),
        ("https://user:secret@host.example/a4)[pwn](javascript:alert(6)",
         "https://host.example/a4%29%5Bpwn%5D%28javascript:alert%286%29"),
        ("HTTP://Exämple.com/ä b?q=\"x\"&r='y'#f(1)", "http://xn--exmple-cua.com/%C3%A4%20b?q=%22x%22&r=%27y%27#f%281%29"),
        ("http://[::1]:8080/a<b>", "http://[::1]:8080/a%3Cb%3E"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("https://a.example/\x1b]8;;x\x07", None),
        ("http://[not-ipv6/", None),
    ],
)
def test_safe_url_reserialises_http_only(url: str, expected: str | None) -> None:
    assert screens.safe_url(url) == expected


def test_md_link_shows_anything_but_http_as_text() -> None:
    assert screens.md_link("t", "javascript:alert(1)") == "t (javascript:alert(1))"
    # a label that needs escaping is written as text, the link named by the host (renderers that show link
    # text raw would show the escapes)
    assert screens.md_link("[x](javascript:alert(7))", "https://a.example/") == \
        "\\[x\\](javascript:alert(7)) ([a.example](https://a.example/))"
    assert screens.md_link("A plain title", "https://a.example/x") == "[A plain title](https://a.example/x)"
    assert "secret" not in screens.md_link("t", "https://u:secret@a.example/\x07")


def test_json_is_data_as_is_with_terminal_controls_escaped() -> None:
    data = {"title": HOSTILE_TITLE, "claim": HOSTILE_CLAIM}
    out = screens.json_text(data)
    assert json.loads(out) == data
    assert not RAW_CONTROLS.search(out)


# -- finding 1: rich markup in data crashed the table; [link=…] became a live hyperlink ------------------


def _render_table(result: ArticleReport | ClaimResult, terminal: bool) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=240, force_terminal=terminal, color_system="truecolor" if terminal else None)
    report.print_table(result, console)
    return buf.getvalue()


@pytest.mark.parametrize("make", [hostile_claim_result, hostile_article_report])
def test_finding1_markup_in_data_is_text_in_the_table(make: Any) -> None:
    out = _render_table(make(), terminal=True)  # raised MarkupError before
    assert "\x1b]8;" not in out  # no OSC 8 hyperlink: [link=…] is not markup
    assert "\x1b[5m" not in out  # no blink
    plain = _render_table(make(), terminal=False)
    assert "Bad [/] Outlet" in plain and "[link=https://evil.example]x[/link]" in plain
    assert "\x1b" not in plain


# -- finding 2: raw escape sequences reached the terminal ---------------------------------------------------


@pytest.mark.parametrize("make", [hostile_claim_result, hostile_article_report])
def test_finding2_escape_sequences_are_shown_not_sent(make: Any) -> None:
    plain = _render_table(make(), terminal=False)
    assert_terminal_safe(plain)
    assert "\\x1b]0;PWNED-TITLE\\x07" in plain or "\\x1b]8;;" in plain
    styled = _render_table(make(), terminal=True)
    # rich's own colours are SGR sequences; nothing else may reach the terminal
    assert not RAW_CONTROLS.search(re.sub(r"\x1b\[[0-9;]*m", "", styled))
    assert_terminal_safe(report.to_markdown(make()))


def _outlets_toml(path: Path, second_name: str, domain: str = "b.example") -> None:
    path.write_text(
        f"""[[outlet]]
name = "Ansi \\u001b]8;;file:///etc/shadow\\u0007 Outlet \\u001b]8;;\\u0007 [/] \\u202e"
domains = ["a.example"]
country = "GB"
language = "en"
owner = "x"
kind = "national"
feeds = ["https://a.example/feed"]

[[outlet]]
name = "{second_name}"
domains = ["{domain}"]
country = "GB"
language = "en"
owner = "y"
kind = "national"
feeds = []
""",
        encoding="utf-8",
    )


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update({"CORROBORATE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=ROOT)


def test_finding2_outlets_list_and_its_errors_show_escapes(tmp_path: Path) -> None:
    outlets = tmp_path / "outlets.toml"
    _outlets_toml(outlets, "Plain \\u001b[2J Outlet")
    listed = _cli(tmp_path, "outlets", "list", "--outlets", str(outlets))
    assert listed.returncode == 0, listed.stderr
    assert_terminal_safe(listed.stdout + listed.stderr)
    assert "\\x1b]8;;file:///etc/shadow\\x07" in listed.stdout and "<U+202E>" in listed.stdout
    as_json = _cli(tmp_path, "outlets", "list", "--outlets", str(outlets), "--json")
    assert as_json.returncode == 0 and not RAW_CONTROLS.search(as_json.stdout)
    assert json.loads(as_json.stdout.splitlines()[0])["outlet"].startswith("Ansi \x1b]8;;")  # the data, as is
    # an error that names the outlets: two outlets with one domain
    _outlets_toml(outlets, "Second \\u001b]0;PWNED\\u0007 one", domain="a.example")
    failed = _cli(tmp_path, "outlets", "list", "--outlets", str(outlets))
    assert failed.returncode == 1 and "a.example" in failed.stderr, failed.stderr
    assert_terminal_safe(failed.stdout + failed.stderr)
    assert "\\x1b]0;PWNED\\x07" in failed.stderr


# -- findings 3 and 12: javascript: links and raw HTML in the Markdown report and the dashboard -----------


@pytest.mark.parametrize("make", [hostile_claim_result, hostile_article_report])
def test_finding3_no_javascript_link_and_no_link_breakout(make: Any) -> None:
    md = report.to_markdown(make())
    assert_markdown_safe(md)
    hrefs = [attrs["href"] for tag, attrs in markdown_dom(md) if tag == "a"]
    assert hrefs and set(hrefs) == {"https://host.example/a4%29%5Bpwn%5D%28javascript:alert%286%29"}, hrefs


@pytest.mark.parametrize("make", [hostile_claim_result, hostile_article_report])
def test_finding12_raw_html_is_text_in_the_markdown_report(make: Any) -> None:
    md = report.to_markdown(make())
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md or "&lt;script&gt;alert(3)&lt;/script&gt;" in md


# -- finding 9: credentials never stored or shown ----------------------------------------------------------


def test_finding9_canonical_urls_have_no_credentials() -> None:
    assert canonicalize_url("https://user:secret@Host.example:443/a?utm_source=x&b=1") == "https://host.example/a?b=1"
    assert canonicalize_url("http://user@h.example/x") == "http://h.example/x"
    assert canonicalize_url("https://a.example/x@y") == "https://a.example/x@y"  # an @ in the path stays


def test_finding9_imported_record_is_stored_without_credentials() -> None:
    from corroborate.ingest.outlets import OutletRegistry
    from corroborate.ingest.steps import imported_record

    record = {"url": HOSTILE_URL, "title": "t", "text": "The council approved the tram line."}
    extracted, _ = imported_record(record, "x:1", OutletRegistry([]))
    assert "secret" not in extracted.url and "user" not in extracted.url
    assert extracted.url == "https://host.example/a4)[pwn](javascript:alert(6)"  # the rest exactly as given
    assert "secret" not in extracted.canonical_url


def test_finding9_discovery_drops_and_counts_credentials(tmp_path: Path) -> None:
    from conftest import make_loopback_settings

    from corroborate.corpus.records import FetchResult
    from corroborate.ingest.discover import discover_outlet
    from corroborate.ingest.outlets import Outlet

    feed = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>one</title><link>https://user:secret@a.example/one</link></item>
<item><title>two</title><link>https://a.example/two</link></item>
<item><title>three</title><link>https://token@a.example/three</link></item>
</channel></rss>"""

    class Feeds:
        async def fetch(self, url: str, *, kind: str = "page", **_: Any) -> FetchResult:
            return FetchResult(url=url, final_url=url, status=200, text=feed, content_type="application/rss+xml")

    outlet = Outlet("A", ("a.example",), "GB", "en", "x", "x", False, "national", ("https://a.example/feed",), ())
    found = asyncio.run(discover_outlet(outlet, Feeds(), make_loopback_settings(tmp_path)))  # type: ignore[arg-type]
    assert sorted(c.url for c in found.candidates) == [
        "https://a.example/one", "https://a.example/three", "https://a.example/two"]
    assert found.credentials_removed == 2


def test_finding9_no_credentials_in_any_report_output() -> None:
    for make in (hostile_claim_result, hostile_article_report):
        result = make()
        assert "secret" not in report.to_markdown(result)
        assert "secret" not in _render_table(result, terminal=False)
        assert not any("secret" in str(v) for row in report.table_rows(result) for v in row.values())


# -- finding 15: the summary puts the status first; each sentence once; no part that repeats the claim ----


def _qualified_claim_report() -> ArticleReport:
    claim = "The harbour authority approved the expansion on Monday."
    main = Atom("The harbour authority approved the expansion.", "main", NO_ATTRIBUTION, distinctive=False)
    qualifier = Atom(claim, "qualifier", NO_ATTRIBUTION)
    quote = "The harbour authority approved the expansion of the terminal on Monday."
    url = "https://wire.example/a"
    both = [_evidence(0, url=url, quote=quote, outlet="Wire", title="Approved"),
            _evidence(1, url=url, quote=quote, outlet="Wire", title="Approved"),
            _evidence(0, url="https://b.example/x", quote="The authority backed the expansion.", outlet="B",
                      title="Backed"),
            _evidence(1, "disagree", 0.8, url="https://b.example/x", quote="The authority backed the expansion.",
                      outlet="B", title="Backed")]
    atoms = [AtomVerdict(main, _verdict(both[::2], outlet="Wire")), AtomVerdict(qualifier, _verdict(both[1::2]))]
    verdict = _verdict(both, atoms, outlet="Wire")
    return ArticleReport(Article(claim, "Harbour", None, None, None, "a.txt"),
                         [SentenceResult(_sentence(claim), verdict)], corpus={})


def test_finding15_status_first_and_each_evidence_sentence_once() -> None:
    md = report.to_markdown(_qualified_claim_report())
    summary = next(line for line in md.splitlines() if line.startswith("1. "))
    assert summary.index("**corroborated**") < summary.index("The harbour authority approved"), summary  # status first
    # narrow: a list, which wraps (the dashboard does not wrap table cells); voices counted, named under the claim
    assert "|" not in md.split("## 1.")[0] and "Wire" not in summary and "1 for, 0 against" in summary
    bullets = [line for line in md.splitlines() if line.startswith("- ")]
    assert len(bullets) == 2, bullets  # two sentences, each once, however many parts they were judged against
    wire = next(b for b in bullets if "Wire" in b)
    assert "**supports** the claim and part 1" in wire
    backed = next(b for b in bullets if "Backed" in b)
    assert "**supports** part 1" in backed and "**denies** the claim" in backed
    # the qualifier says the claim word for word: no row of its own; the main clause says what it lacks
    assert "· qualifier" not in md and "1. **corroborated** · main — " in md
    assert "the claim without “on Monday”" in md
    rows = report.table_rows(_qualified_claim_report())
    assert list(rows[0])[:3] == ["status", "confidence", "claim"]  # the dashboard table: status first too


# -- one hostile record through every output ------------------------------------------------------------------


def test_one_hostile_record_through_every_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for make in (hostile_claim_result, hostile_article_report):
        result = make()
        # terminal table
        table = _render_table(result, terminal=False)
        assert_terminal_safe(table)
        assert "[/]" in table
        # --markdown, and the dashboard's Markdown artifact (the same function)
        assert_markdown_safe(report.to_markdown(result))
        # the dashboard's table artifact: its cells are rendered as Markdown too (flows/check.py)
        for row in report.table_rows(result):
            for value in row.values():
                if isinstance(value, str):
                    assert not RAW_CONTROLS.search(value) and "\n" not in value and "secret" not in value
                    cell = screens.table_cell(value)
                    assert_markdown_safe(cell)
                    assert [t for t, _ in markdown_dom(cell)] in ([], ["p"]), cell
        # --json: the data as is, with nothing a terminal would act on
        out = report.to_json(result)
        assert not RAW_CONTROLS.search(out)
        assert json.loads(out) == json.loads(json.dumps(result.to_dict(), default=str))
    # CSV: the stance output's ids (the only data it echoes) never run as formulas
    import corroborate.judge.reading as reading
    from corroborate.judge.pairs import run_stance_csv

    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["id", "claim", "evidence"], ["=HYPERLINK(\"javascript:alert(1)\")" + HOSTILE_TITLE,
                                                                HOSTILE_CLAIM, HOSTILE_QUOTE]])
    probs = {"agree": 0.7, "disagree": 0.1, "discuss": 0.1, "unrelated": 0.1}
    judged = SimpleNamespace(stance="agree", probabilities=probs)
    monkeypatch.setattr(reading, "judge_pairs", lambda _j, rows, progress=None: [judged] * len(rows))
    out_csv = tmp_path / "out.csv"
    run_stance_csv(pairs, out_csv, model=object())  # type: ignore[arg-type]
    (_, row) = list(csv.reader(out_csv.open(encoding="utf-8", newline="")))
    assert row[0].startswith("'=HYPERLINK")


# -- the same record through the real CLI: import, then check as a table, --markdown and --json -----------


@pytest.mark.slow
def test_hostile_import_then_check_through_the_cli(tmp_path: Path) -> None:
    """Findings 1, 2 and 9 as reported: an imported outlet named ``Bad [/] Outlet`` made every table check
    that found it exit 1 with MarkupError; ESC/OSC came out raw in --markdown; the password was kept."""
    record = {"url": HOSTILE_URL, "title": HOSTILE_TITLE, "outlet": HOSTILE_OUTLET,
              "text": "The Harbor City council approved the new tram line on Monday."}
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    home = tmp_path / "home"
    imported = _cli(home, "import", str(docs))
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "user:password removed from 1 URLs" in imported.stderr
    claim = "The Harbor City council approved the new tram line"
    table = _cli(home, "check", claim)
    assert table.returncode == 0, table.stderr[-2000:]  # was: exit 1, "unexpected MarkupError", nothing printed
    assert "Bad [/] Outlet" in table.stdout
    assert_terminal_safe(table.stdout + table.stderr)
    md = _cli(home, "check", claim, "--markdown")
    assert md.returncode == 0, md.stderr[-2000:]
    assert_markdown_safe(md.stdout)
    as_json = _cli(home, "check", claim, "--json")
    assert as_json.returncode == 0 and not RAW_CONTROLS.search(as_json.stdout)
    data = json.loads(as_json.stdout)
    assert {e["outlet"] for e in data["evidence"]} == {HOSTILE_OUTLET}  # JSON is data: the name as it is
    assert "secret" not in as_json.stdout  # never stored, so never shown
    assert [e["url"] for e in data["evidence"]] == ["https://host.example/a4)[pwn](javascript:alert(6)"]
