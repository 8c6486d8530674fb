"""Embedding throughput by batch size (the `embed_batch_size` setting), side by side in one process.

The passages are those an ingest of the loopback news site embeds: the 181 saved real pages of
../shared/data/news-html, extracted and split into passages with the shipped settings. Each batch
size encodes the same passages (shuffled once, so lengths mix as in a store's unembedded batches),
in rounds that alternate the sizes, so a change of machine load falls on every size alike. The
vectors of every size are compared with the first size's (minimum cosine): a batch size must not
change what is stored.

    python benchmarks/embed_batch.py [--quick] [--sizes 64,16] [--passages 1000] [--rounds 2]
"""

from __future__ import annotations

import random
import sys
import time

import numpy as np
from common import ROOT, Report, base_args, machine_info, peak_rss_mib

from corroborate.corpus.embed import load_embedder
from corroborate.corpus.passages import split_passages
from corroborate.ingest.extract import extract
from corroborate.settings import load_settings


def loopback_passages() -> list[str]:
    """The passages of the saved real pages, as the ingest splits them."""
    sys.path.insert(0, str(ROOT / "tests"))
    from newssite import DATA_DIR, load_pages

    settings = load_settings({}, environ={})
    out: list[str] = []
    for page in load_pages(DATA_DIR):
        found = extract(page.body.decode(page.charset, "replace"), f"https://news.example/{page.sha}", settings)
        if not found.text:
            continue
        spans = split_passages(found.text, settings.passage_sentences, settings.passage_overlap,
                               settings.max_passage_chars)
        out.extend(found.text[s.start:s.end] for s in spans)
    return out


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--sizes", default="64,32,16,8", help="batch sizes; the first is the reference")
    parser.add_argument("--passages", type=int, help="passages to encode per size (default 1000; quick 200)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report = Report("embed_batch")
    report.note(f"machine: {machine_info()}")
    texts = loopback_passages()
    random.Random(1).shuffle(texts)
    texts = texts[: args.passages or (200 if args.quick else 1000)]
    report.note(f"{len(texts)} passages of the loopback site's pages, {np.mean([len(t) for t in texts]):.0f} "
                f"characters on average")
    embedder = load_embedder()
    embedder.encode(texts[:32])  # first-call allocations
    rates: dict[int, list[float]] = {s: [] for s in sizes}
    reference: np.ndarray | None = None
    cosine: dict[int, float] = {}
    for _ in range(args.rounds):
        for size in sizes:
            start = time.perf_counter()
            vectors = embedder.encode(texts, batch_size=size)
            rates[size].append(len(texts) / (time.perf_counter() - start))
            if reference is None:
                reference = vectors
            cosine[size] = min(cosine.get(size, 1.0), float((vectors * reference).sum(axis=1).min()))
    base = float(np.median(rates[sizes[0]]))
    rows = [[str(s), " / ".join(f"{r:.1f}" for r in rates[s]), f"{np.median(rates[s]) / base:.2f}",
             f"{cosine[s]:.6f}"] for s in sizes]
    report.table(f"Passages embedded per second by batch size ({args.rounds} alternating rounds)",
                 ["batch size", "passages/s per round", f"median vs {sizes[0]}", "min cosine vs first"], rows)
    report.note(f"peak RSS: {peak_rss_mib():.0f} MiB")
    report.save(args.json)


if __name__ == "__main__":
    main()
