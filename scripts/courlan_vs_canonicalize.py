"""Would courlan's URL normalisation do what corroborate.corpus.dedup.canonicalize_url does? Measured.

    python scripts/courlan_vs_canonicalize.py [--data ../shared/data/news-html] [--tests]

Prints, for courlan.normalize_url non-strict and strict, the URLs whose dedup key would differ: the
cases of tests/corpus/test_dedup.py and the 181 article URLs of news-html, and (strict) URLs of
different articles that would share one key. With --tests it also runs the dedup and discovery tests
with canonicalize_url replaced by each mode and reports which fail. The finding is in the comment above
canonicalize_url: courlan differs in meaning, so the hand-written one stays.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import courlan

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corroborate.corpus.dedup import canonicalize_url  # noqa: E402

TEST_CASES = [  # tests/corpus/test_dedup.py::test_canonicalize_url_strips_tracking, and its expectations
    "https://www.Reuters.com:443/world/europe/story-id?utm_source=twitter&utm_medium=social&id=42#comments",
    "http://example.com:80/a?fbclid=IwAR0x&gclid=abc&mc_cid=1&mc_eid=2",
    "https://example.com/a?ref=tw&cmpid=rss&ocid=msn&page=2",
    "https://EXAMPLE.com?",
    "http://127.0.0.1:8080/news/x.html?UTM_Campaign=x",
    "https://example.com/search?q=a+b%2Fc&utm_term=z",
]
PLUGIN = """
import courlan
import corroborate.corpus.dedup as dedup
import sys
original = dedup.canonicalize_url
def courlan_key(url):
    try:
        return courlan.normalize_url(url.strip(), strict={strict})
    except Exception:
        return url.strip()
for module in list(sys.modules.values()):
    if getattr(module, "canonicalize_url", None) is original:
        module.canonicalize_url = courlan_key
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "news-html")
    parser.add_argument("--tests", action="store_true", help="also run the dedup tests with courlan's keys")
    args = parser.parse_args()
    urls = [v["url"] for v in json.loads((args.data / "ground-truth.json").read_text()).values()]
    for strict in (False, True):
        print(f"courlan.normalize_url(strict={strict})")
        for name, cases in (("test cases", TEST_CASES), ("news-html URLs", urls)):
            differ = [(u, canonicalize_url(u), courlan.normalize_url(u, strict=strict)) for u in cases]
            differ = [d for d in differ if d[1] != d[2]]
            print(f"  {name}: {len(differ)} of {len(cases)} keys differ")
            for url, ours, theirs in differ:
                print(f"    {url}\n      ours    {ours}\n      courlan {theirs}")
        shared: dict[str, set[str]] = defaultdict(set)
        for u in urls:
            shared[courlan.normalize_url(u, strict=strict)].add(canonicalize_url(u))
        merged = {k: v for k, v in shared.items() if len(v) > 1}
        print(f"  distinct pages sharing one courlan key: {sum(len(v) for v in merged.values())}")
        for key, pages in merged.items():
            print(f"    {key} <- {sorted(pages)}")
        if args.tests:
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "courlan_keys.py").write_text(PLUGIN.format(strict=strict))
                run = subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", "-p", "courlan_keys", "tests/corpus/test_dedup.py",
                     "tests/ingest/test_discover.py"],
                    cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": folder, "PATH": "/usr/bin:/bin"},
                )
                failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
                print(f"  dedup and discovery tests failing with courlan's keys: {len(failed)}")
                for line in failed:
                    print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
