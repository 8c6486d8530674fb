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

Template rewrites (dedup.Details, ``TEMPLATE_SIMILARITY``): a network's sites rewording one template
share few 8-grams but nearly all of its details. The measure is the IDF-weighted Jaccard of two texts'
rare words, over a background of news (``--write-frequencies``: the news-html articles and the FNC-1
*dev* stories, one document per story, words in at least 3 documents). Pairs, each split in two parts:

- same origin: every pair of one network in tests/data/template_networks.json (eight invented stories,
  3-4 rewordings each; ``split`` says the part) and the ten pairs of tests/data/rewrite_network.json
  (dev);
- independent: every pair of FNC-1 bodies about one story, split by story (a story: the bodies linked by
  its headlines; dev when sha256 of its lowest body id is 0-2 mod 5), less the pairs the copy and rewrite
  rules already join; and each fixture's independent accounts against its network and one another.

The threshold is the one of 0.30, 0.35, ... 0.70 with the best F1 on the dev pairs (ties: the higher);
precision and recall on the held-out pairs are reported at it. The pairs are unvetted and same-day by
assumption: retrieval asks both of that too, so these are the pairs the rule could join.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corroborate.corpus import dedup
from corroborate.corpus.dedup import DetailFrequencies, Details, Shingled
from corroborate.errors import ConfigError

DEFAULT_FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "rewrite_network.json"
TEMPLATE_FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "template_networks.json"
TEMPLATE_GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(9))  # 0.30 ... 0.70
# (RARE_IDF, MIN_DETAILS) designs compared on the dev pairs, each at its own best threshold
TEMPLATE_DESIGNS = ((1.0, 10), (2.0, 10), (3.0, 0), (3.0, 10), (3.0, 20), (4.0, 10))
FREQUENCIES_MIN_DF = 3  # words in fewer background documents are left out of the table (they count as unseen)
FREQUENCIES_NOTE = (
    "Document frequencies of words (dedup.detail_words) in a background of news, for dedup.Details: the 181 "
    "news-html articles and the FNC-1 train stories of the calibration's dev part, one document per story "
    "(its bodies together). Words in fewer than 3 documents are left out. Written by python -m "
    "corroborate.training.calibrate_origins --write-frequencies."
)
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
class Scores:
    """Precision and recall of one threshold on one part's pairs."""

    threshold: float
    same_origin: int  # pairs
    independent: int
    joined_same: int  # same-origin pairs at or above the threshold
    joined_independent: int  # independent pairs at or above it: the rule's false joins

    @property
    def precision(self) -> float:
        joined = self.joined_same + self.joined_independent
        return self.joined_same / joined if joined else 1.0

    @property
    def recall(self) -> float:
        return self.joined_same / self.same_origin if self.same_origin else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class TemplatePair:
    same_origin: bool
    split: str  # dev | test
    source: str  # template:<network> | rewrite-network | fnc1:<body>-<body> | independent:<network>
    score: float  # dedup.Details.similarity


@dataclass(frozen=True)
class TemplateMeasure:
    """The template-rewrite threshold: chosen on the dev pairs, checked on the held-out ones."""

    threshold: float
    dev: Scores
    test: Scores
    grid: dict[float, Scores]  # dev, every threshold tried
    false_joins: list[TemplatePair]  # independent pairs at or above the threshold, both parts
    missed: list[TemplatePair]  # same-origin pairs below it
    # network -> (sites, groups its sites fall into at the threshold, by transitivity as retrieval joins)
    networks: dict[str, tuple[int, int]]
    already_joined: int  # FNC-1 story pairs the copy and rewrite rules join (left out)
    # (RARE_IDF, MIN_DETAILS) -> dev scores at that design's own best threshold: the shipped pair is compared
    designs: dict[tuple[float, int], Scores]


@dataclass(frozen=True)
class OriginCalibration:
    copy: Measure
    rewrite: Measure
    template: TemplateMeasure | None = None


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


