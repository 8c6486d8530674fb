"""The sentence judge on its own: artefact size, load time, and cross-encoder pairs/s on real
(evidence sentence, claim) pairs from FNC-1 (headline against its best-matching body sentence),
measured in one run with the batch sizes check (one claim's atoms × ~10 documents × 2 sentences)
and stance (batches of 32) use.

    python benchmarks/judge_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA  # noqa: E402

from corroborate import judge_data  # noqa: E402
from corroborate.judge_model import WEIGHTS, JudgeModel, bundled_dir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n = 400 if args.quick else 2_000
    size = (bundled_dir() / WEIGHTS).stat().st_size
    start = time.perf_counter()
    model = JudgeModel.load()
    load = time.perf_counter() - start
    pairs = [(p.premise, p.hypothesis) for p in judge_data.load("fnc1", DATA, "dev")[:n]]
    model.predict(pairs[:32])  # warm
    rows = []
    for batch in (20, 32, 64):
        start = time.perf_counter()
        model.predict(pairs, batch_size=batch)
        wall = time.perf_counter() - start
        rows.append((batch, len(pairs) / wall))
    print(f"judge artefact: {size / 1e6:.1f} MB (int8 rows + fp16); load {load:.2f} s")
    for batch, rate in rows:
        print(f"  batch {batch:>3}: {rate:6.1f} pairs/s over {len(pairs):,} FNC-1 sentence pairs")
    print(f"  ratio batch 64 / batch 20: {rows[2][1] / rows[0][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
