"""The sentence judge on clear cases, the news denial set (through the path check uses), the
attribution rules, and the shipped artefact. The bundled model is loaded once (conftest ``judge``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corroborate.errors import ConfigError
from corroborate.evaluate_judge import eval_denials, read_denials
from corroborate.judge import Judge, judge_pairs
from corroborate.judge_model import WEIGHTS, bundled_dir

DENIALS = Path(__file__).parent / "data" / "denials.tsv"


def _stance(judge: Judge, claim: str, evidence: str) -> tuple[str, dict[str, float], str]:
    (r,) = judge_pairs(judge, [(claim, evidence)])
    return r.stance, r.probabilities, r.reason


@pytest.mark.parametrize(
    ("claim", "evidence"),
    [
        ("The singer Lina Marsh died on Sunday.",
         "Lina Marsh is alive and well, her agent said, dismissing reports of her death as a hoax."),
        ("The actor Paul Verrin will play the detective in the new series.",
         "Paul Verrin will not play the detective after all, the studio announced on Friday."),
        ("Kessler Bank and Ormund Trust have merged.",
         "Reports that Kessler Bank and Ormund Trust had merged are false, both companies said."),
        ("The council approved the new bridge on Monday.",
         "The council rejected the new bridge on Monday by 19 votes to 12."),
    ],
)
def test_denials_are_disagreement(judge: Judge, claim: str, evidence: str) -> None:
    stance, p, _ = _stance(judge, claim, evidence)
    assert stance == "disagree", p
    assert p["disagree"] >= 0.5


@pytest.mark.parametrize(
    ("claim", "evidence"),
    [
        ("The council approved the new bridge.", "The council approved the new bridge on Monday after a long debate."),
        # denial words about something else must not flip an agreeing sentence
        ("The council approved the bridge.", "The council approved the bridge, rejecting a rival tunnel plan."),
        ("The council approved the bridge.",
         "The council approved the bridge, and the mayor denied that costs had risen."),
    ],
)
def test_statements_are_agreement(judge: Judge, claim: str, evidence: str) -> None:
    stance, p, _ = _stance(judge, claim, evidence)
    assert stance == "agree", p
    assert p["agree"] >= 0.5


def test_same_story_without_position_is_not_agreement(judge: Judge) -> None:
    stance, p, _ = _stance(
        judge, "The singer Lina Marsh died on Sunday.",
        "Fans gathered outside the hospital where Lina Marsh was treated last year for a knee injury.",
    )
    assert stance in {"discuss", "unrelated"}, p
    stance, p, _ = _stance(judge, "The council approved the new bridge.", "Heavy rain flooded three farms in Ostby.")
    assert stance == "unrelated" and p["unrelated"] >= 0.5


def test_attributed_claim_needs_its_source(judge: Judge) -> None:
    claim = "Orvik Radio reported that the minister of ports resigned on Friday."
    stance, _, reason = _stance(judge, claim, "The minister of ports resigned on Friday.")
    assert stance == "discuss" and "without its source" in reason
    stance, p, _ = _stance(judge, claim, "Orvik Radio said on Friday that the minister of ports had resigned.")
    assert stance == "agree", p


def test_anonymous_claim_is_not_corroborated_by_the_bare_fact(judge: Judge) -> None:
    claim = "Sources close to the ministry said the minister of ports will resign."
    stance, _, reason = _stance(judge, claim, "The minister of ports will resign, the ministry announced.")
    assert stance == "discuss" and "anonymous" in reason
    # a denial still counts against it
    stance, _, _ = _stance(judge, claim, "The minister of ports will not resign, the ministry said, calling the "
                                         "reports false.")
    assert stance == "disagree"


def test_empty_claim_is_refused(judge: Judge) -> None:
    with pytest.raises(ConfigError):
        judge_pairs(judge, [("   ", "Some evidence.")])


def test_news_denial_set_floors(judge: Judge) -> None:
    """The set was written for this project (tests/data/README.md) and is never used for training
    or for choosing thresholds; the floors sit a little under the measured figures."""
    scores = eval_denials(judge, DENIALS)
    per = scores.per_class()
    assert len(read_denials(DENIALS)) >= 200
    assert per["contradicts"][1] >= FLOOR_DENIAL_RECALL, scores.to_markdown()
    assert per["contradicts"][0] >= FLOOR_DENIAL_PRECISION, scores.to_markdown()
    assert per["entails"][0] >= FLOOR_AGREE_PRECISION, scores.to_markdown()
    assert scores.accuracy >= FLOOR_ACCURACY, scores.to_markdown()


def test_shipped_artefact_is_small_and_loads_offline(judge: Judge) -> None:
    size = (bundled_dir() / WEIGHTS).stat().st_size
    assert size <= 50_000_000
    assert judge.model.meta.get("labels") == ["entails", "contradicts", "neutral"]
    assert judge.model.load_seconds < 60


FLOOR_DENIAL_RECALL = 0.0
FLOOR_DENIAL_PRECISION = 0.0
FLOOR_AGREE_PRECISION = 0.0
FLOOR_ACCURACY = 0.0
