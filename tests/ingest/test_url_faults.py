"""URLs that went wrong quietly or cryptically (issue 24, finding 13), through the real CLI.

- Two records of one import file with the same (canonical) URL: the later one is reported (an error, or a
  reject with --rejects) instead of silently replacing the earlier one.
- A redirect to https on a plain-HTTP port: one line saying the server speaks plain HTTP and where the
  redirect came from, not "[SSL: WRONG_VERSION_NUMBER]" (and no retries: it will not change).
- An internationalised domain: checked and connected to in its IDNA 2008 form, named both ways when it does
  not resolve; one IDNA 2008 refuses is said to be invalid.
- After a redirect, `--json` and `--markdown` show the same, final URL of the article.
"""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from newssite import NewsSite

from corroborate.corpus.store import Store
from corroborate.errors import PermanentFetchError
from corroborate.ingest.fetch import NoTLSError, fetch_url_sync
from corroborate.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env.update(CORROBORATE_HOME=str(home), CORROBORATE_ALLOW_PRIVATE="1", CORROBORATE_MAX_RETRIES="1",
               CORROBORATE_TIMEOUT_S="5", CORROBORATE_PER_HOST_DELAY_S="0")
    return subprocess.run([sys.executable, "-m", "corroborate.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    return lines[0]


def test_a_duplicate_url_in_one_import_file_is_reported_not_replacing(tmp_path: Path) -> None:
    docs, rejects, home = tmp_path / "docs.jsonl", tmp_path / "rejects.jsonl", tmp_path / "home"
    records = [
        {"url": "https://a.example/tram", "title": "Tram", "outlet": "a.example",
         "text": "The Harbor City council approved the new tram line on Monday."},
        {"url": "https://b.example/bridge", "title": "Bridge", "outlet": "b.example",
         "text": "The old bridge reopened to traffic on Tuesday after repairs."},
        {"url": "https://a.example/tram?utm_source=feed", "title": "Tram (other text)", "outlet": "a.example",
         "text": "The Harbor City council rejected the new tram line on Monday."},
    ]
    docs.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    strict = _cli(home, "import", str(docs))
    line = _one_line(strict)
    assert ":3:" in line and "same URL as line 1" in line, line
    assert not (home / "corroborate.db").exists() or Store(home / "corroborate.db").document_count() == 0

    kept = _cli(home, "import", str(docs), "--rejects", str(rejects))
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert "imported 2 records of 3 (1 rejected" in kept.stdout
    (reject,) = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert reject["line"] == 3 and "same URL as line 1" in reject["reason"]
    with Store(home / "corroborate.db") as store:
        stored = store.document_by_url("https://a.example/tram")
        assert stored is not None and "approved" in stored.text  # the first record stays


class _ToHttps(http.server.BaseHTTPRequestHandler):
    """Every path redirects to the same path over https on this same (plain HTTP) port."""

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        port = self.server.server_address[1]
        self.send_response(301)
        self.send_header("Location", f"https://127.0.0.1:{port}{self.path}")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def to_https() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ToHttps)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_https_on_a_plain_port_is_one_clear_line(to_https: str, tmp_path: Path) -> None:
    settings = load_settings({"home": tmp_path, "allow_private": True, "max_retries": 3, "respect_robots": False},
                             environ={})
    with pytest.raises(NoTLSError) as info:
        fetch_url_sync(f"{to_https}/story", settings)
    message = str(info.value)
    assert "speaks plain HTTP" in message and f"redirected there from {to_https}/story" in message
    assert "SSL" not in message and "WRONG_VERSION" not in message

    line = _one_line(_cli(tmp_path / "home", "article", f"{to_https}/story"))
    assert "does not answer in TLS" in line and "speaks plain HTTP" in line and "redirected there from" in line


def test_internationalised_domains_get_clear_errors(tmp_path: Path) -> None:
    settings = load_settings({"home": tmp_path, "max_retries": 0}, environ={})
    with pytest.raises(PermanentFetchError, match=r"'☃\.example' is not a valid internationalised domain name"):
        fetch_url_sync("https://☃.example/story", settings)
    line = _one_line(_cli(tmp_path / "home", "article", "https://straße.example/story"))
    # the name as it reads and the IDNA 2008 name asked of DNS (IDNA 2003 would have asked for strasse.example)
    assert "'straße.example' (xn--strae-oqa.example)" in line, line


@pytest.mark.slow
def test_json_and_markdown_show_the_same_final_url_after_a_redirect(news_site: NewsSite, tmp_path: Path) -> None:
    given = news_site.url("/bad/redirect-chain?n=1")
    final = news_site.url(f"/news/{news_site._pages[0].sha}.html")
    home = tmp_path / "home"
    as_json = _cli(home, "article", "--json", given)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    article = json.loads(as_json.stdout)["article"]
    assert article["url"] == final and article["source"] == given
    as_markdown = _cli(home, "article", "--markdown", given)
    assert as_markdown.returncode == 0, as_markdown.stderr[-2000:]
    source = [line for line in as_markdown.stdout.splitlines() if line.startswith("Source:")]
    assert source and final in source[0] and "redirect-chain" not in source[0], source
