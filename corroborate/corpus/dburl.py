"""A PostgreSQL connection URL is a secret (it may hold a password): what messages show of it.

No heavy imports here: settings validation uses it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from corroborate.errors import ConfigError

SCHEMES = ("postgresql", "postgres")


def check_store_url(url: str) -> str:
    """``url`` if it is empty or a PostgreSQL connection URL, else a one-line ConfigError (never showing a password)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"store_url {redact_url(url)} is not a URL") from None
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"store_url must be a postgresql:// URL (or empty for the SQLite file), got {redact_url(url)}"
        )
    return url


_KV_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
_QUERY_PASSWORD = re.compile(r"(?i)((?:^|&)password=)[^&]*")


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (in the user part or as a ``password=`` parameter)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<store_url>"
    if not parts.scheme or not parts.netloc and "password" not in parts.query.lower():
        return _KV_PASSWORD.sub(r"\1***", url)  # a key=value connection string, or no secret to hide
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if has_password else f"{user}@{host}"
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(url: str) -> list[str]:
    """The password(s) in ``url``, as written and decoded, so that messages can be scrubbed of them."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        for m in _QUERY_PASSWORD.finditer(parts.query):
            value = parts.query[m.end(1) : m.end()]
            found += [value, unquote(value)]
    except ValueError:
        pass
    for m in _KV_PASSWORD.finditer(url):
        found.append(m.group(2).strip("'"))
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` on one line, with ``url`` shown redacted and any password of it replaced by ``***``."""
    if url:
        text = text.replace(url, redact_url(url))
        for secret in secrets_of(url):
            text = text.replace(secret, "***")
    return " ".join(text.split())
