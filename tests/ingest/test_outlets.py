"""The outlet registry: the bundled file, validation messages, and URL matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.ingest.outlets import Outlet, OutletRegistry, load_outlets, merge_outlets, parse_outlets

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


# -- the bundled registry: outlets.toml merged with outlets-fundus.toml --------------------------------


def test_bundled_registry_merges_the_fundus_import(bundled: list[Outlet], registry: OutletRegistry) -> None:
    assert len(bundled) >= 200
    assert sum(1 for o in bundled if o.feeds or o.sitemaps) >= 190
    from_fundus = [(o, url) for o in bundled for url, where in o.provenance if where.startswith("fundus ")]
    assert len(from_fundus) >= 300
    for outlet in bundled:
        for url in (*outlet.feeds, *outlet.sitemaps):
            assert outlet.source_of(url), f"{outlet.name}: {url} has no provenance"
        assert not set(outlet.retired) & {*outlet.feeds, *outlet.sitemaps}
    # an outlet both files list keeps outlets.toml's name, owner and flags and gains fundus' URLs
    euronews = registry.get("Euronews")
    assert euronews is not None and euronews.origin == "outlets.toml + outlets-fundus.toml"
    assert euronews.domains == ("euronews.com",)  # de.euronews.com and fr.euronews.com are covered by it
    assert any(u.startswith("https://de.euronews.com/") for u in euronews.sitemaps)
    people = registry.for_url("http://www.people.com.cn/n1/2026/1130/c1001.html")
    assert people is not None and people.name == "People's Daily" and people.state_media and people.feeds
    assert registry.get("People") is None
    # an outlet listed in outlets.toml only for its owner takes its URLs from fundus
    morgenpost = registry.get("Berliner Morgenpost")
    assert morgenpost is not None and morgenpost.group == "Funke Mediengruppe" and morgenpost.sitemaps
    # an outlet only fundus lists is its own independence group, owner and kind unknown
    standard = registry.for_url("https://www.derstandard.at/story/1")
    assert standard is not None and standard.owner == "unknown" and standard.kind == "unknown"
    assert standard.group == "fundus:derstandard.at" and not standard.state_media
    assert len({o.group for o in bundled if o.owner == "unknown"}) == sum(1 for o in bundled if o.owner == "unknown")


def test_bundled_registry_has_issue_11_fixes(registry: OutletRegistry) -> None:
    wsj, cnn, china_daily, bbc, tass = (registry.get(n) for n in
                                        ["The Wall Street Journal", "CNN", "China Daily", "BBC News", "TASS"])
    assert wsj is not None and wsj.feeds == ("https://feeds.content.dowjones.io/public/rss/RSSWorldNews",)
    assert cnn is not None and cnn.feeds == () and cnn.sitemaps == ("https://www.cnn.com/sitemaps/cnn/news.xml",)
    assert china_daily is not None and "http://www.chinadaily.com.cn/rss/world_rss.xml" not in china_daily.feeds
    assert bbc is not None and "https://www.bbc.com/sitemaps/https-index-com-news.xml" in bbc.sitemaps
    assert "https://www.bbc.co.uk/sitemaps/https-index-com-news.xml" not in bbc.sitemaps
    assert tass is not None and tass.language == "en"
    assert "issue 11" in wsj.source_of(wsj.feeds[0])
    assert "frozen" in cnn.source_of("http://rss.cnn.com/rss/edition.rss")
    every_url = {u for o in registry for u in (*o.feeds, *o.sitemaps)}
    assert not any("rss.cnn.com" in u or "feeds.a.dj.com" in u for u in every_url)


CURATED = """
source = "hand-kept"

[[outlet]]
name = "Example Wire"
domains = ["example-wire.com"]
country = "GB"
language = "en"
owner = "Example Holdings"
kind = "wire"
state_media = true
feeds = ["https://example-wire.com/rss.xml", { url = "https://example-wire.com/world.xml", source = "their site" }]
retired = [{ url = "https://example-wire.com/old.xml", source = "404 since 2025" }]

[[outlet]]
name = "Example Gazette"
domains = ["gazette.example.org"]
country = "INT"
language = "fr"
owner = "Example Holdings"
kind = "regional"
source = "the gazette's help page"
sitemaps = ["https://gazette.example.org/news.xml"]
"""

IMPORTED = """
source = "fundus 9.9"

