"""The outlet registry: who publishes on which host, who owns them, and where their feeds are.

Independence is decided here, not per URL: outlets with one owner share a ``group`` and so count
as one voice (see docs/design.md, "The verdict"). The bundled registry is two files of one schema:
``data/outlets.toml``, kept by hand (owners, independence groups, state-media flags, kinds), and
``data/outlets-fundus.toml``, generated from the fundus project's publisher collection by
``scripts/import_fundus.py`` (feeds and sitemaps of about 170 publishers, maintained upstream).
:func:`load_outlets` merges them by domain, the hand-kept file winning (docs/outlets.md).
``corroborate.ingest.demosite`` writes a file of the same schema for the fictional demo outlets.

Every feed and sitemap URL carries where it came from (its *provenance*): a ``source`` given for
the URL, else for its outlet, else for the whole file, else the file's name.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corroborate.errors import ConfigError

# "unknown": an imported outlet (outlets-fundus.toml) that outlets.toml does not describe
KINDS = frozenset(
    {"wire", "public_broadcaster", "national", "regional", "state", "digital", "magazine", "unknown"}
)
BUNDLED = "outlets.toml"
BUNDLED_IMPORTED = "outlets-fundus.toml"

_REQUIRED = ("name", "domains", "country", "language", "owner", "kind")
_OPTIONAL = ("group", "state_media", "feeds", "sitemaps", "fictional", "source", "retired")
_TOP_LEVEL = ("outlet", "source")
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
    # (url, where it came from) for every feed, sitemap and retired URL
    provenance: tuple[tuple[str, str], ...] = ()
    # URLs known dead: never read, and kept out when another file of the registry lists them
    retired: tuple[str, ...] = ()
    origin: str = ""  # the file(s) the entry comes from, e.g. "outlets.toml + outlets-fundus.toml"

    def source_of(self, url: str) -> str:
        """Where ``url`` (one of this outlet's feeds, sitemaps or retired URLs) came from; "" if unknown."""
        for known, source in self.provenance:
            if known == url:
                return source
        return ""


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
        self.default_source = Path(source).name

    def fail(self, index: int, name: str | None, message: str) -> ConfigError:
        who = f'outlet #{index} ("{name}")' if name else f"outlet #{index}"
        return ConfigError(f"{self.source}: {who}: {message}")

    def parse(self, data: dict[str, Any]) -> list[Outlet]:
        extra = sorted(k for k in data if k not in _TOP_LEVEL)
        if extra:
            raise ConfigError(
                f"{self.source}: unknown top-level key '{extra[0]}' (expected [[outlet]] tables and an optional source)"
            )
        default_source = data.get("source", Path(self.source).name)
        if not isinstance(default_source, str) or not default_source.strip():
            raise ConfigError(f"{self.source}: top-level 'source' must be a non-empty string")
        self.default_source = default_source.strip()
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

        outlet_source = text("source") if "source" in entry else self.default_source
        provenance: dict[str, str] = {}

        def urls(key: str) -> tuple[str, ...]:
            """A list of URLs, each a string or a ``{ url = ..., source = ... }`` table naming where it came from."""
            value = entry.get(key, [])
            bad = self.fail(
                index, name, f"field '{key}' must be a list of http(s) URLs (or {{ url = ..., source = ... }} tables)"
            )
            if not isinstance(value, list):
                raise bad
            out: list[str] = []
            for item in value:
                where = outlet_source
                if isinstance(item, dict):
                    raw_source = item.get("source", outlet_source)
                    if set(item) - {"url", "source"} or not isinstance(raw_source, str) or not raw_source.strip():
                        raise bad
                    where = raw_source.strip()
                    item = item.get("url")
                if not isinstance(item, str) or not _is_http_url(item.strip()):
                    raise bad
                url = item.strip()
                provenance.setdefault(url, where)
                out.append(url)
            return tuple(out)

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
        feeds, sitemaps, retired = urls("feeds"), urls("sitemaps"), urls("retired")
        for url in retired:
            if url in feeds or url in sitemaps:
                raise self.fail(index, name, f"field 'retired': {url} is also listed as a feed or sitemap")
        return Outlet(
            name=name,
            domains=domains,
            country=text("country", _COUNTRY, "an ISO 3166-1 alpha-2 code (upper case) or 'INT'"),
            language=text("language", _LANGUAGE, "an ISO 639-1 code (two lower-case letters)"),
            owner=owner,
            group=group,
            state_media=flag("state_media"),
            kind=kind,
            feeds=feeds,
            sitemaps=sitemaps,
            fictional=flag("fictional"),
            provenance=tuple(provenance.items()),
            retired=retired,
            origin=Path(self.source).name,
        )


def parse_outlets(text: str, source: str = "outlets.toml") -> list[Outlet]:
    """Outlets from TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    return _OutletParser(source).parse(data)


def load_outlets(path: Path | None = None) -> list[Outlet]:
    """Outlets of ``path``, or the bundled registry when ``None``: ``data/outlets.toml`` merged with
    ``data/outlets-fundus.toml`` (:func:`merge_outlets`)."""
    if path is None:
        return merge_outlets(_load_bundled(BUNDLED), _load_bundled(BUNDLED_IMPORTED))
    return _parse_file(path)


def in_languages(outlets: Iterable[Outlet], languages: Iterable[str]) -> tuple[list[Outlet], dict[str, int]]:
    """The outlets whose registry language is one of ``languages`` (the ``languages`` setting), and how
    many of the others each language has: those are not fetched (corroborate/languages.py)."""
    wanted = set(languages)
    kept: list[Outlet] = []
    left: dict[str, int] = {}
    for outlet in outlets:
        if outlet.language in wanted:
            kept.append(outlet)
        else:
            left[outlet.language] = left.get(outlet.language, 0) + 1
    return kept, dict(sorted(left.items(), key=lambda item: (-item[1], item[0])))


def _load_bundled(name: str) -> list[Outlet]:
    try:
        raw = resources.files("corroborate").joinpath("data", name).read_bytes()
    except OSError as exc:
        raise ConfigError(f"bundled {name} cannot be read: {exc}") from None
    return _decode_and_parse(raw, name)


def _parse_file(path: Path) -> list[Outlet]:
    if not path.is_file():
        raise ConfigError(f"outlets file {path} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read outlets file {path}: {exc.strerror or exc}") from None
    return _decode_and_parse(raw, str(path))


def _decode_and_parse(raw: bytes, source: str) -> list[Outlet]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source} is not UTF-8 (byte {exc.start})") from None
    return parse_outlets(text, source)


def _covers(parent: str, host: str) -> bool:
    return host == parent or host.endswith("." + parent)


def _same_site(a: Outlet, b: Outlet) -> bool:
    """Whether the two entries share a domain, one being the other or a subdomain of it."""
    return any(_covers(x, y) or _covers(y, x) for x in a.domains for y in b.domains)


def merge_outlets(curated: Sequence[Outlet], imported: Sequence[Outlet]) -> list[Outlet]:
    """``curated`` outlets with the feeds and sitemaps of the ``imported`` ones merged in, then the
    imported outlets that no curated one describes.

    An imported outlet belongs to the curated outlet it shares a domain with (equal, or a subdomain
    either way: fundus' ``de.euronews.com`` is outlets.toml's ``euronews.com``). The curated entry
    keeps its name, owner, group, flags, kind, country and language, which an import does not know;
    it gains the imported URLs it lacks (minus those it lists as ``retired``) and the imported
    domains none of its own cover.
    """
    merged: dict[str, Outlet] = {o.name: o for o in curated}
    extra: list[Outlet] = []
    for new in imported:
        owners = [o for o in curated if _same_site(o, new)]
        if len({o.name for o in owners}) > 1:
            names = " and ".join(sorted({o.name for o in owners}))
            raise ConfigError(f"{new.origin}: outlet '{new.name}' shares domains with {names}; list it once")
        if not owners:
            if new.name in merged or any(o.name == new.name for o in extra):
                raise ConfigError(f"{new.origin}: outlet '{new.name}' has the name of another outlet")
            extra.append(new)
            continue
        old = merged[owners[0].name]
        known = {url for url, _ in old.provenance} | set(old.feeds) | set(old.sitemaps)
        added = [(u, new.source_of(u)) for u in dict.fromkeys((*new.feeds, *new.sitemaps)) if u not in known]
        feeds = old.feeds + tuple(u for u in new.feeds if u not in known)
        sitemaps = old.sitemaps + tuple(u for u in new.sitemaps if u not in known)
        domains = old.domains + tuple(d for d in new.domains if not any(_covers(o, d) for o in old.domains))
        origin = old.origin if new.origin in old.origin.split(" + ") else f"{old.origin} + {new.origin}"
        merged[old.name] = replace(old, feeds=feeds, sitemaps=sitemaps, domains=domains,
                                   provenance=old.provenance + tuple(added), origin=origin)
    out = [*merged.values(), *extra]
    seen: dict[str, str] = {}
    for outlet in out:
        for domain in outlet.domains:
            if domain in seen:
                raise ConfigError(f"outlets '{seen[domain]}' and '{outlet.name}' both list the domain '{domain}'")
            seen[domain] = outlet.name
    return out


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
