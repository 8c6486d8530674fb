"""Calibration picks thresholds that reproduce gold verdicts from noisy stance probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corroborate.calibrate import calibrate_from_proba
from corroborate.settings import load_settings
from corroborate.train_stance import LABELS


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
        proba[i][LABELS.index(lab)] = top
    settings = load_settings({"home": tmp_path}, environ={})
    result = calibrate_from_proba(headlines, labels, proba, settings)
    assert result.claims == 300
    assert result.macro_f1 > 0.95
    assert result.stance_min_confidence <= 0.55  # stricter would drop true voices
    assert "stance_min_confidence" in result.to_markdown()
