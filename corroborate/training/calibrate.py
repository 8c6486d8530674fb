"""Calibrate the verdict thresholds on FNC-1 train (``corroborate calibrate --data DIR``).

FNC-1 pairs one headline with several bodies, each labelled agree / disagree / discuss /
unrelated. Each headline becomes a synthetic claim and its bodies the evidence found for it,
each body an independent voice. The *gold* status is the verdict rule applied to the gold labels
(fully confident); the *predicted* status is the same rule applied to the stances that ``check``
would give: :func:`corroborate.judge.reading.judge_pairs` (atoms, sentence choice, the judge, the
attribution rules). Stories are split as in :mod:`corroborate.training.judge_data` (a headline and its
story never sit on two sides, and the judge trained on neither part): a grid over
``stance_min_confidence`` and ``stance_high_confidence`` is chosen on the ``dev`` stories (best
status macro-F1; ties go to the stricter minimum confidence) and reported on the ``test`` stories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from corroborate.settings import Settings

if TYPE_CHECKING:
    from corroborate.judge.reading import Judge
from corroborate.check.verdict import STATUSES, EvidenceItem, decide
from corroborate.training.fnc1 import FNC1_LABELS

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
    test: dict[str, float] | None = None  # the chosen thresholds on the held-out part
    test_claims: int = 0
    test_current: dict[str, float] | None = None  # the current settings on the held-out part
    test_gold_counts: dict[str, int] | None = None

    def to_markdown(self) -> str:
        lines = [
            f"Verdict calibration on {self.claims:,} synthetic claims (FNC-1 headlines of the dev stories with"
            " their bodies as voices; stances from the check path).",
            "",
            "Gold statuses: " + ", ".join(f"{k} {v}" for k, v in self.gold_counts.items()),
            "",
            "| setting | chosen |",
            "|---|---|",
            f"| stance_min_confidence | {self.stance_min_confidence} |",
            f"| stance_high_confidence | {self.stance_high_confidence} |",
            "",
            f"Chosen on this part: status macro-F1 {self.macro_f1:.4f} (accuracy {self.accuracy:.4f}); with the "
            f"current settings {self.current_macro_f1:.4f}. Per status on this part (chosen settings):",
            "",
            "| status | F1 |",
            "|---|---|",
            *[f"| {k} | {v:.4f} |" for k, v in self.per_status_f1.items()],
        ]
        if self.test is not None and self.test_current is not None:
            lines += [
                "",
                f"**Held-out part ({self.test_claims:,} claims): status macro-F1 {self.test['macro_f1']:.4f}**, "
                f"accuracy {self.test['accuracy']:.4f} (current settings: macro-F1 "
                f"{self.test_current['macro_f1']:.4f}, accuracy {self.test_current['accuracy']:.4f}).",
            ]
            if self.test_gold_counts:
                lines += ["", "Gold statuses: " + ", ".join(f"{k} {v}" for k, v in self.test_gold_counts.items())]
            lines += [
                "",
                "| status (held-out) | F1, chosen | F1, current |",
                "|---|---|---|",
                *[f"| {k} | {self.test[k]:.4f} | {self.test_current[k]:.4f} |" for k in STATUSES],
            ]
        lines += [
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
            probs = {lab: 1.0 if lab == labels[i] else 0.0 for lab in FNC1_LABELS}
        else:
            probs = {lab: float(proba[i][j]) for j, lab in enumerate(FNC1_LABELS)}
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
    """Pick thresholds from judged probabilities (separate from the judging so tests can feed their own)."""
    groups = _groups(headlines)
    gold = _statuses(groups, labels, None, settings)
    grid: list[tuple[float, float, float]] = []
    best: tuple[float, float, float] | None = None
    for lo in MIN_CONFIDENCE_GRID:
        for hi in HIGH_CONFIDENCE_GRID:
            if hi < lo:
                continue
            trial = settings.replace(stance_min_confidence=lo, stance_high_confidence=hi)
            macro, _, _ = _scores(gold, _statuses(groups, labels, proba, trial))
            grid.append((lo, hi, macro))
            if best is None or macro > best[2] + 1e-9:
                best = (lo, hi, macro)
    assert best is not None
    chosen = settings.replace(stance_min_confidence=best[0], stance_high_confidence=best[1])
    macro, acc, per = _scores(gold, _statuses(groups, labels, proba, chosen))
    current, _, _ = _scores(gold, _statuses(groups, labels, proba, settings))
    counts = {s: gold.count(s) for s in STATUSES}
    return CalibrationResult(best[0], best[1], macro, acc, per, len(groups), counts, grid, current)


def _groups(headlines: Sequence[str]) -> list[list[int]]:
    by_headline: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(headlines):
        by_headline[h].append(i)
    return [g for g in by_headline.values() if len(g) >= 2]


def judged_split(
    data_dir: Path, split: str, judge: Judge, limit: int | None = None,
    progress: Callable[[int, int], None] | None = None, cache_dir: Path | None = None,
) -> tuple[list[str], list[str], npt.NDArray[np.float64]]:
    """Headlines, gold labels and the check path's stance probabilities for one FNC-1 story split."""
    from corroborate.training.evaluate_judge import fnc1_judged
    from corroborate.training.fnc1 import fnc1_rows

    claims, _, _, labels, _ = fnc1_rows(data_dir)
    idx, results = fnc1_judged(judge, data_dir, split, limit, progress, cache_dir)
    proba = np.array([[r.probabilities[lab] for lab in FNC1_LABELS] for r in results], dtype=np.float64)
    return [claims[i] for i in idx], [labels[i] for i in idx], proba


def calibrate(data_dir: Path, settings: Settings, judge: Judge | None = None, limit: int | None = None,
              progress: Callable[[int, int], None] | None = None, cache_dir: Path | None = None) -> CalibrationResult:
    from corroborate.judge.reading import Judge

    judge = judge or Judge.for_settings(settings)
    result = calibrate_from_proba(*judged_split(data_dir, "dev", judge, limit, progress, cache_dir), settings)
    headlines, labels, proba = judged_split(data_dir, "test", judge, limit, progress, cache_dir)
    groups = _groups(headlines)
    gold = _statuses(groups, labels, None, settings)
    chosen = settings.replace(stance_min_confidence=result.stance_min_confidence,
                              stance_high_confidence=result.stance_high_confidence)
    macro, acc, per = _scores(gold, _statuses(groups, labels, proba, chosen))
    current, current_acc, current_per = _scores(gold, _statuses(groups, labels, proba, settings))
    return replace(result, test={"macro_f1": macro, "accuracy": acc, **per}, test_claims=len(groups),
                   test_current={"macro_f1": current, "accuracy": current_acc, **current_per},
                   test_gold_counts={s: gold.count(s) for s in STATUSES})
