"""A very long article (5 MB of text, under the 5 MB `max_bytes` cap): memory and time of splitting it into claims.

`corroborate article` on a 4.8 MB text once held 0.9 GB and more (issue 12, item 5). What grew with
the text, before any claim was judged:

- spaCy's memory while it parses grows with the characters parsed together (about 3.5 kB per
  character): the text went to ``nlp.pipe`` in batches of 64 blocks of up to 100,000 characters, so
  a text without blank lines (one huge paragraph) was parsed a few MB at a time (3.4 GB for 1 MB);
- the article's MinHash (to leave copies of it out of its evidence) hashed every 5-word shingle
  under every permutation in one numpy array: 1.1 GB for 4.8 MB.

Each text is split in a child process of its own, so each peak RSS is that text's alone. The
text is real news: FNC-1 article paragraphs, shuffled with a fixed seed and repeated to the size,
once as paragraphs (blank lines between) and once as one paragraph without a line break. Growth is
the peak over the loaded, warmed-up spaCy pipeline; the budget is a bound on it whatever the
text's shape, and the time per MB of the long article is compared with a short one's (1 = linear).
The "before" rows run the old block and batch sizes (and the old one-call MinHash) side by side.

    python benchmarks/long_article.py [--quick] [--mb 5]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Report, base_args, fnc_bodies, machine_info, peak_rss_mib

# Peak growth over the loaded pipeline allowed while a text is split and fingerprinted, whatever its
# shape: one parse batch (PIPE_BATCH_CHARS) and the fingerprint's arrays, plus what grows with the
# text (the sentences kept for the report and the shingles of the fingerprint).
BUDGET_FIXED_MIB = 100
BUDGET_PER_MB_MIB = 40
SMALL_CHARS = 50_000


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(path: Path, old: bool, split_it: bool) -> dict[str, Any]:
    """Split one text as `corroborate article` does (unless not ``split_it``) and fingerprint it, measuring each."""
    from corroborate.claims import sentences as claims
    from corroborate.corpus import dedup

    if old:  # the sizes before issue 12, item 5: blocks of 100,000 characters, 64 of them per batch
        claims.MAX_BLOCK_CHARS = 100_000
        claims.PIPE_BATCH_CHARS = 10**12
        dedup.MINHASH_SLICE = 10**12
    text = path.read_text(encoding="utf-8")
    claims.split_claims("The council approved the budget on Monday. " * 40)  # warm up the pipeline
    base = peak_rss_mib()
    wall, cpu = time.perf_counter(), _cpu()
    sentences = claims.split_claims(text) if split_it else []
    split = {"seconds": time.perf_counter() - wall, "cpu": _cpu() - cpu, "peak": peak_rss_mib()}
    wall, cpu = time.perf_counter(), _cpu()
    dedup.minhash_signature(text)
    dedup.Shingled.of(text)
    mark = {"seconds": time.perf_counter() - wall, "cpu": _cpu() - cpu, "peak": peak_rss_mib()}
    return {"chars": len(text), "sentences": len(sentences), "claims": sum(s.is_claim for s in sentences),
            "base": base, "split": split, "fingerprint": mark}


def make_text(chars: int, one_paragraph: bool, seed: int = 0) -> str:
    paragraphs = [p.strip() for body in fnc_bodies() for p in body.split("\n") if len(p.strip()) > 40]
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < chars:
        rng.shuffle(paragraphs)
        for p in paragraphs:
            if size >= chars:
                break
            out.append(p)
            size += len(p) + 2
    return (" " if one_paragraph else "\n\n").join(out)[:chars]


def measure(text: str, folder: Path, name: str, old: bool = False, split: bool = True) -> dict[str, Any]:
    path = folder / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    argv = [sys.executable, __file__, "--child", str(path)] + (["--old"] if old else [])
    argv += [] if split else ["--fingerprint-only"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--mb", type=float, help="size of the long article in MB (default 5, quick 1)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--old", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fingerprint-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.old, not args.fingerprint_only)))
        return
    report = Report("long_article")
    report.note(f"machine: {machine_info()}")
    big = int((args.mb or (1 if args.quick else 5)) * 1_000_000)
    runs: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="corroborate-bench-article-") as tmp:
        folder = Path(tmp)
        long_text = make_text(big, False)
        runs.append(("paragraphs, short", measure(make_text(SMALL_CHARS, False), folder, "short")))
        runs.append(("paragraphs, long", measure(long_text, folder, "long")))
        runs.append(("one paragraph, long", measure(make_text(big, True), folder, "one-paragraph")))
        # the old sizes, on texts they survive: 200 kB as one paragraph (two 100,000-character blocks)
        # for spaCy, and the long article's fingerprint alone for the one-call MinHash
        one = make_text(200_000, True)
        runs.append(("one paragraph, 200 kB", measure(one, folder, "one-200k")))
        runs.append(("one paragraph, 200 kB (before)", measure(one, folder, "one-200k-old", old=True)))
        runs.append(("paragraphs, long: fingerprint only", measure(long_text, folder, "mark", split=False)))
        runs.append(("paragraphs, long: fingerprint only (before)",
                     measure(long_text, folder, "mark-old", old=True, split=False)))

    rows = []
    for name, r in runs:
        mb = r["chars"] / 1e6
        split, mark = r["split"], r["fingerprint"]
        grew = split["peak"] - r["base"]
        split_cells = ([f"{r['sentences']:,}", f"{r['claims']:,}", f"{grew:.0f}", f"{grew / mb:.0f}",
                        f"{split['seconds']:.1f}", f"{split['cpu'] / mb:.1f}"] if r["sentences"] else ["–"] * 6)
        rows.append([name, f"{mb:.2f}", f"{r['base']:.0f}", *split_cells,
                     f"{mark['peak'] - r['base']:.0f}", f"{mark['seconds']:.1f}"])
    report.table(
        "Splitting an article into claims, then its fingerprint (MinHash + shingles), each text in its own process",
        ["text", "MB", "pipeline MiB", "sentences", "claims", "split: peak growth MiB", "MiB per MB", "split s",
         "CPU s per MB", "with fingerprint: peak growth MiB", "fingerprint s"],
        rows,
    )
    by = dict(runs)
    short, long_, one_long = by["paragraphs, short"], by["paragraphs, long"], by["one paragraph, long"]

    def per_mb(r: dict[str, Any]) -> float:
        return float(r["split"]["cpu"]) / (r["chars"] / 1e6)

    growth = max(r["fingerprint"]["peak"] - r["base"] for r in (long_, one_long))
    budget = BUDGET_FIXED_MIB + BUDGET_PER_MB_MIB * big / 1e6
    report.note(f"CPU time per MB, long / short article: {per_mb(long_) / per_mb(short):.2f} (1 = linear); "
                f"one paragraph / paragraphs: {per_mb(one_long) / per_mb(long_):.2f}")
    report.note(f"peak growth of the long article, either shape: {growth:.0f} MiB "
                f"(budget {budget:.0f} MiB: {'met' if growth <= budget else 'NOT met'})")
    before, after = by["one paragraph, 200 kB (before)"], by["one paragraph, 200 kB"]
    report.note(f"one 200 kB paragraph, split peak growth before / now: {before['split']['peak'] - before['base']:.0f}"
                f" / {after['split']['peak'] - after['base']:.0f} MiB")
    mark_old, mark_new = by["paragraphs, long: fingerprint only (before)"], by["paragraphs, long: fingerprint only"]
    report.note(f"fingerprint of the long article alone, peak growth before / now: "
                f"{mark_old['fingerprint']['peak'] - mark_old['base']:.0f} / "
                f"{mark_new['fingerprint']['peak'] - mark_new['base']:.0f} MiB, "
                f"{mark_old['fingerprint']['seconds']:.1f} / {mark_new['fingerprint']['seconds']:.1f} s")
    report.save(args.json)


if __name__ == "__main__":
    main()
