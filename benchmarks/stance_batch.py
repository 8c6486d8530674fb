"""`corroborate stance PAIRS.csv -o OUT.csv` on the contract's workload: 25,000 pairs over 900
distinct long FNC-1 bodies (the claims are FNC-1 headlines). The contract: under 15 minutes on
this 2-core machine. Prints wall time, pairs/s and the ratio to the budget.

    python benchmarks/stance_batch.py [--quick]     # --quick: 2,500 pairs over 90 bodies
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA  # noqa: E402

BUDGET_S = 15 * 60


def build(pairs_path: Path, n_pairs: int, n_bodies: int) -> None:
    csv.field_size_limit(sys.maxsize)
    with (DATA / "fnc1" / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = {r["Body ID"]: r["articleBody"] for r in csv.DictReader(f)}
    with (DATA / "fnc1" / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        stances = list(csv.DictReader(f))
    ids = sorted(bodies, key=int)
    random.Random(0).shuffle(ids)
    keep = ids[:n_bodies]
    headlines = sorted({r["Headline"] for r in stances})
    rng = random.Random(1)
    own = [r for r in stances if r["Body ID"] in set(keep)]
    rows = [(r["Headline"], bodies[r["Body ID"]]) for r in own]
    while len(rows) < n_pairs:  # top up: more headlines against the same bodies
        rows.append((rng.choice(headlines), bodies[rng.choice(keep)]))
    with pairs_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "claim", "evidence"])
        for i, (claim, body) in enumerate(rows[:n_pairs]):
            w.writerow([f"p{i}", claim, body])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    n_pairs, n_bodies = (2_500, 90) if args.quick else (25_000, 900)
    with tempfile.TemporaryDirectory() as tmp:
        pairs, out = Path(tmp) / "pairs.csv", Path(tmp) / "out.csv"
        build(pairs, n_pairs, n_bodies)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "corroborate.cli", "--home", tmp, "stance", str(pairs), "-o", str(out)],
                       check=True)
        wall = time.perf_counter() - start
        with out.open(encoding="utf-8") as f:
            written = sum(1 for _ in csv.DictReader(f))
    budget = BUDGET_S * n_pairs / 25_000
    print(f"stance batch: {written:,} pairs over {n_bodies} bodies in {wall:.1f} s "
          f"({written / wall:.0f} pairs/s); budget {budget:.0f} s; wall/budget = {wall / budget:.2f}")
    return 0 if written == n_pairs else 1


if __name__ == "__main__":
    sys.exit(main())
