"""Helpers shared by the benchmarks: timers, percentiles, RSS, tables, real sentences and their vectors.

Every benchmark prints its tables and, with ``--json PATH``, also writes them as JSON so
``run_all.py --write-doc`` can put them into docs/performance.md. Vectors of real sentences are
cached under /tmp/corroborate-bench so the model runs once per machine, not once per benchmark.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
# the team's shared data folder sits beside the repository, as in CI
DATA = Path(os.environ.get("CORROBORATE_BENCH_DATA", str(ROOT.parent / "shared" / "data")))
CACHE = Path(os.environ.get("CORROBORATE_BENCH_CACHE", "/tmp/corroborate-bench"))
HELD_OUT = 300  # real sentences never put into an index: 100 tune nprobe/efSearch, 200 measure recall

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# -- measuring ------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mib() -> float:
    """Resident memory now, from /proc (getrusage only knows the peak)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def __call__(self) -> Iterator[Timer]:
        start = time.perf_counter()
        try:
            yield self
        finally:
            self.seconds += time.perf_counter() - start


@contextmanager
def timed() -> Iterator[Timer]:
    t = Timer()
    with t():
        yield t


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# -- reporting ------------------------------------------------------------------------------------


class Report:
    """Tables and notes of one benchmark; printed as they come, saved as JSON at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.tables: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[str(c) for c in r] for r in rows]
        self.tables.append({"title": title, "headers": list(headers), "rows": cells})
        print(f"\n{title}")
        print(markdown_table(headers, cells))
        sys.stdout.flush()

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(text)
        sys.stdout.flush()

    def save(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(json.dumps({"name": self.name, "seconds": round(time.perf_counter() - self.started),
                                        "tables": self.tables, "notes": self.notes}, indent=1))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    info = {"cpus": str(os.cpu_count()), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "load average (1/5/15 min)": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    try:
        import faiss
        import torch

        info.update(torch=torch.__version__, faiss=faiss.__version__, torch_threads=str(torch.get_num_threads()))
    except ImportError:
        pass
    return info


# -- real text ------------------------------------------------------------------------------------


def fnc_bodies() -> list[str]:
    csv.field_size_limit(10_000_000)
    with (DATA / "fnc1" / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        return [row["articleBody"] for row in csv.DictReader(f)]


def fnc_headlines() -> list[str]:
    """Unique FNC-1 headlines in file order: real claims."""
    seen: dict[str, None] = {}
    with (DATA / "fnc1" / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            seen.setdefault(" ".join(row["Headline"].split()), None)
    return list(seen)


def _fnc_sentences() -> list[str]:
    from corroborate.corpus.passages import sentence_spans

    out: list[str] = []
    for body in fnc_bodies():
        for a, b in sentence_spans(body):
            s = " ".join(body[a:b].split())
            if 30 <= len(s) <= 600:
                out.append(s)
    return out


def _snli_sentences() -> list[str]:
    out: list[str] = []
    with (DATA / "snli" / "train_subset.tsv").open(encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                out.extend(parts[1:])
    return out


def real_sentences() -> list[str]:
    """All distinct real sentences, news first-class: FNC-1 body sentences interleaved 1:1 with SNLI.

    The order is fixed, so any prefix is a stable sample and the vector cache can grow by appending.
    """
    path = CACHE / "sentences.json"
    if path.exists():
        cached: list[str] = json.loads(path.read_text(encoding="utf-8"))
        return cached
    fnc, snli = _fnc_sentences(), _snli_sentences()
    seen: set[str] = set()
    merged: list[str] = []
    for i in range(max(len(fnc), len(snli))):
        for pool in (fnc, snli):
            if i < len(pool) and pool[i] not in seen:
                seen.add(pool[i])
                merged.append(pool[i])
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged), encoding="utf-8")
    return merged


def sentence_vectors(n: int, log: bool = True) -> tuple[list[str], npt.NDArray[np.float32]]:
    """The first ``n`` real sentences and their MiniLM vectors, embedding only what the cache lacks."""
    from corroborate.corpus.embed import MODEL_NAME, load_embedder

    sentences = real_sentences()[:n]
    key = hashlib.sha256(MODEL_NAME.encode()).hexdigest()[:12]
    vec_path = CACHE / f"vectors-{key}.npy"
    have = np.load(vec_path) if vec_path.exists() else np.zeros((0, 384), dtype=np.float32)
    if len(have) < len(sentences):
        embedder = load_embedder()
        missing = sentences[len(have):]
        parts = [have]
        start = time.perf_counter()
        for i in range(0, len(missing), 2048):
            parts.append(embedder.encode(missing[i : i + 2048], batch_size=64))
            done = i + len(parts[-1])
            if log:
                rate = done / (time.perf_counter() - start)
                print(f"  embedding real sentences for the cache: {done}/{len(missing)} ({rate:.0f}/s)",
                      file=sys.stderr, flush=True)
            # save as we go so an interrupted run keeps what it paid for
            np.save(vec_path, np.concatenate(parts).astype(np.float32))
        have = np.load(vec_path)
    return sentences, np.ascontiguousarray(have[: len(sentences)], dtype=np.float32)


def variants(base: npt.NDArray[np.float32], n: int, sigma: float = 0.025, seed: int = 0,
             chunk: int = 100_000) -> Iterator[npt.NDArray[np.float32]]:
    """``n`` vectors in chunks: the real ones first, then real + Gaussian noise, renormalised.

    sigma 0.025 per dimension puts a variant at cosine ~0.93 from its source: near-duplicates
    (syndicated copies, rewrites) that make approximate search work for its recall.
    """
    rng = np.random.default_rng(seed)
    made = 0
    while made < n:
        take = min(chunk, n - made)
        rows = (np.arange(made, made + take) % len(base)).astype(np.int64)
        out = base[rows].copy()
        noisy = np.arange(made, made + take) >= len(base)
        if noisy.any():
            out[noisy] += rng.normal(0.0, sigma, size=(int(noisy.sum()), base.shape[1])).astype(np.float32)
            out[noisy] /= np.linalg.norm(out[noisy], axis=1, keepdims=True)
        made += take
        yield out


def loopback_settings(home: Path, **overrides: Any) -> Any:
    """The tests' loopback settings (fast, private addresses allowed), without importing pytest."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_loopback_settings

    return make_loopback_settings(home, **overrides)


def base_args(description: str) -> Any:
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for iterating")
    parser.add_argument("--json", type=Path, help="also write the tables here")
    return parser
