"""Calibrate ``copy_containment`` and ``rewrite_containment`` (``python -m corroborate.training.calibrate_origins``).

Two texts are one origin when the shorter one's word n-grams are found in the longer (see
dedup.containment): word 5-grams for copies and excerpts, word 8-grams outside quotations for
rewrites. Each threshold is set midway between

- the *independent* pairs' 95th percentile: every pair of FNC-1 bodies about one claim (bodies
  labelled agree, disagree or discuss for one headline), i.e. reports of one story by different
  outlets. Some of them are copies of one another, so their top percentiles are same-origin pairs
  too: the 95th percentile stands for "independent reports that share the most";
- the lowest *same-origin* pair: for copies, each real article of news-html (at least 150 words,
  4 paragraphs) against its first 30 % of paragraphs (an excerpt), itself set between two other
  stories (a page), and a republished copy (another intro and outro, a few words edited); for
  rewrites, every pair of the fictional rewrite network written for the tests
  (tests/data/rewrite_network.json: five lightly reworded copies of one story).

rounded to 0.05. ``--data`` is the shared data folder (with fnc1/ and news-html/).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corroborate.corpus.dedup import Shingled
from corroborate.errors import ConfigError

DEFAULT_FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "rewrite_network.json"
INDEPENDENT_PERCENTILE = 95.0
GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Measure:
    """One threshold: the pairs it was set from and where it landed."""

    name: str
    threshold: float
    same_origin_min: float
    same_origin_pairs: int
    independent_p95: float
    independent_pairs: int
    # threshold -> (share of same-origin pairs at or above it, share of independent pairs at or above it)
    grid: dict[float, tuple[float, float]]


@dataclass(frozen=True)
class OriginCalibration:
    copy: Measure
    rewrite: Measure


def _measure(name: str, same: Sequence[float], independent: Sequence[float]) -> Measure:
    if not same or not independent:
        raise ConfigError(f"{name}: no pairs to calibrate on")
    low, p95 = float(min(same)), float(np.percentile(np.asarray(independent), INDEPENDENT_PERCENTILE))
    threshold = round(round((low + p95) / 2 / 0.05) * 0.05, 2)
    grid = {
        t: (float(np.mean(np.asarray(same) >= t)), float(np.mean(np.asarray(independent) >= t))) for t in GRID
    }
    return Measure(name, threshold, low, len(same), p95, len(independent), grid)


def _republished(text: str) -> str:
    """What a syndication partner does to wire copy (as tests/test_dedup.py has it): its own intro and
    outro instead of the first and last paragraphs, "said" made "told reporters" twice."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    body = "\n".join(paragraphs[1:-1]).replace(" said ", " told reporters ", 2)
    intro = "This story was republished from our wire partner. Sign up for our morning newsletter to get it first."
    outro = "Copyright Partner Media Group. All rights reserved. Follow us on social media for more."
    return f"{intro}\n{body}\n{outro}"


def fnc_story_pairs(data: Path) -> list[tuple[str, str]]:
    """Every pair of distinct FNC-1 bodies about one headline (not labelled unrelated)."""
    csv.field_size_limit(10_000_000)
    with (data / "fnc1" / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = {r["Body ID"]: r["articleBody"] for r in csv.DictReader(f)}
    by_headline: dict[str, set[str]] = defaultdict(set)
    with (data / "fnc1" / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["Stance"] != "unrelated":
                by_headline[r["Headline"]].add(r["Body ID"])
    pairs = {(a, b) for ids in by_headline.values() for a, b in itertools.combinations(sorted(ids), 2)}
    return [(bodies[a], bodies[b]) for a, b in sorted(pairs) if bodies[a].strip() != bodies[b].strip()]


def news_copy_pairs(data: Path) -> list[tuple[str, str]]:
    """Real articles against their excerpt, the page they sit in, and a republished copy."""
    truth = json.loads((data / "news-html" / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [e["articleBody"] for _, e in sorted(truth.items())]
    pairs: list[tuple[str, str]] = []
    for i, body in enumerate(bodies):
        paragraphs = [p for p in body.split("\n") if p.strip()]
        if len(body.split()) < 150 or len(paragraphs) < 4:
            continue
        excerpt = "\n".join(paragraphs[: max(2, int(len(paragraphs) * 0.3))])
        page = f"{bodies[(i + 1) % len(bodies)][:1500]}\n{body}\n{bodies[(i + 2) % len(bodies)][:1500]}"
        pairs += [(body, excerpt), (body, page), (body, _republished(body))]
    return pairs


def network_pairs(fixture: Path) -> list[tuple[str, str]]:
    docs = json.loads(fixture.read_text(encoding="utf-8"))["documents"]
    network = [d["text"] for d in docs if d.get("network")]
    return list(itertools.combinations(network, 2))


def _scores(pairs: Sequence[tuple[str, str]], measure: Callable[[Shingled, Shingled], float]) -> list[float]:
    cache: dict[str, Shingled] = {}

    def of(text: str) -> Shingled:
        found = cache.get(text)
        if found is None:
            found = cache[text] = Shingled.of(text)
        return found

    return [measure(of(a), of(b)) for a, b in pairs]


def calibrate_origins(data: Path, fixture: Path = DEFAULT_FIXTURE) -> OriginCalibration:
    for needed in (data / "fnc1" / "train_bodies.csv", data / "news-html" / "ground-truth.json", fixture):
        if not needed.is_file():
            raise ConfigError(f"calibration data not found: {needed}")
    stories = fnc_story_pairs(data)
    copy = _measure(
        "copy_containment",
        _scores(news_copy_pairs(data), Shingled.copy_containment),
        _scores(stories, Shingled.copy_containment),
    )
    rewrite = _measure(
        "rewrite_containment",
        _scores(network_pairs(fixture), Shingled.rewrite_containment),
        _scores(stories, Shingled.rewrite_containment),
    )
    return OriginCalibration(copy, rewrite)


def report(result: OriginCalibration) -> str:
    lines: list[str] = []
    for m in (result.copy, result.rewrite):
        lines += [
            f"{m.name} = {m.threshold}: lowest of {m.same_origin_pairs} same-origin pairs {m.same_origin_min:.3f}, "
            f"95th percentile of {m.independent_pairs} independent pairs {m.independent_p95:.3f}",
            "",
            "| threshold | same-origin pairs at or above | independent pairs at or above |",
            "|---:|---:|---:|",
        ]
        lines += [f"| {t} | {s:.1%} | {i:.1%} |" for t, (s, i) in m.grid.items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with fnc1/ and news-html/")
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE, help="the rewrite-network fixture")
    args = parser.parse_args(argv)
    print(report(calibrate_origins(args.data, args.fixture)))


if __name__ == "__main__":
    main()
