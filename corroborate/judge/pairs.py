"""Batch pairs: ``corroborate stance PAIRS.csv -o OUT.csv`` labels claim/evidence pairs as ``check`` would.

:func:`run_stance_csv` reads the CSV (:func:`read_pairs_csv`), judges every row through
:func:`corroborate.judge.reading.judge_pairs` (the claim's atoms, the evidence sentences closest to each,
the cross-encoder, the attribution rules) and writes id, stance and the four probabilities.

A batch is judged per row: a row whose claim cannot be judged (one word, empty, in a language the judge
does not read, a line with too few fields) is still written, with an empty stance and probabilities and
its reason in the ``problem`` column; the other rows are judged as usual. Only a file that cannot be read
as a CSV of id,claim,evidence at all is refused as a whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from corroborate.errors import ConfigError
from corroborate.judge.model import Progress
from corroborate.judge.reading import Judge, claim_problem
from corroborate.output import check_output, csv_safe, write_output

_OUT_COLUMNS = ("id", "stance", "p_agree", "p_disagree", "p_discuss", "p_unrelated", "problem")
_IN_COLUMNS = ("id", "claim", "evidence")


@dataclass(frozen=True)
class PairRow:
    """One row of a pairs CSV; ``problem`` says why it is not judged ("" when it is)."""

    id: str
    claim: str
    evidence: str
    problem: str = ""


def read_pairs_csv(in_path: Path, any_language: bool = False) -> list[PairRow]:
    """Every row of a UTF-8 CSV with header id,claim,evidence, a refused one with its ``problem`` (naming its
    line); a file that is not such a CSV -> ConfigError. ``any_language``: the judge_any_language setting."""
    try:
        raw = in_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"input file {in_path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"input {in_path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {in_path}: {exc.strerror}") from None
    if b"\x00" in raw:
        raise ConfigError(f"{in_path} looks binary, expected a UTF-8 CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{in_path} is not UTF-8 (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise ConfigError(f"{in_path} is empty; expected a header id,claim,evidence")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[PairRow] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in _IN_COLUMNS if c not in header]
        if missing:
            raise ConfigError(f"{in_path} lacks column(s) {', '.join(missing)}; header must include id,claim,evidence")
        pos = [header.index(c) for c in _IN_COLUMNS]
        for record in reader:
            if not record:
                continue
            line = reader.line_num
            if len(record) < len(header):
                row_id = record[pos[0]] if pos[0] < len(record) else ""
                rows.append(PairRow(row_id, "", "", f"line {line}: {len(record)} fields, header has {len(header)}"))
                continue
            row_id, claim, evidence = (record[i] for i in pos)
            problem = claim_problem(claim, any_language)
            rows.append(PairRow(row_id, claim, evidence, f"line {line}: {problem}" if problem else ""))
    except csv.Error as exc:
        raise ConfigError(f"{in_path} is malformed CSV near line {reader.line_num}: {exc}") from None
    return rows


def run_stance_csv(
    in_path: Path,
    out_path: Path,
    model: Judge | None = None,
    progress: Progress | None = None,
    any_language: bool = False,
) -> int:
    """Label every row of ``in_path`` and write id,stance,p_*,problem to ``out_path``; returns rows written
    (:func:`label_pairs_csv` also says how many were refused)."""
    return label_pairs_csv(in_path, out_path, model, progress, any_language)[0]


def label_pairs_csv(
    in_path: Path,
    out_path: Path,
    model: Judge | None = None,
    progress: Progress | None = None,
    any_language: bool = False,
) -> tuple[int, int]:
    """Label every row of ``in_path`` and write id,stance,p_*,problem to ``out_path``: (rows written, refused).

    Each row is judged as ``check`` judges an evidence text (:func:`corroborate.judge.reading.judge_pairs`:
    the claim's atoms, the evidence sentences closest to each, the cross-encoder, the attribution
    rules), so the CSV says what a check would count.

    ``out_path`` follows :mod:`corroborate.output` (never the input, ``-`` is stdout, devices written in
    place, regular files atomically); an id a spreadsheet would run as a formula gets a leading ``'``.
    """
    rows = read_pairs_csv(Path(in_path), any_language)
    out_path = Path(out_path)
    check_output(out_path, [in_path])
    from corroborate.judge.reading import judge_pairs  # looked up per call: tests replace it

    judged = [r for r in rows if not r.problem]
    results = iter(judge_pairs(model or Judge.load(), [(r.claim, r.evidence) for r in judged], progress=progress)
                   if judged else [])

    def write(fh: TextIO) -> None:
        writer = csv.writer(fh)
        writer.writerow(_OUT_COLUMNS)
        for row in rows:
            if row.problem:
                writer.writerow([csv_safe(row.id), "", "", "", "", "", csv_safe(row.problem)])
                continue
            r = next(results)
            ps = [r.probabilities[k] for k in ("agree", "disagree", "discuss", "unrelated")]
            writer.writerow([csv_safe(row.id), r.stance, *(f"{p:.6f}" for p in _rounded(ps)), ""])

    write_output(out_path, write, [in_path])
    return len(rows), len(rows) - len(judged)


def _rounded(probabilities: Sequence[float]) -> list[float]:
    # Push the rounding residue into the largest probability so the written row sums to 1.
    ps = [round(p, 6) for p in probabilities]
    top = max(range(4), key=lambda i: ps[i])
    ps[top] = round(ps[top] + 1.0 - sum(ps), 6)
    return ps
