"""Per-category accuracy and confusion of a sentence judge on the robustness suite (issue 22, item 4).

    python scripts/robustness.py [--judge DIR] [--precision auto|float32|bfloat16] [--errors]

The suite is ``tests/judge/robustness_pairs.py`` (invented claim / evidence pairs in eight categories:
antonym denials, denials in context, agreement in other forms, same-entity neutral facts, rumour relays,
numbers and dates, invariance to "Update:" / ", officials said", direction under negation). Every pair goes
through ``corroborate.judge.reading.judge_pairs``, the path ``check`` uses; agree / disagree / discuss or
unrelated are read as entails / contradicts / neutral. ``--judge`` takes a retrained judge's folder (as
written by ``python -m corroborate.training.train_judge``); without it the bundled judge is measured. The
floors that ``tests/judge/test_robustness.py`` asserts are set from this script's figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "judge"))

import robustness_pairs as suite  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judge", type=Path, help="a judge folder (default: the bundled judge)")
    ap.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"))
    ap.add_argument("--errors", action="store_true", help="also list every pair judged wrong")
    args = ap.parse_args(argv)

    from corroborate.judge.reading import Judge

    judge = Judge.load(folder=args.judge, precision=args.precision)
    cases = suite.CASES
    labels = suite.judged_labels(judge, cases)
    acc = suite.accuracy(cases, labels)
    print(f"judge: {args.judge or 'bundled'} ({judge.model.precision}); {len(cases)} pairs\n")
    print("| category | pairs | accuracy |")
    print("|---|---:|---:|")
    for cat in suite.CATEGORIES:
        n = sum(c.category == cat for c in cases)
        print(f"| {cat} | {n} | {acc[cat]:.3f} |")
    total = sum(suite.is_right(c, labels) for c in cases) / len(cases)
    print(f"| all | {len(cases)} | {total:.3f} |")

    short = {suite.E: "ent", suite.C: "con", suite.N: "neu"}
    print("\nconfusion per category (rows: gold, columns: judged)")
    for cat in suite.CATEGORIES:
        counts = suite.confusion(cases, labels, cat)
        print(f"\n{cat}\n         ent  con  neu")
        for gold in suite.LABELS:
            if any(counts[(gold, j)] for j in suite.LABELS):
                print(f"  {short[gold]}  " + "".join(f"{counts[(gold, j)]:5d}" for j in suite.LABELS))
        if cat == "invariance":
            moved = sum(labels[(c.claim, c.evidence)] != labels[(c.claim, c.base)]
                        for c in cases if c.category == cat and c.base)
            print(f"  judged otherwise than its base pair: {moved}")

    if args.errors:
        print("\nwrong pairs")
        for c in cases:
            if not suite.is_right(c, labels):
                got = labels[(c.claim, c.evidence)]
                base = f" (base judged {labels[(c.claim, c.base)]})" if c.base else ""
                print(f"[{c.category}] gold {c.gold}, judged {got}{base}\n  claim:    {c.claim}\n"
                      f"  evidence: {c.evidence}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
