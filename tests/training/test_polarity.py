"""The retired word-list rules, kept only for the --word-rules ablation (corroborate/training/polarity.py)."""

from __future__ import annotations

from corroborate.training.polarity import polarity_conflict


def test_word_rules_find_plain_denials() -> None:
    claim = "The council approved the bridge."
    assert polarity_conflict(claim, "The council rejected the bridge plan on Monday.")
    assert polarity_conflict(claim, "The council did not approve the bridge.")
    assert polarity_conflict(claim, "Reports that the bridge was approved are false, the mayor said.")
    assert polarity_conflict(claim, "The city council approved a new bridge over the river on Monday.") is None


def test_word_rules_flip_agreeing_sentences_that_deny_something_else() -> None:
    """Why they were retired: denial words about something else read as a denial of the claim."""
    claim = "The council approved the bridge."
    assert polarity_conflict(claim, "The council approved the bridge, rejecting a rival tunnel plan.")
    assert polarity_conflict(claim, "The council approved the bridge, and the mayor denied that costs had risen.")
