"""Write corroborate/data/outlets-fundus.toml from the fundus project's publisher collection.

fundus (https://github.com/flairNLP/fundus, MIT) keeps the RSS feeds, news sitemaps and sitemaps of
about 180 news publishers in about 40 countries, maintained upstream as sites move. corroborate does
not depend on fundus (0.5.7 pins lxml<6 and pulls requests and curl-cffi, and breaks with curl-cffi
0.17); this script runs in a throwaway virtual environment and writes a plain registry file of the
outlets.toml schema, which corroborate merges with outlets.toml by domain (docs/outlets.md):

    python3 -m venv /tmp/fundus-venv
    /tmp/fundus-venv/bin/pip install fundus 'curl-cffi<0.17'
    /tmp/fundus-venv/bin/python scripts/import_fundus.py

What is taken, per publisher: its name, domain (and former domains), country (fundus' country
group), language (the most common language of its sources), RSS feeds (``feeds``) and news sitemaps
(``sitemaps``). Whole-site sitemaps list archives rather than news, and fundus builds many from
today's date (``sitemap-2026-11.xml``), so they are taken only for a publisher with no feed and no
news sitemap, and never when dated. Left out: publishers fundus marks deprecated, and the few in
``EXCLUDED`` (satire, fabricated stories). What fundus does not know (owner, independence group,
state-media flag, kind) is "unknown" here, each outlet its own group, until outlets.toml says more.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "corroborate" / "data" / "outlets-fundus.toml"

# fundus' country groups that are not ISO 3166-1 alpha-2 codes in lower case
COUNTRY = {"uk": "GB", "ind": "IN", "isl": "IS"}
# names that other text uses for other things: the attribution matcher (any case) would take "ABC
# reported" (ABC News, US or Australia) or "the citizen said" for these outlets; outlets.toml does the
# same for the outlets it lists (Metro (UK), The Province (Vancouver), ...)
RENAME = {
    "ABC": "ABC (Spain)",
    "LBC": "LBC (Lebanon)",
    "The Nation": "The Nation (US)",
    "The Citizen": "The Citizen (South Africa)",
    "Publico": "Público (Spain)",
    "Tageblatt": "Tageblatt (Luxembourg)",
    "Wochenblatt": "Wochenblatt (Paraguay)",
    "Global News": "Global News (Canada)",
    "NTVTR": "NTV (Turkey)",
    "Kicker": "Kicker (Germany)",  # "the kicker said" is sports reporting
    "Nikkan Geadai": "Nikkan Gendai",
}
# where the majority of a publisher's sources is labelled with the wrong language
LANGUAGE = {"Mexico News Daily": "en", "The Portugal News": "en"}
EXCLUDED = {
    "Postillon": "satire (Der Postillon): its stories are invented on purpose",
    "The Gateway Pundit": "repeatedly published fabricated stories; not a voice to count by default",
}
# a year, maybe with month and day: 2026, 202611, 2026-11, 2026/11/30
_YEAR = re.compile(r"(?<!\d)(?:199\d|20\d\d)(?:[-_/]?\d\d){0,2}(?!\d)")


def _host(url: str) -> str:
    host = (urlsplit(url if "://" in url else "//" + url).hostname or "").lower().rstrip(".")
    return re.sub(r"^www\d*\.", "", host)


def _dated(url: str) -> bool:
    """Whether the URL names a year: fundus builds such sitemaps from today's date or a year range."""
    return bool(_YEAR.search(url))


def _language(publisher: Any, default: str | None) -> str:
    counts: Counter[str] = Counter()
    for sources in publisher.source_mapping.values():
        for source in sources:
            counts.update(source.languages or ({default} if default else set()))
    if not counts:
        return default or "und"
    best = max(counts.values())
    tied = sorted(lang for lang, n in counts.items() if n == best)
    return default if default in tied else tied[0]


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(urls: list[str]) -> str:
    if not urls:
        return "[]"
    return "[\n" + "".join(f"  {_toml(u)},\n" for u in urls) + "]"


