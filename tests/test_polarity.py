"""Sentence-level judgement of quotes on real sentences."""

from __future__ import annotations

from corroborate.polarity import judge_quote, polarity_conflict

P_AGREE = {"agree": 0.7, "disagree": 0.05, "discuss": 0.2, "unrelated": 0.05}
P_DISCUSS = {"agree": 0.2, "disagree": 0.05, "discuss": 0.7, "unrelated": 0.05}


def test_conflicts() -> None:
    claim = "The city council approved a new bridge over the river."
    assert polarity_conflict(claim, "The council rejected the bridge plan on Monday.")
    assert polarity_conflict(claim, "The council did not approve the bridge.")
    assert polarity_conflict(claim, "Reports that the bridge was approved are false, the mayor said.")
    assert polarity_conflict(claim, "The city council approved a new bridge over the river on Monday.") is None
    assert polarity_conflict("Talks were not resumed.", "Talks were not resumed on Friday.") is None


def test_judge_quote_rules() -> None:
    claim = "The city council approved a new bridge over the river."
    far = judge_quote(claim, "It rained all week in the capital.", P_AGREE, 0.2, 0.55, 0.75)
    assert far.stance == "discuss" and "not close" in far.reason
    flip = judge_quote(claim, "The council rejected the bridge.", P_AGREE, 0.8, 0.55, 0.75)
    assert flip.stance == "disagree" and flip.score >= 0.75
    para = judge_quote(claim, "The council approved the river bridge.", P_DISCUSS, 0.9, 0.55, 0.75)
    assert para.stance == "agree"
    hedged = judge_quote(claim, "The council may have approved the bridge.", P_DISCUSS, 0.9, 0.55, 0.75)
    assert hedged.stance == "discuss"
    unrelated = judge_quote(claim, "x", {"agree": 0, "disagree": 0, "discuss": 0.1, "unrelated": 0.9}, 0.9, 0.55, 0.75)
    assert unrelated.stance == "unrelated"
