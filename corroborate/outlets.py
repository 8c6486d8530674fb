"""The outlet registry: who publishes on which host, who owns them, and where their feeds are.

Independence is decided here, not per URL: outlets with one owner share a ``group`` and so count
as one voice (see DESIGN.md, "The verdict"). The bundled ``data/outlets.toml`` lists real outlets;
``corroborate.demosite`` writes a file of the same schema for the fictional demo outlets.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corroborate.errors import ConfigError

KINDS = frozenset({"wire", "public_broadcaster", "national", "regional", "state", "digital", "magazine"})

_REQUIRED = ("name", "domains", "country", "language", "owner", "kind")
_OPTIONAL = ("group", "state_media", "feeds", "sitemaps", "fictional")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_COUNTRY = re.compile(r"^(?:[A-Z]{2}|INT)$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Outlet:
    """One news outlet as listed in an outlets file."""

    name: str
    domains: tuple[str, ...]
    country: str
    language: str
    owner: str
    group: str
    state_media: bool
    kind: str
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    fictional: bool = False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_host_name(host: str) -> bool:
    if _is_ip(host):
        return True
    if len(host) > 253 or "." not in host:
        return False
    return all(_LABEL.match(label) for label in host.split("."))


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and " " not in url


def _host_of(url: str) -> str | None:
    """The lower-case host of a URL (port and IPv6 brackets dropped); bare 'host/path' works too."""
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


class _OutletParser:
    """Validates one file's entries so every error names the file, the outlet and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, index: int, name: str | None, message: str) -> ConfigError:
        who = f'outlet #{index} ("{name}")' if name else f"outlet #{index}"
        return ConfigError(f"{self.source}: {who}: {message}")

    def parse(self, data: dict[str, Any]) -> list[Outlet]:
        extra = sorted(k for k in data if k != "outlet")
        if extra:
            raise ConfigError(f"{self.source}: unknown top-level key '{extra[0]}' (expected only [[outlet]] tables)")
        entries = data.get("outlet")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{self.source}: no [[outlet]] entries")
        outlets: list[Outlet] = []
        names: dict[str, int] = {}
        domains: dict[str, int] = {}
        for index, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                raise self.fail(index, None, "must be a table")
            outlet = self.parse_one(index, entry)
            if outlet.name in names:
                raise self.fail(index, outlet.name, f"duplicate name (also outlet #{names[outlet.name]})")
            names[outlet.name] = index
            for domain in outlet.domains:
                if domain in domains:
                    # one host must map to one outlet or for_url() would be ambiguous
                    raise self.fail(
                        index,
                        outlet.name,
                        f"field 'domains': '{domain}' is already listed by outlet #{domains[domain]}",
                    )
                domains[domain] = index
            outlets.append(outlet)
        return outlets

    def parse_one(self, index: int, entry: dict[str, Any]) -> Outlet:
        raw_name = entry.get("name")
        name = raw_name.strip() if isinstance(raw_name, str) and raw_name.strip() else None
        for key in entry:
            if key not in _REQUIRED and key not in _OPTIONAL:
                raise self.fail(index, name, f"unknown field '{key}'")
        for key in _REQUIRED:
            if key not in entry:
                raise self.fail(index, name, f"missing field '{key}'")
        if name is None:
            raise self.fail(index, None, "field 'name' must be a non-empty string")

        def text(key: str, pattern: re.Pattern[str] | None = None, what: str = "a non-empty string") -> str:
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip() or (pattern and not pattern.match(value.strip())):
                raise self.fail(index, name, f"field '{key}' must be {what}")
            return value.strip()

        def flag(key: str) -> bool:
            value = entry.get(key, False)
            if not isinstance(value, bool):
                raise self.fail(index, name, f"field '{key}' must be true or false")
            return value

        def urls(key: str) -> tuple[str, ...]:
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and _is_http_url(v.strip()) for v in value):
                raise self.fail(index, name, f"field '{key}' must be a list of http(s) URLs")
            return tuple(v.strip() for v in value)

        raw_domains = entry.get("domains")
        if (
            not isinstance(raw_domains, list)
            or not raw_domains
            or not all(isinstance(d, str) and _is_host_name(d.strip().lower().rstrip(".")) for d in raw_domains)
        ):
            raise self.fail(index, name, "field 'domains' must be a non-empty list of host names")
        domains = tuple(dict.fromkeys(d.strip().lower().rstrip(".") for d in raw_domains))

        owner = text("owner")
        kind = text("kind")
        if kind not in KINDS:
            raise self.fail(index, name, f"field 'kind' must be one of {', '.join(sorted(KINDS))}")
        group = text("group") if "group" in entry else owner
        return Outlet(
            name=name,
            domains=domains,
            country=text("country", _COUNTRY, "an ISO 3166-1 alpha-2 code (upper case) or 'INT'"),
            language=text("language", _LANGUAGE, "an ISO 639-1 code (two lower-case letters)"),
            owner=owner,
            group=group,
            state_media=flag("state_media"),
            kind=kind,
            feeds=urls("feeds"),
            sitemaps=urls("sitemaps"),
            fictional=flag("fictional"),
        )


