"""The sentence judge on its own: artefact size, load time, and cross-encoder pairs/s on real
(evidence sentence, claim) pairs from FNC-1 (headline against its best-matching body sentence),
measured in one run with the batch sizes check (one claim's atoms × ~10 documents × 2 sentences)
and stance (batches of 32) use, in float32 and in bfloat16 side by side (``judge_precision``;
bfloat16 only pays where the CPU has it natively, which ``auto`` detects).

    python benchmarks/judge_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import DATA  # noqa: E402

from corroborate import judge_data  # noqa: E402
from corroborate.judge_model import WEIGHTS, JudgeModel, bundled_dir, native_bf16, resolve_precision  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n = 400 if args.quick else 2_000
    size = (bundled_dir() / WEIGHTS).stat().st_size
    pairs = [(p.premise, p.hypothesis) for p in judge_data.load("fnc1", DATA, "dev")[:n]]
    rates: dict[str, list[tuple[int, float]]] = {}
    probs = {}
    for precision in ("float32", "bfloat16"):
        start = time.perf_counter()
        model = JudgeModel.load(precision=precision)
        load = time.perf_counter() - start
        model.predict(pairs[:32])  # warm
        rows = []
        for batch in (20, 32, 64):
            start = time.perf_counter()
            probs[precision] = model.predict(pairs, batch_size=batch)
            rows.append((batch, len(pairs) / (time.perf_counter() - start)))
        rates[precision] = rows
        print(f"judge artefact: {size / 1e6:.1f} MB (int8 rows + fp16); {precision}: load {load:.2f} s")
        for batch, rate in rows:
            print(f"  batch {batch:>3}: {rate:6.1f} pairs/s over {len(pairs):,} FNC-1 sentence pairs")
        print(f"  ratio batch 64 / batch 20: {rows[2][1] / rows[0][1]:.2f}")
    same = float(np.mean(probs["float32"].argmax(1) == probs["bfloat16"].argmax(1)))
    diff = float(np.abs(probs["float32"] - probs["bfloat16"]).mean())
    print(f"auto picks {resolve_precision('auto')} here (native bfloat16: {native_bf16()})")
    print(f"ratio bfloat16 / float32 pairs/s at batch 20: {rates['bfloat16'][0][1] / rates['float32'][0][1]:.2f}; "
          f"same call on {same:.1%} of pairs, mean |Δp| {diff:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
