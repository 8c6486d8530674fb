"""The sentence judge on its own: artefact size, load time, and cross-encoder pairs/s on real
(evidence sentence, claim) pairs from FNC-1 (headline against its best-matching body sentence),
measured in one run with the batch sizes check (one claim's atoms × ~10 documents × 2 sentences)
and stance (batches of 32) use, in float32 and in bfloat16 side by side (``judge_precision``;
bfloat16 only pays where the CPU has it natively, which ``auto`` detects); then the judging path
itself (``Judge.judge_atoms``: sentence choice, the cross-encoder, the rules) on FNC-1 dev
(headline, body) pairs with the two closest sentences also read together (``READ_TOGETHER``, off
by default) and without, side by side.

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

from corroborate.judge.model import WEIGHTS, JudgeModel, bundled_dir, native_bf16, resolve_precision  # noqa: E402
from corroborate.training import judge_data  # noqa: E402


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
    read_together(n // 5)
    return 0


def read_together(n: int) -> None:
    """``Judge.judge_atoms`` with and without the second look at two sentences read together."""
    import corroborate.judge.reading as J
    from corroborate.training.fnc1 import fnc1_rows, fnc1_split_of

    claims, bodies, _, labels, topics = fnc1_rows(DATA)
    keep = [i for i in range(len(claims)) if fnc1_split_of(topics[i]) == "dev" and labels[i] != "unrelated"][:n]
    jobs = [(a, bodies[i]) for i in keep for a in J.claim_atoms(claims[i]) if a.checkable]
    judge = J.Judge.load()
    judge.judge_atoms(jobs[:20])  # warm
    seconds: dict[bool, float] = {}
    asked: dict[bool, int] = {False: 0, True: 0}
    predict = judge.model.predict
    state = {"on": False}

    def counted(pairs: list[tuple[str, str]], **kw: object) -> object:
        asked[state["on"]] += len(pairs)
        return predict(pairs, **kw)  # type: ignore[arg-type]

    judge.model.predict = counted  # type: ignore[method-assign,assignment]
    for on in (False, True):
        J.READ_TOGETHER = state["on"] = on
        start = time.perf_counter()
        judge.judge_atoms(jobs)
        seconds[on] = time.perf_counter() - start
        print(f"judge_atoms, read together {'on' if on else 'off'}: {len(jobs):,} (atom, body) jobs in "
              f"{seconds[on]:.1f} s ({len(jobs) / seconds[on]:.1f} jobs/s); cross-encoder pairs {asked[on]:,}")
    judge.model.predict = predict  # type: ignore[method-assign]
    J.READ_TOGETHER = False
    print(f"ratio read together on / off, seconds: {seconds[True] / seconds[False]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