def _fnc_bodies(data: Path) -> dict[str, str]:
    csv.field_size_limit(10_000_000)
    with (data / "fnc1" / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        return {r["Body ID"]: r["articleBody"] for r in csv.DictReader(f)}


def _fnc_headlines(data: Path) -> dict[str, set[str]]:
    """Each FNC-1 headline's bodies that are not labelled unrelated to it."""
    by_headline: dict[str, set[str]] = defaultdict(set)
    with (data / "fnc1" / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["Stance"] != "unrelated":
                by_headline[r["Headline"]].add(r["Body ID"])
    return by_headline


def fnc_story_ids(data: Path) -> list[tuple[str, str]]:
    """Every pair of distinct FNC-1 bodies about one headline (not labelled unrelated), by body id."""
    bodies = _fnc_bodies(data)
    pairs = {(a, b) for ids in _fnc_headlines(data).values() for a, b in itertools.combinations(sorted(ids), 2)}
    return [(a, b) for a, b in sorted(pairs) if bodies[a].strip() != bodies[b].strip()]


def fnc_story_pairs(data: Path) -> list[tuple[str, str]]:
    """Every pair of distinct FNC-1 bodies about one headline (not labelled unrelated)."""
    bodies = _fnc_bodies(data)
    return [(bodies[a], bodies[b]) for a, b in fnc_story_ids(data)]


def fnc_stories(data: Path) -> tuple[dict[str, str], dict[str, str]]:
    """FNC-1 bodies by id, and each body's story: the lowest body id among the bodies its headlines link."""
    bodies = _fnc_bodies(data)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ids in _fnc_headlines(data).values():
        first, *rest = sorted(ids)
        for other in rest:
            parent[root(other)] = root(first)
    members: dict[str, list[str]] = defaultdict(list)
    for body in bodies:
        members[root(body)].append(body)
    story = {b: min(group, key=int) for group in members.values() for b in group}
    return bodies, story


def story_split(story: str) -> str:
    """The calibration part of an FNC-1 story: dev for three in five (by sha256 of its id), test for the rest."""
    return "dev" if int(hashlib.sha256(story.encode()).hexdigest(), 16) % 5 < 3 else "test"


def background_frequencies(data: Path) -> DetailFrequencies:
    """The background for dedup.Details: news-html articles and the FNC-1 dev stories, one document each."""
    truth = json.loads((data / "news-html" / "ground-truth.json").read_text(encoding="utf-8"))
    documents = [e["articleBody"] for _, e in sorted(truth.items())]
    bodies, story = fnc_stories(data)
    by_story: dict[str, list[str]] = defaultdict(list)
    for body_id in sorted(bodies, key=int):
        if story_split(story[body_id]) == "dev":
            by_story[story[body_id]].append(bodies[body_id])
    documents += ["\n".join(texts) for _, texts in sorted(by_story.items(), key=lambda kv: int(kv[0]))]
    return DetailFrequencies.count(documents, min_df=FREQUENCIES_MIN_DF)


def template_text_pairs(
    data: Path, networks: Path = TEMPLATE_FIXTURE, rewrites: Path = DEFAULT_FIXTURE
) -> tuple[list[tuple[bool, str, str, str, str]], int]:
    """(same origin, part, source, text, text) for every calibration pair, and how many FNC-1 story pairs the
    copy and rewrite rules already join (left out: they are one origin whatever this rule says)."""
    pairs: list[tuple[bool, str, str, str, str]] = []
    for net in json.loads(networks.read_text(encoding="utf-8"))["networks"]:
        sites = [d["text"] for d in net["documents"] if d["network"]]
        others = [d["text"] for d in net["documents"] if not d["network"]]
        pairs += [(True, net["split"], f"template:{net['id']}", a, b) for a, b in itertools.combinations(sites, 2)]
        for i, a in enumerate(others):
            pairs += [(False, net["split"], f"independent:{net['id']}", a, b) for b in sites + others[i + 1 :]]
    docs = json.loads(rewrites.read_text(encoding="utf-8"))["documents"]
    sites = [d["text"] for d in docs if d.get("network")]
    others = [d["text"] for d in docs if not d.get("network")]
    pairs += [(True, "dev", "rewrite-network", a, b) for a, b in itertools.combinations(sites, 2)]
    for i, a in enumerate(others):
        pairs += [(False, "dev", "independent:rewrite-network", a, b) for b in sites + others[i + 1 :]]
    bodies, story = fnc_stories(data)
    shingled: dict[str, Shingled] = {}
    already = 0
    for a, b in fnc_story_ids(data):
        for body in (a, b):
            if body not in shingled:
                shingled[body] = Shingled.of(bodies[body])
        sa, sb = shingled[a], shingled[b]
        if sa.copy_containment(sb) >= 0.5 or sa.rewrite_containment(sb) >= 0.15:  # the settings' defaults
            already += 1
            continue
        pairs.append((False, story_split(story[a]), f"fnc1:{a}-{b}", bodies[a], bodies[b]))
    return pairs, already


def score_pairs(
    pairs: Sequence[tuple[bool, str, str, str, str]],
    frequencies: DetailFrequencies,
    rare_idf: float = dedup.RARE_IDF,
    min_details: int = dedup.MIN_DETAILS,
) -> list[TemplatePair]:
    details: dict[str, Details] = {}

    def of(text: str) -> Details:
        found = details.get(text)
        if found is None:
            found = details[text] = Details.of(text, frequencies, rare_idf)
        return found

    return [TemplatePair(same, part, src, of(a).similarity(of(b), min_details)) for same, part, src, a, b in pairs]


def _template_scores(pairs: Sequence[TemplatePair], threshold: float) -> Scores:
    same = [p for p in pairs if p.same_origin]
    independent = [p for p in pairs if not p.same_origin]
    return Scores(
        threshold,
        len(same),
        len(independent),
        sum(p.score >= threshold for p in same),
        sum(p.score >= threshold for p in independent),
    )


def _network_groups(networks: Path, frequencies: DetailFrequencies, threshold: float) -> dict[str, tuple[int, int]]:
    """Each network's sites and the groups they fall into when pairs at or above ``threshold`` are joined."""
    out: dict[str, tuple[int, int]] = {}
    for net in json.loads(networks.read_text(encoding="utf-8"))["networks"]:
        sites = [Details.of(d["text"], frequencies) for d in net["documents"] if d["network"]]
        parent = list(range(len(sites)))
        for i, j in itertools.combinations(range(len(sites)), 2):
            if sites[i].similarity(sites[j]) >= threshold:
                a, b = _root(parent, i), _root(parent, j)
                parent[max(a, b)] = min(a, b)
        out[net["id"]] = (len(sites), len({_root(parent, i) for i in range(len(sites))}))
    return out


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        i = parent[i]
    return i


def _best_threshold(dev: Sequence[TemplatePair]) -> tuple[float, dict[float, Scores]]:
    grid = {t: _template_scores(dev, t) for t in TEMPLATE_GRID}
    return max(TEMPLATE_GRID, key=lambda t: (round(grid[t].f1, 9), t)), grid


def calibrate_templates(
    data: Path, networks: Path = TEMPLATE_FIXTURE, rewrites: Path = DEFAULT_FIXTURE
) -> TemplateMeasure:
    frequencies = background_frequencies(data)
    text_pairs, already = template_text_pairs(data, networks, rewrites)
    pairs = score_pairs(text_pairs, frequencies)
    threshold, grid = _best_threshold([p for p in pairs if p.split == "dev"])
    designs: dict[tuple[float, int], Scores] = {}
    for rare_idf, min_details in TEMPLATE_DESIGNS:
        scored = pairs if (rare_idf, min_details) == (dedup.RARE_IDF, dedup.MIN_DETAILS) else None
        scored = scored or score_pairs(text_pairs, frequencies, rare_idf, min_details)
        best, by_threshold = _best_threshold([p for p in scored if p.split == "dev"])
        designs[(rare_idf, min_details)] = by_threshold[best]
    return TemplateMeasure(
        threshold,
        grid[threshold],
        _template_scores([p for p in pairs if p.split == "test"], threshold),
        grid,
        sorted((p for p in pairs if not p.same_origin and p.score >= threshold), key=lambda p: -p.score),
        sorted((p for p in pairs if p.same_origin and p.score < threshold), key=lambda p: p.score),
        _network_groups(networks, frequencies, threshold),
        already,
        designs,
    )


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


def calibrate_origins(
    data: Path, fixture: Path = DEFAULT_FIXTURE, templates: Path | None = TEMPLATE_FIXTURE
) -> OriginCalibration:
    """All three thresholds (``templates=None``: copies and rewrites only)."""
    for needed in (data / "fnc1" / "train_bodies.csv", data / "news-html" / "ground-truth.json", fixture, templates):
        if needed is not None and not needed.is_file():
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
    template = calibrate_templates(data, templates, fixture) if templates is not None else None
    return OriginCalibration(copy, rewrite, template)


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
    if result.template is not None:
        lines += template_report(result.template)
    return "\n".join(lines)


def template_report(m: TemplateMeasure) -> list[str]:
    def row(part: str, s: Scores) -> str:
        return (
            f"| {part} | {s.threshold} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | "
            f"{s.joined_same} of {s.same_origin} | {s.joined_independent} of {s.independent} |"
        )

    lines = [
        f"template_similarity = {m.threshold} (best F1 on the dev pairs; FNC-1 story pairs the copy and rewrite "
        f"rules already join, left out: {m.already_joined})",
        "",
        "| part | threshold | precision | recall | F1 | same-origin pairs joined | independent pairs joined |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("dev", m.dev),
        row("held-out", m.test),
        "",
        "| dev threshold | precision | recall | F1 | independent pairs joined |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.joined_independent} |" for t, s in m.grid.items()
    ]
    lines += [
        "",
        "| dev: RARE_IDF | MIN_DETAILS | best threshold | precision | recall | F1 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r} | {n} | {s.threshold} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
        for (r, n), s in m.designs.items()
    ]
    lines += [
        "",
        "networks (sites -> groups at the threshold): "
        + ", ".join(f"{name} {sites}->{groups}" for name, (sites, groups) in m.networks.items()),
    ]
    lines += ["", "independent pairs joined (false joins):"]
    lines += [f"- {p.split} {p.source} {p.score:.3f}" for p in m.false_joins]
    lines += ["", "same-origin pairs missed:"]
    lines += [f"- {p.split} {p.source} {p.score:.3f}" for p in m.missed]
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder with fnc1/ and news-html/")
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE, help="the rewrite-network fixture")
    parser.add_argument("--templates", type=Path, default=TEMPLATE_FIXTURE, help="the template-networks fixture")
    parser.add_argument(
        "--write-frequencies",
        type=Path,
        metavar="PATH",
        help=f"write the background word frequencies for dedup.Details to PATH (shipped: {dedup.DETAIL_FREQUENCIES})",
    )
    args = parser.parse_args(argv)
    if args.write_frequencies:
        table = background_frequencies(args.data).to_json(FREQUENCIES_NOTE)
        args.write_frequencies.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        print(f"{args.write_frequencies}: {table['documents']} documents, {len(table['df'])} words")
        return
    print(report(calibrate_origins(args.data, args.fixture, args.templates)))


if __name__ == "__main__":
    main()
