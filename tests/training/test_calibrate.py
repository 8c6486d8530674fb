"""Calibration picks thresholds that reproduce gold verdicts from noisy stance probabilities."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from corroborate.settings import load_settings
from corroborate.training.calibrate import calibrate_from_proba
from corroborate.training.fnc1 import FNC1_LABELS


def test_calibration_recovers_gold_from_noisy_probabilities(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    headlines, labels = [], []
    for h in range(300):
        kind = h % 3
        pool = [["agree", "agree", "unrelated"], ["disagree", "discuss", "unrelated"], ["discuss", "unrelated"]][kind]
        for lab in pool:
            headlines.append(f"claim {h}")
            labels.append(lab)
    # the right label gets 0.55-0.95, the rest share what is left: a model that is right but unsure
    proba = np.zeros((len(labels), 4))
    for i, lab in enumerate(labels):
        top = rng.uniform(0.55, 0.95)
        proba[i] = (1 - top) / 3
        proba[i][FNC1_LABELS.index(lab)] = top
    settings = load_settings({"home": tmp_path}, environ={})
    result = calibrate_from_proba(headlines, labels, proba, settings)
    assert result.claims == 300
    assert result.macro_f1 > 0.95
    assert result.stance_min_confidence <= 0.55  # stricter would drop true voices
    assert "stance_min_confidence" in result.to_markdown()


def test_report_says_which_part_and_which_settings(tmp_path: Path) -> None:
    headlines = [f"claim {h}" for h in range(20) for _ in range(2)]
    labels = ["agree", "unrelated"] * 20
    proba = np.array([[0.9, 0.0, 0.1, 0.0] if lab == "agree" else [0.0, 0.0, 0.0, 1.0] for lab in labels])
    result = calibrate_from_proba(headlines, labels, proba, load_settings({"home": tmp_path}, environ={}))
    held = replace(
        result,
        test={"macro_f1": 0.61, "accuracy": 0.93, "corroborated": 0.52, "contradicted": 0.34, "unmatched": 0.97},
        test_claims=1368, test_current={
            "macro_f1": 0.6, "accuracy": 0.92, "corroborated": 0.5, "contradicted": 0.33, "unmatched": 0.96},
        test_gold_counts={"corroborated": 80, "contradicted": 12, "unmatched": 1276},
    )
    md = held.to_markdown()
    assert "Per status on this part (chosen settings)" in md
    assert "**Held-out part (1,368 claims): status macro-F1 0.6100**" in md
    assert "| contradicted | 0.3400 | 0.3300 |" in md  # the held-out F1 of both settings, side by side
    assert "Gold statuses: corroborated 80, contradicted 12, unmatched 1276" in md
    assert "Held-out" not in result.to_markdown()  # no held-out part judged, none reported
