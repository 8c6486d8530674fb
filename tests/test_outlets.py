"""The outlet registry: the bundled file, validation messages, and URL matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.outlets import Outlet, OutletRegistry, load_outlets

GOOD = """
[[outlet]]
name = "Example Wire"
domains = ["example-wire.com"]
country = "GB"
language = "en"
owner = "Example Holdings"
kind = "wire"
feeds = ["https://example-wire.com/rss.xml"]
sitemaps = []

[[outlet]]
name = "Example Gazette"
domains = ["gazette.example.org"]
country = "INT"
language = "fr"
owner = "Example Holdings"
kind = "regional"
"""


@pytest.fixture(scope="module")
def bundled() -> list[Outlet]:
    return load_outlets()


@pytest.fixture(scope="module")
def registry(bundled: list[Outlet]) -> OutletRegistry:
    return OutletRegistry(bundled)


def test_bundled_file_loads_enough_real_outlets(bundled: list[Outlet]) -> None:
    assert len(bundled) >= 40
    assert not any(o.fictional for o in bundled)
    kinds = {o.kind for o in bundled}
    assert {"wire", "public_broadcaster", "national", "regional", "state", "digital"} <= kinds
    assert len({o.country for o in bundled}) >= 20


def test_state_media_is_flagged_and_grouped_per_government(registry: OutletRegistry) -> None:
    for name in ["TASS", "RIA Novosti", "RT", "Xinhua", "CGTN", "Global Times", "China Daily", "PressTV", "KCNA"]:
        outlet = registry.get(name)
        assert outlet is not None, name
        assert outlet.state_media, name
    assert {registry.get(n).group for n in ["TASS", "RIA Novosti", "RT", "Sputnik"]} == {"state:RU"}  # type: ignore[union-attr]
    assert {registry.get(n).group for n in ["Xinhua", "CGTN", "Global Times"]} == {"state:CN"}  # type: ignore[union-attr]
    bbc = registry.get("BBC News")
    assert bbc is not None and not bbc.state_media and bbc.group == bbc.owner


def test_one_owner_is_one_group(registry: OutletRegistry) -> None:
    smh, age = registry.get("The Sydney Morning Herald"), registry.get("The Age")
    assert smh is not None and age is not None and smh.group == age.group
    reuters, ap = registry.get("Reuters"), registry.get("Associated Press")
    assert reuters is not None and ap is not None and reuters.group != ap.group


def test_for_url_matches_subdomains_and_ignores_ports(registry: OutletRegistry) -> None:
    assert registry.for_url("https://www.bbc.co.uk/news/world-12345").name == "BBC News"  # type: ignore[union-attr]
    assert registry.for_url("https://feeds.bbci.co.uk/news/rss.xml") is None  # bbci.co.uk is not bbc.co.uk
    assert registry.for_url("http://tass.com:8080/politics/1").name == "TASS"  # type: ignore[union-attr]
    assert registry.for_url("HTTPS://EN.YNA.CO.KR/view/AEN2026").name == "Yonhap"  # type: ignore[union-attr]
    assert registry.for_url("https://notbbc.co.uk/") is None
    assert registry.for_url("not a url") is None


def test_for_url_prefers_the_longest_domain(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text(
        GOOD.replace('domains = ["gazette.example.org"]', 'domains = ["gazette.example-wire.com"]'), encoding="utf-8"
    )
    reg = OutletRegistry(load_outlets(path))
    assert reg.for_url("https://gazette.example-wire.com/a").name == "Example Gazette"  # type: ignore[union-attr]
    assert reg.for_url("https://m.gazette.example-wire.com/a").name == "Example Gazette"  # type: ignore[union-attr]
    assert reg.for_url("https://www.example-wire.com/a").name == "Example Wire"  # type: ignore[union-attr]


def test_ip_domains_match_exactly(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text(GOOD.replace('"gazette.example.org"', '"127.0.0.11"'), encoding="utf-8")
    reg = OutletRegistry(load_outlets(path))
    assert reg.for_url("http://127.0.0.11:8765/news/a.html").name == "Example Gazette"  # type: ignore[union-attr]
    assert reg.for_url("http://127.0.0.12:8765/") is None


def test_group_defaults_to_owner(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text(GOOD, encoding="utf-8")
    wire, gazette = load_outlets(path)
    assert wire.group == gazette.group == "Example Holdings"
    assert wire.feeds == ("https://example-wire.com/rss.xml",) and gazette.feeds == ()
    assert not wire.state_media and not wire.fictional


def test_for_url_or_new_makes_an_independent_outlet(registry: OutletRegistry) -> None:
    known = registry.for_url_or_new("https://www.theguardian.com/world/x")
    assert known.name == "The Guardian"
    a = registry.for_url_or_new("https://www.smalltown-news.example/story")
    b = registry.for_url_or_new("https://other-blog.example/post", name="Other Blog")
    assert a.name == "smalltown-news.example" and a.domains == ("smalltown-news.example",)
    assert b.name == "Other Blog"
    assert a.group != b.group
    assert a.group not in {o.group for o in registry}
    with pytest.raises(ConfigError):
        registry.for_url_or_new("")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'domains = ["example-wire.com"]',
            "domains = []",
            "outlet #1 (\"Example Wire\"): field 'domains' must be a non-empty list of host names",
        ),
        (
            'domains = ["example-wire.com"]',
            'domains = ["https://example-wire.com/"]',
            "outlet #1 (\"Example Wire\"): field 'domains' must be a non-empty list of host names",
        ),
        ('country = "GB"', 'country = "Britain"', "outlet #1 (\"Example Wire\"): field 'country'"),
        ('language = "en"', 'language = "english"', "outlet #1 (\"Example Wire\"): field 'language'"),
        ('kind = "wire"', 'kind = "blog"', "outlet #1 (\"Example Wire\"): field 'kind' must be one of"),
        (
            'kind = "wire"',
            'kind = "wire"\nstate_media = "yes"',
            "outlet #1 (\"Example Wire\"): field 'state_media' must be true or false",
        ),
        (
            'kind = "wire"',
            'kind = "wire"\nlanguages = ["en"]',
            "outlet #1 (\"Example Wire\"): unknown field 'languages'",
        ),
        (
            'feeds = ["https://example-wire.com/rss.xml"]',
            'feeds = ["ftp://example-wire.com/rss.xml"]',
            "outlet #1 (\"Example Wire\"): field 'feeds' must be a list of http(s) URLs",
        ),
        (
            "sitemaps = []",
            'sitemaps = "https://example-wire.com/sitemap.xml"',
            "outlet #1 (\"Example Wire\"): field 'sitemaps' must be a list of http(s) URLs",
        ),
        (
            'owner = "Example Holdings"\nkind = "regional"',
            'kind = "regional"',
            "outlet #2 (\"Example Gazette\"): missing field 'owner'",
        ),
        ('name = "Example Gazette"', 'name = "Example Wire"', 'outlet #2 ("Example Wire"): duplicate name'),
        (
            'domains = ["gazette.example.org"]',
            'domains = ["example-wire.com"]',
            "outlet #2 (\"Example Gazette\"): field 'domains': 'example-wire.com' is already listed by outlet #1",
        ),
        ('name = "Example Wire"', 'name = ""', "outlet #1: field 'name' must be a non-empty string"),
    ],
)
def test_invalid_entries_name_outlet_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_outlets(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_file_level_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="missing.toml does not exist"):
        load_outlets(missing)

    broken = tmp_path / "broken.toml"
    broken.write_text('[[outlet]]\nname = "Unclosed\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_outlets(broken)

    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(GOOD.replace("Example Wire", "Agència Wire").encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml is not UTF-8"):
        load_outlets(latin1)

    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty\.toml: no \[\[outlet\]\] entries"):
        load_outlets(empty)

    stray = tmp_path / "stray.toml"
    stray.write_text("version = 2\n" + GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown top-level key 'version'"):
        load_outlets(stray)


def test_registry_iterates_and_counts(bundled: list[Outlet], registry: OutletRegistry) -> None:
    assert len(registry) == len(bundled)
    assert [o.name for o in registry] == [o.name for o in bundled]
    assert registry.get("No Such Outlet") is None
