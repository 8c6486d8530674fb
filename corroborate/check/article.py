"""What is checked, as the user gives it: an article read from a file or a URL (:func:`read_article`),
or one claim (:func:`validate_claim`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from corroborate.corpus import dedup
from corroborate.errors import ConfigError
from corroborate.ingest.outlets import OutletRegistry, load_outlets
from corroborate.judge.reading import claim_problem
from corroborate.screens import visible
from corroborate.settings import Settings


@dataclass(frozen=True)
class Article:
    text: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: datetime | None = None
    source: str = ""  # the file or URL it came from


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<p>" in head and "<body" in head)


def read_article(source: str, settings: Settings, registry: OutletRegistry | None = None) -> Article:
    """An article from a file (plain text or HTML) or an http(s) URL, or a one-line ConfigError/FetchError."""
    from corroborate.ingest.extract import extract

    try:
        scheme = urlsplit(source).scheme
    except ValueError as exc:  # e.g. "http://[abc/"
        raise ConfigError(f"{source[:200]!r} is not a valid URL: {exc}") from None
    # "file:///etc/passwd" or "ftp://x" names a scheme we do not fetch, not a local path; a local file
    # whose name merely contains a colon ("notes:2024.txt") still reads as a file
    if scheme not in {"", "http", "https"} and (
        source[len(scheme) + 1 :].startswith("//") or (len(scheme) > 1 and not Path(source).is_file())
    ):
        raise ConfigError(f"unsupported URL scheme '{scheme}' in {source[:200]!r}; give an http(s) URL or a file")
    if scheme in {"http", "https"}:
        from corroborate.ingest.fetch import fetch_url_sync

        if dedup.has_userinfo(source):  # never fetched with, stored or shown (issue 24, finding 9)
            source = dedup.strip_userinfo(source)
            print(f"note: user:password removed from the article URL; fetching {visible(source)}", file=sys.stderr)
        result = fetch_url_sync(source, settings, kind="page")
        ex = extract(result.text or "", result.final_url, settings)
        for warning in ex.warnings:
            print(visible(warning, multiline=True), file=sys.stderr)
        if registry is None:
            registry = OutletRegistry(load_outlets(settings.outlets_file))
        # after a redirect the article is where it ended up: its URL (in every report) and its outlet are the
        # final ones (a shortener's or an old address's domain is not the publisher); `source` keeps what was given
        url = dedup.strip_userinfo(result.final_url or source)
        outlet = registry.for_url(url) or registry.for_url(source)
        return Article(
            ex.text, ex.title, url, outlet.name if outlet else urlsplit(url).hostname, ex.published, source
        )
    if not source.strip():
        raise ConfigError("no article given")
    path = Path(source)
    text = read_text_file(path, "article file", settings.max_bytes)
    if _looks_like_html(text):
        ex = extract(text, path.resolve().as_uri(), settings)
        for warning in ex.warnings:
            print(visible(warning, multiline=True), file=sys.stderr)
        return Article(ex.text, ex.title, None, None, ex.published, source)
    title, body = split_title(text)
    if not body.strip():
        raise ConfigError(f"article file {source} has no text")
    return Article(body, title, None, None, None, source)


def read_text_file(path: Path, what: str, max_bytes: int | None = None) -> str:
    """A user's text file as str, or a one-line ConfigError saying what is wrong with it."""
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist")
    if not path.is_file():
        raise ConfigError(f"{what} {path} is not a file")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ConfigError(f"{what} {path} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB")
    raw = path.read_bytes()
    if not raw.strip():
        raise ConfigError(f"{what} {path} is empty")
    if b"\x00" in raw:
        raise ConfigError(f"{what} {path} is binary, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from None


def split_title(text: str) -> tuple[str | None, str]:
    """A first line that reads like a headline (short, no final full stop, more text after) is the title."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    first = first.strip()
    if rest.strip() and len(first) <= 200 and not first.endswith((".", "!", "?", "\u201d", '"')):
        return first, rest.strip()
    return None, stripped


def validate_claim(text: str, any_language: bool = False) -> str:
    """The claim with its whitespace flattened, or a one-line ConfigError saying why it cannot be judged
    (``any_language``: the ``judge_any_language`` setting)."""
    problem = claim_problem(text, any_language)
    if problem:
        raise ConfigError(problem)
    return " ".join(text.split())