def collect() -> tuple[list[dict[str, Any]], list[str]]:
    """The outlets to write, and one line per publisher left out (and why)."""
    from fundus import PublisherCollection  # type: ignore[import-not-found,unused-ignore]
    from fundus.scraping.url import NewsMap, RSSFeed, Sitemap  # type: ignore[import-not-found,unused-ignore]

    outlets: list[dict[str, Any]] = []
    skipped: list[str] = []
    for code, group in PublisherCollection.get_subgroup_mapping().items():
        country = COUNTRY.get(code, code.upper())
        default = getattr(group, "default_language", None)
        for publisher in group:
            name = publisher.name
            if publisher.deprecated:
                skipped.append(f"{name}: deprecated in fundus")
                continue
            if name in EXCLUDED:
                skipped.append(f"{name}: {EXCLUDED[name]}")
                continue
            by_type = publisher.source_mapping
            feeds = [s.url for s in by_type.get(RSSFeed, [])]
            sitemaps = [s.url for s in by_type.get(NewsMap, []) if not _dated(s.url)]
            dated_news = [s.url for s in by_type.get(NewsMap, []) if _dated(s.url)]
            if not feeds and not sitemaps:
                sitemaps = [s.url for s in by_type.get(Sitemap, []) if not _dated(s.url)]
            feeds, sitemaps = list(dict.fromkeys(feeds)), [u for u in dict.fromkeys(sitemaps) if u not in feeds]
            if not feeds and not sitemaps:
                skipped.append(f"{name}: no source that does not change with the date")
                continue
            for url in dated_news:
                # the date masked, so that regenerating on another day changes nothing
                shown = _YEAR.sub("<date>", url.split("?")[0]) + ("?<date>" if "?" in url else "")
                skipped.append(f"{name}: news sitemap {shown} is built from today's date")
            domains = list(dict.fromkeys(_host(d) for d in [publisher.domain, *publisher.deprecated_domains]))
            outlets.append({
                "name": RENAME.get(name, name),
                "domains": [d for d in domains if d],
                "country": country,
                "language": LANGUAGE.get(name, _language(publisher, default)),
                "group": f"fundus:{domains[0]}",
                "feeds": feeds,
                "sitemaps": sitemaps,
            })
    return outlets, skipped


def render(outlets: list[dict[str, Any]], skipped: list[str], fundus_version: str) -> str:
    head = [
        f"# Generated by scripts/import_fundus.py from fundus {fundus_version} "
        "(https://github.com/flairNLP/fundus, MIT licence); do not edit by hand.",
        "# Regenerate: see docs/outlets.md. corroborate merges this file with outlets.toml by domain; where",
        "# outlets.toml lists an outlet, its name, owner, group, flags, kind, country and language win and",
        "# the URLs below are added to its own. Every other outlet here is its own independence group, its",
        '# owner and kind "unknown" (fundus does not say).',
        "#",
        f"# Left out ({len(skipped)}):",
        *[f"# - {line}" for line in skipped],
        "",
        f"source = {_toml(f'fundus {fundus_version}')}",
        "",
    ]
    body: list[str] = []
    for o in outlets:
        body += [
            "[[outlet]]",
            f"name = {_toml(o['name'])}",
            "domains = [" + ", ".join(_toml(d) for d in o["domains"]) + "]",
            f"country = {_toml(o['country'])}",
            f"language = {_toml(o['language'])}",
            'owner = "unknown"',
            f"group = {_toml(o['group'])}",
            'kind = "unknown"',
            f"feeds = {_list(o['feeds'])}",
            f"sitemaps = {_list(o['sitemaps'])}",
            "",
        ]
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    fundus_version = version("fundus")
    outlets, skipped = collect()
    text = render(outlets, skipped, fundus_version)

    # check the file as corroborate will read it: corroborate.ingest.outlets needs only the standard library
    sys.path.insert(0, str(ROOT))
    from corroborate.ingest.outlets import _load_bundled, merge_outlets, parse_outlets

    imported = parse_outlets(text, args.out.name)
    curated = _load_bundled("outlets.toml")
    merged = merge_outlets(curated, imported)
    args.out.write_text(text, encoding="utf-8")

    fundus_urls = sum(1 for o in merged for _, where in o.provenance if where == f"fundus {fundus_version}")
    filled = sum(1 for o in curated if not o.feeds and not o.sitemaps) - sum(
        1 for o in merged if o.origin.startswith("outlets.toml") and not o.feeds and not o.sitemaps
    )
    print(f"fundus {fundus_version} ({date.today()}): {len(outlets)} publishers written to {args.out}, "
          f"{len(skipped)} notes on what was left out")
    print(f"merged registry: {len(merged)} outlets, {sum(1 for o in merged if o.feeds or o.sitemaps)} with at "
          f"least one source, {sum(len(o.feeds) + len(o.sitemaps) for o in merged)} sources "
          f"({fundus_urls} from fundus); {len(merged) - len(curated)} outlets only in fundus; "
          f"{filled} outlets.toml entries without URLs of their own get some from fundus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