def parse_outlets(text: str, source: str = "outlets.toml") -> list[Outlet]:
    """Outlets from TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    return _OutletParser(source).parse(data)


def load_outlets(path: Path | None = None) -> list[Outlet]:
    """Outlets of ``path``, or of the bundled ``corroborate/data/outlets.toml`` when ``None``."""
    if path is None:
        source = "outlets.toml"
        try:
            raw = resources.files("corroborate").joinpath("data", "outlets.toml").read_bytes()
        except OSError as exc:
            raise ConfigError(f"bundled outlets.toml cannot be read: {exc}") from None
    else:
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"outlets file {path} does not exist")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read outlets file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source} is not UTF-8 (byte {exc.start})") from None
    return parse_outlets(text, source)


class OutletRegistry:
    """Look outlets up by name or by the host of a URL."""

    def __init__(self, outlets: Iterable[Outlet]) -> None:
        self._outlets = list(outlets)
        self._by_name = {o.name: o for o in self._outlets}
        self._by_domain: dict[str, Outlet] = {}
        for outlet in self._outlets:
            for domain in outlet.domains:
                self._by_domain.setdefault(domain.lower(), outlet)

    def __iter__(self) -> Iterator[Outlet]:
        return iter(self._outlets)

    def __len__(self) -> int:
        return len(self._outlets)

    def get(self, name: str) -> Outlet | None:
        return self._by_name.get(name)

    def for_url(self, url: str) -> Outlet | None:
        """The outlet whose longest listed domain is the URL's host or a parent of it."""
        host = _host_of(url)
        if not host:
            return None
        if _is_ip(host):
            # an address has no parent domains: 10.0.0.1 must not match a listed "0.1"
            return self._by_domain.get(host)
        labels = host.split(".")
        for start in range(len(labels)):
            outlet = self._by_domain.get(".".join(labels[start:]))
            if outlet is not None:
                return outlet
        return None

    def for_url_or_new(self, url: str, name: str | None = None) -> Outlet:
        """The listed outlet of ``url``, else a new unlisted one that is its own independence group."""
        found = self.for_url(url)
        if found is not None:
            return found
        host = _host_of(url)
        if not host:
            raise ConfigError(f"cannot tell the host of URL {url!r}")
        site = host[4:] if host.startswith("www.") else host
        return Outlet(
            name=name or site,
            domains=(site,),
            country="ZZ",  # ISO 3166 user-assigned code, conventionally "unknown"
            language="und",  # BCP 47 "undetermined": we know nothing about an unlisted site
            owner=site,
            group=f"site:{site}",  # prefixed so it can never merge with a listed owner's group
            state_media=False,
            kind="digital",
            feeds=(),
            sitemaps=(),
        )