[[outlet]]
name = "Wire (imported name)"
domains = ["de.example-wire.com", "wire-old.example"]
country = "DE"
language = "de"
owner = "unknown"
group = "fundus:de.example-wire.com"
kind = "unknown"
feeds = ["https://de.example-wire.com/rss", "https://example-wire.com/rss.xml", "https://example-wire.com/old.xml"]
sitemaps = ["https://de.example-wire.com/news.xml"]

[[outlet]]
name = "Only Imported"
domains = ["only.example"]
country = "FR"
language = "fr"
owner = "unknown"
group = "fundus:only.example"
kind = "unknown"
feeds = ["https://only.example/feed"]
"""


def test_provenance_is_given_per_url_outlet_or_file() -> None:
    wire, gazette = parse_outlets(CURATED, "curated.toml")
    assert wire.source_of("https://example-wire.com/rss.xml") == "hand-kept"
    assert wire.source_of("https://example-wire.com/world.xml") == "their site"
    assert wire.retired == ("https://example-wire.com/old.xml",)
    assert wire.source_of("https://example-wire.com/old.xml") == "404 since 2025"
    assert gazette.source_of("https://gazette.example.org/news.xml") == "the gazette's help page"
    plain = parse_outlets(GOOD, "dir/mine.toml")[0]
    assert plain.source_of("https://example-wire.com/rss.xml") == "mine.toml"  # no source given: the file
    assert plain.origin == "mine.toml"


def test_merge_by_domain_keeps_the_curated_entry_and_adds_urls() -> None:
    curated, imported = parse_outlets(CURATED, "outlets.toml"), parse_outlets(IMPORTED, "outlets-fundus.toml")
    wire, gazette, only = merge_outlets(curated, imported)
    assert (wire.name, wire.owner, wire.country, wire.language, wire.state_media, wire.kind) == (
        "Example Wire", "Example Holdings", "GB", "en", True, "wire")
    # fundus' own URLs added after ours; one we list stays ours; one we retired stays out
    assert wire.feeds == ("https://example-wire.com/rss.xml", "https://example-wire.com/world.xml",
                          "https://de.example-wire.com/rss")
    assert wire.sitemaps == ("https://de.example-wire.com/news.xml",)
    assert wire.source_of("https://de.example-wire.com/rss") == "fundus 9.9"
    assert wire.source_of("https://example-wire.com/rss.xml") == "hand-kept"
    assert wire.domains == ("example-wire.com", "wire-old.example")  # de.example-wire.com is covered
    assert wire.origin == "outlets.toml + outlets-fundus.toml"
    assert gazette == curated[1]
    assert only.name == "Only Imported" and only.origin == "outlets-fundus.toml"
    reg = OutletRegistry([wire, gazette, only])
    assert reg.for_url("https://wire-old.example/a").name == "Example Wire"  # type: ignore[union-attr]


def test_merge_refuses_ambiguous_and_clashing_entries() -> None:
    curated = parse_outlets(CURATED, "outlets.toml")
    both = IMPORTED.replace('"wire-old.example"', '"gazette.example.org"')
    with pytest.raises(ConfigError, match="shares domains with Example Gazette and Example Wire"):
        merge_outlets(curated, parse_outlets(both, "outlets-fundus.toml"))
    clash = IMPORTED.replace('name = "Only Imported"', 'name = "Example Gazette"')
    with pytest.raises(ConfigError, match="has the name of another outlet"):
        merge_outlets(curated, parse_outlets(clash, "outlets-fundus.toml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('source = ""\n' + GOOD, "top-level 'source' must be a non-empty string"),
        (GOOD.replace('feeds = ["https://example-wire.com/rss.xml"]',
                      'feeds = [{ url = "https://example-wire.com/rss.xml", via = "x" }]'),
         "field 'feeds' must be a list of http(s) URLs (or { url = ..., source = ... } tables)"),
        (GOOD.replace("sitemaps = []", 'sitemaps = []\nretired = ["https://example-wire.com/rss.xml"]'),
         "field 'retired': https://example-wire.com/rss.xml is also listed as a feed or sitemap"),
    ],
)
def test_provenance_fields_are_checked(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_outlets(text, "bad.toml")
    assert expected in str(info.value)
