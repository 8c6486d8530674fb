"""The one place that makes untrusted text safe for each screen it is shown on.

Everything corroborate shows comes from other people: page titles, outlet names from imported
archives, quotes, URLs, the article being checked. None of it may drive the screen it lands on.

- **terminal** (:func:`visible`, :func:`terminal_text`): C0 and C1 control characters (so ESC, and
  with it every CSI and OSC sequence, BEL, backspace, carriage return), DEL, Unicode line and
  paragraph separators and the bidi embeddings, overrides and isolates (U+202A–U+202E,
  U+2066–U+2069) are *shown*, as ``\\x1b`` or ``<U+202E>``, never sent. Rich gets
  :class:`rich.text.Text` objects, never markup strings, so ``[/]`` or ``[link=…]`` in data is text.
- **Markdown** (:func:`md_text`, :func:`md_link`, :func:`safe_url`): the same visible form, one line,
  with Markdown's specials backslash-escaped and ``<``/``>`` (so any HTML) and entity-like ``&`` made
  entities, so no data can open a tag, a link, an image or a table cell; bare URLs are escaped so
  that no autolinker links them. Links are built only from http(s) URLs that were parsed and
  re-serialised without credentials, with ``( ) [ ] < >``, quotes, spaces and backslashes
  percent-encoded; anything else is shown as text. The Markdown report and the dashboard's Markdown
  artifacts take this path, and so do the cells of its table artifacts (:func:`table_cell`: the UI
  renders each cell as Markdown too).
- **CSV** (:func:`csv_cell`): the spreadsheet-formula rule of :func:`corroborate.output.csv_safe`.
- **JSON** (:func:`json_text`): data as is; only the characters a terminal would act on (C1
  controls, bidi controls, line separators) are written as ``\\uXXXX`` escapes, which JSON readers
  turn back into the same characters (``json.dumps`` already escapes C0 controls).

Credentials never reach a screen: :func:`safe_url` drops ``user:password@``, and
:func:`strip_userinfo` (also reached as ``corroborate.corpus.dedup.strip_userinfo``) removes them where
URLs enter the corpus: import, discovery (``canonicalize_url``) and article URLs.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from corroborate.output import csv_safe

if TYPE_CHECKING:
    from rich.text import Text

# bidi embeddings/overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI): they reorder what
# follows on screen ("Trojan Source"); the implicit marks (LRM, RLM, ALM) only nudge and are left alone
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _shown(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"<U+{code:04X}>"


def visible(text: str | None, *, multiline: bool = False) -> str:
    """``text`` with every character a terminal would act on shown instead (``\\x1b``, ``<U+202E>``).

    ``multiline`` keeps line feeds and tabs (a message of several lines); otherwise they are shown
    too, so one field stays on one line. A lone surrogate (an undecodable byte) is shown as U+FFFD.
    """
    if not text:
        return ""
    if multiline:
        out = _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t" else _shown(m.group()), text)
    else:
        out = _UNSAFE.sub(lambda m: _shown(m.group()), text)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in out)
    return out


def one_line(text: str | None) -> str:
    """``text`` on one line: runs of whitespace (line breaks included) become one space, then :func:`visible`."""
    return visible(" ".join((text or "").split()))


def terminal_text(text: str | None, style: str = "", *, multiline: bool = False) -> Text:
    """A rich ``Text`` of ``text`` made :func:`visible`: rich never reads it as markup."""
    from rich.text import Text

    return Text(visible(text, multiline=multiline), style=style)


# -- Markdown --------------------------------------------------------------------------------------

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can start or end
# emphasis, code, a link or image (with '[' and ']' escaped, '(' ')' and '!' cannot make one), a table
# cell, strikethrough or a hard line break ('\\' at a line's end) inside a line
_MD_ESCAPED = frozenset("\\`*_[]|~@")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def md_text(text: str | None) -> str:
    """``text`` as one line of Markdown that shows exactly that text: no link, image, HTML, emphasis or
    table cell can come out of it, and nothing in it drives a terminal that `cat`s the report."""
    line = one_line(text)
    line = _ENTITY_LIKE.sub("&amp;", line)
    out = []
    for ch in line:
        if ch in _MD_ESCAPED:
            out.append("\\" + ch)
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        else:
            out.append(ch)
    # GFM turns bare "https://…", "www.…" and "a@b.c" into links: "\\://", "www\\." and "\\@" show the same
    # text and link nothing (the dashboard's renderer autolinks; a URL in a title must not become a link)
    escaped = _WWW.sub(lambda m: m.group()[:-1] + "\\.", "".join(out).replace("://", "\\://"))
    # where it starts a line or a block quote, '#', '-', '+', '=' or '1.' would make a heading, a list or a rule
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)


_BLOCK_START = re.compile(r"^(\d{0,9})([#+=.)-])")
_WWW = re.compile(r"(?i)(?<![0-9a-z])www\.")


# RFC 3986 pchar (unreserved, sub-delims, ':' '@') without ( ) ' * ! that Markdown or a renderer's
# autolinker could read as syntax; '%' stays so existing escapes are not escaped twice
_PATH_SAFE = "-._~$&+,;=:@/%"
_QUERY_SAFE = _PATH_SAFE + "?"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL parsed and re-serialised for use as a link target, or None if it is not one.

    Credentials (``user:password@``) are dropped; the host is lowercased (IDNA for non-ASCII names);
    brackets, parentheses, quotes, spaces, backslashes, ``<``/``>`` and anything outside RFC 3986 in
    path, query and fragment are percent-encoded, so the URL cannot end a Markdown link early.
    """
    if not url or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return None
    if ":" in host:  # an IPv6 literal, already validated by urlsplit
        if not re.fullmatch(r"[0-9a-f:.]+", host):
            return None
        netloc = f"[{host}]"
    else:
        try:
            netloc = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        if not re.fullmatch(r"[a-z0-9.-]+", netloc):
            return None
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path or "/", safe=_PATH_SAFE),
            quote(parts.query, safe=_QUERY_SAFE),
            quote(parts.fragment, safe=_QUERY_SAFE),
        )
    )


