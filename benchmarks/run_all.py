"""Run every benchmark, each in its own process (so peak RSS is per benchmark), and print it all.

    python benchmarks/run_all.py [--quick] [--only index_scale,check] [--write-doc] [--doc-only]

--quick uses small sizes (minutes); the full run (the goals' sizes: a 100k-document import, check at
100k and 1M passages, indexes to 1M; an hour or more on 2 cores) is what docs/performance.md records.
Each benchmark's tables are kept as JSON in --results (default /tmp/corroborate-bench/results).
--write-doc replaces the text between the results markers of docs/performance.md; --doc-only
does that from the kept JSON without running anything (after running benchmarks one by one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "performance.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
BENCHMARKS = ["coldstart", "ingest", "import_volume", "index_scale", "check", "attribution", "long_article"]
# The full run measures the goals' sizes (docs/performance.md, "Second round"); --quick overrides them.
FULL_ARGS = {
    "import_volume": ["--docs", "100000", "--sentences", "1", "--embed-sample", "20000"],
    "check": ["--sizes", "100000,1000000"],
}


def _load_note(note: str) -> str:
    """The machine note of a benchmark, shortened to what changes between runs: the load when it started."""
    import ast

    try:
        info = ast.literal_eval(note.split(":", 1)[1].strip())
        return f"load average (1/5/15 min) when it started: {info['load average (1/5/15 min)']}"
    except (ValueError, SyntaxError, KeyError):
        return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--write-doc", action="store_true", help=f"rewrite the results section of {DOC}")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per benchmark")
    parser.add_argument("--results", type=Path, default=Path("/tmp/corroborate-bench/results"))
    parser.add_argument("--doc-only", action="store_true", help="write the doc from kept results; run nothing")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else BENCHMARKS
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(HERE))
    from common import machine_info, markdown_table

    results: list[dict[str, object]] = []
    failed: list[str] = []
    args.results.mkdir(parents=True, exist_ok=True)
    for name in names:
        out = args.results / f"{name}.json"
        if args.doc_only:
            if out.exists():
                results.append(json.loads(out.read_text()))
            else:
                failed.append(name)
            continue
        out.unlink(missing_ok=True)
        cmd = [sys.executable, str(HERE / f"{name}.py"), "--json", str(out)]
        cmd += ["--quick"] if args.quick else FULL_ARGS.get(name, [])
        print(f"\n===== {name} =====", flush=True)
        start = time.perf_counter()
        try:
            code = subprocess.run(cmd, cwd=HERE, timeout=args.timeout, env={**os.environ}).returncode
        except subprocess.TimeoutExpired:
            code = -1
            print(f"{name}: stopped after {args.timeout:.0f} s", flush=True)
        took = time.perf_counter() - start
        print(f"===== {name}: {'ok' if code == 0 else f'FAILED ({code})'} in {took:.0f} s =====", flush=True)
        if code == 0 and out.exists():
            data = json.loads(out.read_text())
            results.append(data)
        else:
            failed.append(name)
    args.write_doc = args.write_doc or args.doc_only
    if args.write_doc:
        info = machine_info()
        lines = [START, "",
                 f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/run_all.py"
                 f"{' --quick' if args.quick else ''}{' --doc-only' if args.doc_only else ' --write-doc'}`.", "",
                 markdown_table(["machine", ""], [[k, v] for k, v in info.items()]), ""]
        for r in results:
            lines += [f"### {r['name']}" + (f" ({r['seconds']} s)" if "seconds" in r else ""), ""]
            for t in r["tables"]:  # type: ignore[attr-defined]
                lines += [f"**{t['title']}**", "", markdown_table(t["headers"], t["rows"]), ""]
            notes = [_load_note(n) if n.startswith("machine:") else n for n in r["notes"]]  # type: ignore[attr-defined]
            lines += [f"- {n}" for n in notes] + ([""] if notes else [])
        if failed:
            lines += [f"Did not finish: {', '.join(failed)}.", ""]
        lines.append(END)
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
        if START not in text or END not in text:
            text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        DOC.write_text(head + "\n".join(lines) + tail, encoding="utf-8")
        print(f"\nwrote the results into {DOC}")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
