"""Which language identification ingest should use: the page's own signals or py3langid, measured.

    python scripts/measure_language_id.py [--data ../shared/data/news-html]

Pages: the 181 real pages of ../shared/data/news-html, labelled by hand (20 are not English: the
labels below were read off every page on which any method disagreed; the rest are English), and
the paragraphs of tests/ingest/language_samples.py written in 21 languages, each in a small page
that declares its language, none, or a wrong one. Every method reads what ingest reads: the page
and the text trafilatura extracted from it.

Methods: "signals" is what extract() did before py3langid (trafilatura's language, which is unset
without a target language, then <html lang> / og:locale / Content-Language, then a stopword vote
among 8 languages); "declared" is the declaration alone; "stopwords" the vote alone; "py3langid"
its model on the extracted text; "ingest" is corroborate.ingest.language.identify_language as shipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ingest"))

import py3langid  # noqa: E402
from language_samples import SAMPLES, sample_page  # noqa: E402

from corroborate.errors import ExtractionError  # noqa: E402
from corroborate.ingest.extract import _declared_language, _tree, extract, guess_language  # noqa: E402
from corroborate.ingest.language import identify_language  # noqa: E402
from corroborate.settings import Settings  # noqa: E402

# pages of the benchmark that are not in English (first 10 hex digits of their sha256); read by hand
NOT_ENGLISH = {
    "0ec95c7261": "ko", "11ea381ad9": "pt", "20b2b64916": "it", "21486419bb": "id", "23aaecd141": "pt",
    "3252222e61": "pt", "3c6d3381ef": "ru", "57b4dafd18": "de", "7837c9d66c": "id", "85439e26c4": "ja",
    "9da36ae471": "ko", "b3c19dd5f0": "pt", "b6fb53e9fb": "it", "ba07d1e647": "de", "c4a3637c66": "ru",
    "c82b3d1d54": "ru", "cc03ddb5ef": "pt", "f105de6e63": "ja", "f6ac15a4d9": "pt", "ff0f958ade": "ru",
}  # fmt: skip
METHODS = ("signals", "declared", "stopwords", "py3langid", "ingest")


def _methods(html: str, text: str) -> dict[str, str | None]:
    root, _ = _tree(html)
    declared = _declared_language(root)
    stop = guess_language(text)
    return {
        "signals": declared or stop,
        "declared": declared,
        "stopwords": stop,
        "py3langid": py3langid.classify(text)[0],
        "ingest": identify_language(text, declared),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "news-html")
    args = parser.parse_args()
    settings = Settings().replace(min_text_chars=50)  # the CJK paragraphs are short in characters
    truth = json.loads((args.data / "ground-truth.json").read_text())
    rows: list[tuple[str, str, dict[str, str | None]]] = []  # (set, true language, answers)
    skipped = 0
    for sha in sorted(truth):
        html = gzip.decompress((args.data / "html" / f"{sha}.html.gz").read_bytes()).decode("utf-8", "replace")
        try:
            text = extract(html, truth[sha]["url"], settings).text
        except ExtractionError:
            skipped += 1
            continue
        rows.append(("news-html", NOT_ENGLISH.get(sha[:10], "en"), _methods(html, text)))
    for lang, declared, text in SAMPLES:
        html = sample_page(declared, text)
        rows.append(("samples", lang, _methods(html, extract(html, "https://example.org/a", settings).text)))
    print(f"pages: {len(rows)} ({skipped} of news-html give no article text and are left out)\n")
    print("| set | pages | " + " | ".join(METHODS) + " |")
    print("|---|---:|" + "---:|" * len(METHODS))
    for subset in ("news-html", "samples", "all"):
        chosen = [r for r in rows if subset in ("all", r[0])]
        cells = [f"{sum(1 for _, t, a in chosen if a[m] == t)}/{len(chosen)}" for m in METHODS]
        print(f"| {subset} | {len(chosen)} | " + " | ".join(cells) + " |")
    non_en = [r for r in rows if r[1] != "en"]
    cells = [f"{sum(1 for _, t, a in non_en if a[m] == t)}/{len(non_en)}" for m in METHODS]
    print(f"| not English | {len(non_en)} | " + " | ".join(cells) + " |")
    # what matters for routing: English read as English, the rest kept out of the English index
    cells = [
        f"{sum(1 for _, t, a in rows if (a[m] == 'en') == (t == 'en') or (a[m] is None and t == 'en'))}/{len(rows)}"
        for m in METHODS
    ]
    print(f"| routed right (en / not en; none = en) | {len(rows)} | " + " | ".join(cells) + " |")
    print("\nwrong answers of 'signals' and 'ingest':")
    for subset, t, a in rows:
        if a["signals"] != t or a["ingest"] != t:
            print(f"  {subset:9} truth {t}: signals {a['signals']}, py3langid {a['py3langid']}, ingest {a['ingest']}")
    texts = [extract(sample_page(d, x), "https://example.org/a", settings).text for _, d, x in SAMPLES] * 20
    started = time.perf_counter()
    for text in texts:
        identify_language(text, None)
    print(f"\nidentify_language: {1000 * (time.perf_counter() - started) / len(texts):.2f} ms a text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
