"""Attribution matching ("according to TASS", "Xinhua reported") as the registry grows: 10 vs 5,000 outlets.

Each claim's verdict reads up to ``max_documents`` (10) evidence quotes and asks, of each, which
registered outlet it relays. The quotes are real FNC-1 body sentences that carry an attribution cue
("according to", "said", "reported", ...), so the matcher has its real workload. The 10-outlet
registry is the first ten of the bundled outlets.toml; the 5,000-outlet one is every bundled outlet
plus invented names made of capitalised FNC-1 words ("Halvik Evening Post"-like), so the names share
first letters and prefixes as real names do. Both matchers are timed side by side in one run, quote
sets interleaved; the goal is a 5,000/10 ratio of at most 1.2. The matcher that check used before
(two regexes per outlet per quote) is timed too, on fewer quotes, at 10 and 800 outlets (the size at
which check took 2.65 s a claim).

    python benchmarks/attribution.py [--quick]
"""

from __future__ import annotations

import random
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence

from common import ROOT, Report, base_args, fnc_bodies, machine_info, percentile

from corroborate.check.verdict import AttributionMatcher
from corroborate.corpus.passages import sentence_spans

GOAL = 1.2
QUOTES_PER_CLAIM = 10  # settings.max_documents
CUE = re.compile(r"according to|cited by|citing|quoted by|\btold\b|reported|said|reports|says|cited", re.I)
KINDS = ["News", "Times", "Post", "Daily", "Herald", "Tribune", "Gazette", "Observer", "Wire", "Radio",
         "Chronicle", "Courier", "Journal", "Standard", "Express", "Today", "Online", "Network"]


def real_quotes(limit: int) -> list[str]:
    """Real sentences with an attribution cue, as the stance model quotes them."""
    out: list[str] = []
    for body in fnc_bodies():
        for a, b in sentence_spans(body):
            sentence = " ".join(body[a:b].split())
            if 30 <= len(sentence) <= 600 and CUE.search(sentence):
                out.append(sentence)
                if len(out) == limit:
                    return out
    return out


def bundled_names() -> list[str]:
    data = tomllib.loads((ROOT / "corroborate" / "data" / "outlets.toml").read_text(encoding="utf-8"))
    return [o["name"] for o in data["outlet"]]


def invented_names(n: int, quotes: Sequence[str], taken: Iterable[str]) -> list[str]:
    words = sorted({w for q in quotes for w in re.findall(r"\b[A-Z][a-z]{3,}\b", q)})
    rng = random.Random(0)
    seen = set(taken)
    out: list[str] = []
    while len(out) < n:
        name = " ".join(rng.sample(words, rng.choice([1, 2])) + [rng.choice(KINDS)])
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def old_attributed_origin(quote: str, outlet_names: Iterable[str], own: str) -> str | None:
    """What check did before: two regexes per outlet per quote (Python's regex cache holds 512)."""
    for name in outlet_names:
        if name == own or len(name) < 3:
            continue
        n = re.escape(name)
        if re.search(
            rf"\b(?:according to|cited by|citing|quoted by|told)\s+(?:the\s+)?{n}\b", quote, re.I
        ) or re.search(rf"\b{n}\s+(?:news agency\s+)?(?:reported|said|reports|says|cited)\b", quote, re.I):
            return name
    return None


def per_claim_seconds(
    match: Callable[[str], str | None], claims: Sequence[Sequence[str]]
) -> tuple[list[float], list[str | None]]:
    """Seconds per claim, and the answer for each quote."""
    times: list[float] = []
    answers: list[str | None] = []
    for quotes in claims:
        start = time.perf_counter()
        got = [match(q) for q in quotes]
        times.append(time.perf_counter() - start)
        answers += got
    return times, answers


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--rounds", type=int, help="interleaved timing rounds (default 5, quick 3)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    report = Report("attribution")
    report.note(f"machine: {machine_info()}")

    quotes = real_quotes(1_000 if args.quick else 5_000)
    claims = [quotes[i : i + QUOTES_PER_CLAIM] for i in range(0, len(quotes), QUOTES_PER_CLAIM)]
    bundled = bundled_names()
    registries = {10: bundled[:10], 5_000: bundled + invented_names(5_000 - len(bundled), quotes, bundled)}
    matchers: dict[int, AttributionMatcher] = {}
    build_ms: dict[int, float] = {}
    for size, names in registries.items():
        start = time.perf_counter()
        matchers[size] = AttributionMatcher(names)
        build_ms[size] = (time.perf_counter() - start) * 1000
    found = {size: sum(1 for q in quotes if m.match(q, "Paper")) for size, m in matchers.items()}

    # interleaved so that load on the machine falls on both sizes alike
    times: dict[int, list[float]] = {size: [] for size in matchers}
    for _ in range(rounds):
        for size, m in matchers.items():
            times[size] += per_claim_seconds(lambda q, m=m: m.match(q, "Paper"), claims)[0]

    def row(size: int) -> list[str]:
        t = times[size]
        return [f"{size:,}", f"{build_ms[size]:.0f}", f"{percentile(t, 50) * 1e3:.3f}",
                f"{percentile(t, 95) * 1e3:.3f}", f"{sum(t) / len(t) * 1e3:.3f}", f"{found[size]}"]

    report.table(
        f"Attribution matching per claim ({QUOTES_PER_CLAIM} evidence quotes; {len(quotes):,} real quotes, "
        f"{rounds} interleaved rounds)",
        ["outlets", "build ms (once)", "p50 ms/claim", "p95 ms/claim", "mean ms/claim", "quotes attributed"],
        [row(size) for size in matchers],
    )
    mean = {size: sum(t) / len(t) for size, t in times.items()}
    p50 = {size: percentile(t, 50) for size, t in times.items()}
    ratio_mean, ratio_p50 = mean[5_000] / mean[10], p50[5_000] / p50[10]
    report.note(f"ratio 5,000 / 10 outlets: mean {ratio_mean:.2f}, p50 {ratio_p50:.2f} (goal <= {GOAL})")

    # the matcher check used before, for scale: on fewer claims, it is slow at 800 outlets
    old_claims = claims[: 20 if args.quick else 50]
    old_rows = []
    for size, names in [(10, registries[10]), (800, registries[5_000][:800])]:
        ordered = sorted(names, key=len, reverse=True)
        t, before = per_claim_seconds(lambda q, ordered=ordered: old_attributed_origin(q, ordered, "Paper"),
                                      old_claims)
        new = AttributionMatcher(names)
        agree = sum(a == new.match(q, "Paper") for a, q in zip(before, (q for c in old_claims for q in c),
                                                                strict=True))
        old_rows.append([f"{size:,}", f"{sum(t) / len(t) * 1e3:.1f}", f"{agree}/{sum(len(c) for c in old_claims)}"])
    report.table(f"Before: two regexes per outlet per quote ({len(old_claims)} claims)",
                 ["outlets", "mean ms/claim", "same answer as the matcher"], old_rows)
    report.save(args.json)
    print(f"attribution: 5,000/10 outlets = {ratio_mean:.2f} (mean), {ratio_p50:.2f} (p50); goal <= {GOAL}")


if __name__ == "__main__":
    main()
