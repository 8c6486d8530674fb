"""One ad-hoc ``corroborate check "…"`` from the shell, timed as a whole process: cold and warm.

Cold: ``check --no-daemon`` on a data folder no warm checker serves (every run loads the models).
First: the first ``check`` with the background warm checker on (it starts the checker and waits for it).
Warm: the checks after it (the checker answers; the command loads no model). Each row is the median of
``--runs`` fresh processes (wall and CPU of the command itself; the checker's own CPU is not in it), on a
small imported corpus. The checker is stopped at the end.

    python benchmarks/adhoc_check.py [--quick] [--runs N]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, Report, base_args, machine_info

CLAIM = "Firefighters pumped water from dozens of cellars after heavy rain flooded the lower town."
DOCS = [
    ("https://a.example/flood", "a.example", "Heavy rain flooded the lower town overnight. Firefighters pumped "
     "water from dozens of cellars. No one was hurt, the fire brigade said."),
    ("https://b.example/flood", "b.example", "Firefighters pumped water out of dozens of flooded cellars in the "
     "lower town after a night of heavy rain. Nobody was injured."),
    ("https://c.example/bridge", "c.example", "The city council approved a new bridge over the river on Monday."),
]
TARGET_WARM_S = 1.5


def run(cli: list[str], args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one whole ``corroborate`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*cli, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def median_row(label: str, samples: list[tuple[float, float]], target: bool = False) -> list[str]:
    walls = [w for w, _ in samples]
    row = [label, str(len(samples)), f"{statistics.median(walls):.2f}", f"{min(walls):.2f}", f"{max(walls):.2f}",
           f"{statistics.median(c for _, c in samples):.2f}"]
    return [*row, ("yes" if statistics.median(walls) <= TARGET_WARM_S else "NO") if target else ""]


def stop_checker(home: Path) -> None:
    log = home / "checker.log"
    pids = re.findall(r"background checker pid (\d+)", log.read_text()) if log.exists() else []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGTERM)


def main() -> None:
    parser = base_args(__doc__ or "")
    parser.add_argument("--runs", type=int, help="processes per row (default 5, 3 with --quick)")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    report = Report("adhoc_check")
    report.note(f"machine: {machine_info()}")
    cli = [sys.executable, "-m", "corroborate.cli"]
    with tempfile.TemporaryDirectory(prefix="corroborate-bench-adhoc-") as tmp:
        home = Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_")}
        env.update(CORROBORATE_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        docs = Path(tmp) / "docs.jsonl"
        docs.write_text("".join(json.dumps({"url": u, "outlet": o, "title": t[:40], "text": t}) + "\n"
                                for u, o, t in DOCS), encoding="utf-8")
        subprocess.run([*cli, "import", str(docs)], env=env, check=True, cwd=ROOT, capture_output=True)
        check = ["check", "--json", CLAIM]
        cold = [run(cli, [*check[:1], "--no-daemon", *check[1:]], env) for _ in range(runs)]
        try:
            first = [run(cli, check, {**env, "CORROBORATE_CHECKER_DAEMON": "1"})]
            warm = [run(cli, check, {**env, "CORROBORATE_CHECKER_DAEMON": "1"}) for _ in range(runs)]
        finally:
            stop_checker(home)
        base = [run([sys.executable, "-c", "pass"], [], env) for _ in range(runs)]
    headers = ["process", "runs", "median wall s", "min s", "max s", "median CPU s", f"≤ {TARGET_WARM_S} s"]
    report.table(f"`corroborate check --json \"…\"`, whole process, {runs} runs each", headers, [
        median_row("check --no-daemon (cold: loads the models)", cold),
        median_row("first check (starts the warm checker, waits for it)", first),
        median_row("check with the warm checker running", warm, target=True),
        median_row("python -c pass", base),
    ])
    report.note("CPU is the command's own; the warm checker's is not counted (it is another process).")
    report.save(args.json)


if __name__ == "__main__":
    main()
