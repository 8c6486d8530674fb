"""Calibrate the verdict thresholds on FNC-1 train (``corroborate calibrate --data DIR``).

FNC-1 pairs one headline with several bodies, each labelled agree / disagree / discuss /
unrelated. Each headline becomes a synthetic claim and its bodies the evidence found for it,
each body an independent voice. The *gold* status is the verdict rule applied to the gold labels
(fully confident); the *predicted* status is the same rule applied to the stance model's
out-of-fold probabilities (grouped CV by Body ID, so no body is judged by a model that saw it).
A grid over ``stance_min_confidence`` and ``stance_high_confidence`` picks the thresholds with
the best macro-F1 over the three statuses; ties go to the stricter minimum confidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from corroborate.settings import Settings
from corroborate.train_stance import LABELS
from corroborate.verdict import STATUSES, EvidenceItem, decide

MIN_CONFIDENCE_GRID = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
HIGH_CONFIDENCE_GRID = (0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class CalibrationResult:
    stance_min_confidence: float
    stance_high_confidence: float
    macro_f1: float
    accuracy: float
    per_status_f1: dict[str, float]
    claims: int
    gold_counts: dict[str, int]
    grid: list[tuple[float, float, float]]  # (min, high, macro-F1)
    current_macro_f1: float

    def to_markdown(self) -> str:
        lines = [
            f"Verdict calibration on {self.claims:,} synthetic claims (FNC-1 train headlines with their bodies as"
            " voices; stances from grouped out-of-fold predictions).",
            "",
            "Gold statuses: " + ", ".join(f"{k} {v}" for k, v in self.gold_counts.items()),
            "",
            "| setting | chosen |",
            "|---|---|",
            f"| stance_min_confidence | {self.stance_min_confidence} |",
            f"| stance_high_confidence | {self.stance_high_confidence} |",
            "",
            f"Status macro-F1 {self.macro_f1:.4f} (accuracy {self.accuracy:.4f}); with the current settings "
            f"{self.current_macro_f1:.4f}.",
            "",
            "| status | F1 |",
            "|---|---|",
            *[f"| {k} | {v:.4f} |" for k, v in self.per_status_f1.items()],
            "",
            "Add to corroborate.toml:",
            "",
            "```toml",
            f"stance_min_confidence = {self.stance_min_confidence}",
            f"stance_high_confidence = {self.stance_high_confidence}",
            "```",
        ]
        return "\n".join(lines) + "\n"


def _items(indices: Sequence[int], labels: Sequence[str], proba: npt.NDArray[np.float64] | None) -> list[EvidenceItem]:
    out = []
    for i in indices:
        if proba is None:  # gold: the label, fully confident
            probs = {lab: 1.0 if lab == labels[i] else 0.0 for lab in LABELS}
        else:
            probs = {lab: float(proba[i][j]) for j, lab in enumerate(LABELS)}
        stance = max(probs, key=lambda k: probs[k])
        out.append(EvidenceItem(outlet=f"body{i}", group=f"body{i}", url=f"fnc1:{i}", quote="", start=0, end=0,
                                stance=stance, score=probs[stance], probabilities=probs, similarity=1.0))
    return out


def _statuses(groups: list[list[int]], labels: Sequence[str], proba: npt.NDArray[np.float64] | None,
              settings: Settings) -> list[str]:
    return [decide(_items(g, labels, proba), settings).status for g in groups]


def _scores(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float, dict[str, float]]:
    from sklearn.metrics import f1_score

    f1 = f1_score(gold, pred, labels=list(STATUSES), average=None, zero_division=0)
    per = {s: float(f1[i]) for i, s in enumerate(STATUSES)}
    acc = float(np.mean(np.asarray(gold) == np.asarray(pred)))
    return float(np.mean(f1)), acc, per


def calibrate_from_proba(headlines: Sequence[str], labels: Sequence[str], proba: npt.NDArray[np.float64],
                         settings: Settings) -> CalibrationResult:
    """Pick thresholds from out-of-fold probabilities (separate from the CV so tests can feed their own)."""
    by_headline: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(headlines):
        by_headline[h].append(i)
    groups = [g for g in by_headline.values() if len(g) >= 2]
    gold = _statuses(groups, labels, None, settings)
    grid: list[tuple[float, float, float]] = []
    best: tuple[float, float, float] | None = None
    for lo in MIN_CONFIDENCE_GRID:
        for hi in HIGH_CONFIDENCE_GRID:
            if hi < lo:
                continue
            trial = replace(settings, stance_min_confidence=lo, stance_high_confidence=hi)
            macro, _, _ = _scores(gold, _statuses(groups, labels, proba, trial))
            grid.append((lo, hi, macro))
            if best is None or macro > best[2] + 1e-9:
                best = (lo, hi, macro)
    assert best is not None
    chosen = replace(settings, stance_min_confidence=best[0], stance_high_confidence=best[1])
    macro, acc, per = _scores(gold, _statuses(groups, labels, proba, chosen))
    current, _, _ = _scores(gold, _statuses(groups, labels, proba, settings))
    counts = {s: gold.count(s) for s in STATUSES}
    return CalibrationResult(best[0], best[1], macro, acc, per, len(groups), counts, grid, current)


def calibrate(data_dir: Path, settings: Settings, folds: int = 5, limit: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> CalibrationResult:
    from corroborate.evaluate import cross_val_proba

    data, proba = cross_val_proba(data_dir, folds=folds, progress=progress, limit=limit)
    return calibrate_from_proba(data.claims, data.labels, proba, settings)
