"""Cold start of the CLI: ``corroborate --help / settings / --version`` beside ``python -c pass``.

Median wall time of 5 fresh processes each (target < 0.5 s), then the modules that
``import corroborate.cli`` spends most time on (``python -X importtime``, cumulative).

    python benchmarks/coldstart.py [--quick]
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, Report, base_args, machine_info

HEAVY = ("torch", "sentence_transformers", "faiss", "spacy", "prefect", "trafilatura", "sklearn", "transformers",
         "httpx", "numpy", "scipy", "joblib", "rich")


def wall(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and median CPU (user + sys) seconds; CPU time barely moves when other work shares the cores."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def import_times(env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) for every module importing corroborate.cli pulls in."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import corroborate.cli"], env=env,
                          capture_output=True, text=True, check=True, cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
        rows.append((int(cum_us), int(self_us), name))
    return rows


def main() -> None:
    args = base_args(__doc__ or "").parse_args()
    report = Report("coldstart")
    report.note(f"machine: {machine_info()}")
    runs = 3 if args.quick else 5
    exe = shutil.which("corroborate", path=os.path.dirname(sys.executable)) or shutil.which("corroborate")
    cli = [exe] if exe else [sys.executable, "-m", "corroborate.cli"]
    with tempfile.TemporaryDirectory(prefix="corroborate-bench-cold-") as home:
        env = {**os.environ, "CORROBORATE_HOME": home}
        base, base_cpu = wall([sys.executable, "-c", "pass"], env, runs)
        rows = [["python -c pass", f"{base:.3f}", "", f"{base_cpu:.3f}", ""]]
        for shown, argv in (("corroborate --help", [*cli, "--help"]), ("corroborate settings", [*cli, "settings"]),
                            ("corroborate --version", [*cli, "--version"]),
                            ("python -c 'import corroborate.cli'", [sys.executable, "-c", "import corroborate.cli"])):
            t, c = wall(argv, env, runs)
            rows.append([shown, f"{t:.3f}", f"{t - base:.3f}", f"{c:.3f}", "yes" if t < 0.5 else "NO"])
        report.table(f"CLI cold start, median of {runs} fresh processes (s)",
                     ["command", "wall s", "wall minus python startup", "CPU s (user+sys)", "wall < 0.5 s"], rows)
        times = import_times(env)
    top = sorted(times, reverse=True)[:15]
    report.table("`python -X importtime -c 'import corroborate.cli'`, top by cumulative time",
                 ["module", "cumulative ms", "self ms"],
                 [[name, f"{cum / 1000:.1f}", f"{own / 1000:.1f}"] for cum, own, name in top])
    heavy = sorted({name.strip().split(".")[0] for _, _, name in times} & set(HEAVY))
    report.note("heavy libraries imported by `import corroborate.cli`: " + (", ".join(heavy) or "none"))
    report.save(args.json)


if __name__ == "__main__":
    main()
