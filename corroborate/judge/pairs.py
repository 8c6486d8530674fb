"""Stance of evidence towards a claim: agree / disagree / discuss / unrelated, with probabilities.

The model is the two-stage gradient-boosting recipe of :mod:`corroborate.training.train_stance` over the
features of :mod:`corroborate.training.stance_features`; the bundled artefact is ``data/stance.joblib``.
:func:`run_stance_csv` is the library side of ``corroborate stance PAIRS.csv -o OUT.csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from corroborate.corpus.embed import Embedder, load_embedder
from corroborate.corpus.trust import open_own_file
from corroborate.errors import ConfigError, ModelError
from corroborate.judge.reading import Judge, claim_problem
from corroborate.output import check_output, csv_safe, write_output
from corroborate.training.stance_features import FEATURE_NAMES, build_matrix, embedding_blocks, prepare
from corroborate.training.train_stance import FORMAT_VERSION, LABELS, combine, project

Progress = Callable[[int, int], None]
_REQUIRED_KEYS = (
    "format_version", "labels", "feature_names", "nli_head", "tfidf", "stage1", "stage2", "projections",
)


@dataclass(frozen=True)
class StanceResult:
    """The stance of one evidence text towards one claim."""

    label: str  # "agree" | "disagree" | "discuss" | "unrelated"
    p_agree: float
    p_disagree: float
    p_discuss: float
    p_unrelated: float
    quote: str  # the evidence sentence most relevant to the claim
    quote_start: int  # offsets of quote within the evidence string
    quote_end: int

    @property
    def probabilities(self) -> dict[str, float]:
        return {
            "agree": self.p_agree,
            "disagree": self.p_disagree,
            "discuss": self.p_discuss,
            "unrelated": self.p_unrelated,
        }


class StanceModel:
    """A loaded stance artefact plus the embedder its features need."""

    def __init__(self, artefact: dict[str, Any], embedder: Embedder) -> None:
        self._artefact = artefact
        self._embedder = embedder

    @classmethod
    def load(cls, path: Path | None = None, embedder: Embedder | None = None) -> StanceModel:
        """Load ``path`` (None = the bundled model); a missing or unusable file is a :class:`ModelError`."""
        import joblib

        try:
            if path is None:
                with resources.as_file(resources.files("corroborate") / "data" / "stance.joblib") as bundled:
                    artefact = joblib.load(bundled)
                where = "bundled stance model"
            else:
                with open_own_file(path, "stance model") as fh:  # unpickling runs code: only the user's own file
                    artefact = joblib.load(fh)
                where = f"stance model {path}"
        except ModelError:
            raise
        except FileNotFoundError:
            shown = path or "corroborate/data/stance.joblib"
            raise ModelError(f"stance model {shown} not found; run python -m corroborate.training.train_stance") from None
        except Exception as exc:  # noqa: BLE001 - joblib/pickle raise many types for a damaged file
            raise ModelError(f"stance model {path or 'bundled'} is unreadable: {type(exc).__name__}") from None
        if not isinstance(artefact, dict) or any(k not in artefact for k in _REQUIRED_KEYS):
            raise ModelError(f"{where} is not a stance artefact")
        if artefact["format_version"] != FORMAT_VERSION:
            raise ModelError(f"{where} has format {artefact['format_version']}, expected {FORMAT_VERSION}; retrain it")
        if list(artefact["feature_names"]) != list(FEATURE_NAMES) or list(artefact["labels"]) != list(LABELS):
            raise ModelError(f"{where} was trained with other features; retrain it")
        return cls(artefact, embedder or load_embedder())

    def predict(
        self,
        pairs: Sequence[tuple[str, str]],
        batch_size: int = 64,
        progress: Progress | None = None,
    ) -> list[StanceResult]:
        """Stance of each ``(claim, evidence)``; evidence may be a sentence, a headline or a whole article."""
        if not pairs:
            return []
        prep = prepare(pairs, self._embedder, batch_size=batch_size, progress=progress)
        art = self._artefact
        x, quotes = build_matrix(prep, art["nli_head"], art["tfidf"])
        projections = art["projections"]
        blocks = embedding_blocks(prep, (p["name"] for p in projections))
        proba = combine(art["stage1"], art["stage2"], x, project(blocks, projections))
        results: list[StanceResult] = []
        for (_, evidence), p, (start, end) in zip(pairs, proba, quotes, strict=True):
            results.append(
                StanceResult(
                    label=LABELS[int(np.argmax(p))],
                    p_agree=float(p[0]),
                    p_disagree=float(p[1]),
                    p_discuss=float(p[2]),
                    p_unrelated=float(p[3]),
                    quote=evidence[start:end],
                    quote_start=start,
                    quote_end=end,
                )
            )
        return results


_OUT_COLUMNS = ("id", "stance", "p_agree", "p_disagree", "p_discuss", "p_unrelated")
_IN_COLUMNS = ("id", "claim", "evidence")


def read_pairs_csv(in_path: Path) -> list[tuple[str, str, str]]:
    """``(id, claim, evidence)`` rows of a UTF-8 CSV with header id,claim,evidence; bad input -> ConfigError."""
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
    rows: list[tuple[str, str, str]] = []
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
                raise ConfigError(f"{in_path} line {line}: {len(record)} fields, header has {len(header)}")
            row_id, claim, evidence = (record[i] for i in pos)
            if not claim.strip():
                raise ConfigError(f"{in_path} line {line}: empty claim (id {row_id!r})")
            problem = claim_problem(claim)
            if problem:
                raise ConfigError(f"{in_path} line {line} (id {row_id[:40]!r}): {problem}")
            rows.append((row_id, claim, evidence))
    except csv.Error as exc:
        raise ConfigError(f"{in_path} is malformed CSV near line {reader.line_num}: {exc}") from None
    return rows


def run_stance_csv(
    in_path: Path,
    out_path: Path,
    model: Judge | None = None,
    progress: Progress | None = None,
) -> int:
    """Label every row of ``in_path`` and write id,stance,p_* to ``out_path``; returns rows written.

    Each row is judged as ``check`` judges an evidence text (:func:`corroborate.judge.reading.judge_pairs`:
    the claim's atoms, the evidence sentences closest to each, the cross-encoder, the attribution
    rules), so the CSV says what a check would count.

    ``out_path`` follows :mod:`corroborate.output` (never the input, ``-`` is stdout, devices written in
    place, regular files atomically); an id a spreadsheet would run as a formula gets a leading ``'``.
    """
    rows = read_pairs_csv(Path(in_path))
    out_path = Path(out_path)
    check_output(out_path, [in_path])
    from corroborate.judge.reading import judge_pairs

    judge = model or Judge.load()
    results = judge_pairs(judge, [(claim, evidence) for _, claim, evidence in rows], progress=progress)

    def write(fh: TextIO) -> None:
        writer = csv.writer(fh)
        writer.writerow(_OUT_COLUMNS)
        for (row_id, _, _), r in zip(rows, results, strict=True):
            ps = [r.probabilities[k] for k in ("agree", "disagree", "discuss", "unrelated")]
            writer.writerow([csv_safe(row_id), r.stance, *(f"{p:.6f}" for p in _rounded(ps))])

    write_output(out_path, write, [in_path])
    return len(rows)


def _rounded(probabilities: Sequence[float]) -> list[float]:
    # Push the rounding residue into the largest probability so the written row sums to 1.
    ps = [round(p, 6) for p in probabilities]
    top = max(range(4), key=lambda i: ps[i])
    ps[top] = round(ps[top] + 1.0 - sum(ps), 6)
    return ps
