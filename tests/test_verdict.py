"""Verdict rules of DESIGN.md on hand-built evidence: voices, statuses, flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from corroborate.settings import Settings, load_settings
from corroborate.verdict import EvidenceItem, attributed_origin, decide


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"home": tmp_path}, environ={})


def item(
    outlet: str,
    stance: str,
    score: float = 0.9,
    group: str | None = None,
    cluster: int | None = None,
    state: bool = False,
    quote: str = "q",
    attributed: str | None = None,
) -> EvidenceItem:
    probs = {"agree": 0.0, "disagree": 0.0, "discuss": 0.0, "unrelated": 0.0}
    probs[stance] = score
    return EvidenceItem(
        outlet=outlet,
        group=group or outlet,
        url=f"https://{outlet}/x",
        quote=quote,
        start=0,
        end=len(quote),
        stance=stance,
        score=score,
        probabilities=probs,
        similarity=0.7,
        state_media=state,
        cluster_id=cluster,
        attributed_to=attributed,
    )


def test_two_independent_agreeing_voices_corroborate(settings: Settings) -> None:
    v = decide([item("a", "agree"), item("b", "agree")], settings)
    assert v.status == "corroborated"
    assert len(v.voices_for) == 2 and not v.flags
    assert 0 < v.confidence <= 1


def test_one_owner_is_one_voice(settings: Settings) -> None:
    v = decide([item("a", "agree", group="owner"), item("b", "agree", group="owner")], settings)
    assert v.status == "unmatched"
    assert len(v.voices_for) == 1 and v.voices_for[0].outlets == ["a", "b"]
    assert "single_source" in v.flags


def test_syndicated_copy_is_one_voice(settings: Settings) -> None:
    v = decide([item("wire", "agree", cluster=7), item("reprint", "agree", cluster=7)], settings)
    assert v.status == "unmatched" and len(v.voices_for) == 1


def test_relayed_report_belongs_to_its_origin(settings: Settings) -> None:
    groups = {"TASS": "state:RU"}
    v = decide(
        [item("TASS", "agree", group="state:RU", state=True), item("paper", "agree", attributed="TASS")],
        settings,
        groups,
    )
    assert len(v.voices_for) == 1 and v.status == "unmatched"


def test_contradiction_outweighs(settings: Settings) -> None:
    v = decide([item("a", "disagree", 0.9), item("b", "unrelated", 0.95)], settings)
    assert v.status == "contradicted" and not v.voices_for


def test_disputed_tie_is_unmatched(settings: Settings) -> None:
    v = decide(
        [item("a", "agree", 0.9), item("b", "agree", 0.9), item("c", "disagree", 0.9), item("d", "disagree", 0.9)],
        settings,
    )
    assert v.status == "unmatched" and "disputed" in v.flags


def test_disputed_but_corroborated(settings: Settings) -> None:
    v = decide([item("a", "agree", 0.9), item("b", "agree", 0.9), item("c", "disagree", 0.9)], settings)
    assert v.status == "corroborated" and "disputed" in v.flags


def test_weighted_when_confidence_is_mixed(settings: Settings) -> None:
    # two weak agreeing voices (0.55 + 0.55 = 1.1) against one sure dissent (0.95): agree outweighs
    v = decide([item("a", "agree", 0.55), item("b", "agree", 0.55), item("c", "disagree", 0.95)], settings)
    assert v.status == "corroborated"
    # below the minimum stance confidence a label is not a voice at all
    v = decide([item("a", "agree", 0.4), item("b", "agree", 0.4)], settings)
    assert v.status == "unmatched" and not v.voices_for


def test_state_media_only(settings: Settings) -> None:
    v = decide([item("TASS", "agree", state=True, group="state:RU")], settings)
    assert v.status == "unmatched"
    assert {"state_media_only", "single_source"} <= set(v.flags)


def test_nothing_found(settings: Settings) -> None:
    v = decide([], settings)
    assert v.status == "unmatched" and v.evidence == [] and v.confidence > 0.5


def test_attributed_origin() -> None:
    names = ["TASS", "Reuters", "RIA Novosti"]
    assert attributed_origin("Troops will not be sent, according to TASS.", names, "Paper") == "TASS"
    assert attributed_origin("RIA Novosti reported the talks on Friday.", names, "Paper") == "RIA Novosti"
    assert attributed_origin("TASS reported it.", names, "TASS") is None  # its own report
    assert attributed_origin("Reutersville council met.", names, "Paper") is None