def md_link(label: str | None, url: str | None) -> str:
    """A link to ``url`` when it is an http(s) URL (re-serialised by :func:`safe_url`), else the label and
    the URL as text, with no link at all.

    The label is the link text only when it needs no escaping: some renderers (the dashboard's) show a
    link's text raw, escapes and entities included. Otherwise the label is written as text and the link
    text is the URL's host name (letters, digits, dots and dashes): ``Title ([host](url))``.
    """
    target = safe_url(url)
    if target is None:
        shown = md_text(label) or md_text(strip_userinfo(url or "")) or "link"
        text = md_text(strip_userinfo(url or ""))
        return shown if not url or label == url else f"{shown} ({text})"
    host = _host(target)
    if not label:
        return f"[{host}]({target})"
    shown = md_text(label)
    return f"[{shown}]({target})" if shown == one_line(label) else f"{shown} ([{host}]({target}))"


def md_url(url: str | None) -> str:
    """A URL shown as a link named by its host (without credentials), or as text when it is not http(s)."""
    target = safe_url(url)
    return f"[{_host(target)}]({target})" if target else md_text(strip_userinfo(url or ""))


def _host(target: str) -> str:
    return urlsplit(target).hostname or "link"  # safe_url made it: [a-z0-9.-] names or an IPv6 literal


# -- credentials ----------------------------------------------------------------------------------


def has_userinfo(url: object) -> bool:
    """Whether ``url`` carries credentials (``user:password@host``; a bare ``user@`` counts too)."""
    if not isinstance(url, str) or "@" not in url:
        return False
    try:
        return "@" in urlsplit(url.strip()).netloc
    except ValueError:
        return False


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``: credentials are never stored, fetched with or shown.

    Only the authority changes; path, query and fragment keep their exact spelling. A URL that does not
    parse is returned as it is (its validation names the problem).
    """
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


# -- tables, CSV, JSON ------------------------------------------------------------------------------


def table_cell(value: Any) -> Any:
    """A cell of a dashboard table artifact. The Prefect UI renders each cell as Markdown (raw HTML in
    a cell became an element), so text takes the Markdown path (:func:`md_text`); numbers and None stay."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return md_text(str(value))


def csv_cell(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (see :func:`corroborate.output.csv_safe`)."""
    return csv_safe(cell)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_text(data: Any, indent: int | None = None) -> str:
    """``data`` as JSON, unchanged as data; characters a terminal would act on are ``\\uXXXX`` escapes."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    # outside strings JSON has only ASCII, so every match is inside a string, where \\uXXXX means the same
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
