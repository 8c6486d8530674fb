"""Verdict rules of docs/design.md on hand-built evidence: voices, statuses, flags."""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

from corroborate.check.verdict import (
    AtomVerdict,
    AttributionMatcher,
    EvidenceItem,
    attributed_origin,
    decide,
    decide_sentence,
)
from corroborate.claims.atoms import Atom
from corroborate.claims.sentences import NO_ATTRIBUTION, Attribution
from corroborate.corpus.passages import sentence_spans
from corroborate.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
FNC_BODIES = ROOT.parent / "shared" / "data" / "fnc1" / "train_bodies.csv"


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
    origin: str | None = None,
    unvetted: bool = False,
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
        origin_key=origin,
        unvetted=unvetted,
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


def test_copies_and_rewrites_of_one_text_are_one_voice(settings: Settings) -> None:
    v = decide([item("site-a", "agree", origin="doc:3"), item("site-b", "agree", origin="doc:3")], settings)
    assert v.status == "unmatched" and len(v.voices_for) == 1 and v.voices_for[0].outlets == ["site-a", "site-b"]
    v = decide([item("site-a", "agree", origin="doc:3"), item("site-b", "agree", origin="doc:4")], settings)
    assert v.status == "corroborated" and len(v.voices_for) == 2


def test_resting_only_on_unvetted_voices_is_flagged(settings: Settings) -> None:
    v = decide([item("a.example", "agree", unvetted=True), item("b.example", "agree", unvetted=True)], settings)
    assert v.status == "corroborated" and "unvetted_sources_only" in v.flags
    assert [x.unvetted for x in v.voices_for] == [True, True]
    v = decide([item("a.example", "agree", unvetted=True), item("Paper", "agree")], settings)
    assert v.status == "corroborated" and "unvetted_sources_only" not in v.flags
    # the flag follows the side the status rests on: here the denial
    v = decide([item("a.example", "disagree", unvetted=True), item("Paper", "agree", 0.5)], settings)
    assert v.status == "contradicted" and "unvetted_sources_only" in v.flags
    v = decide([item("a.example", "agree", 0.5, unvetted=True), item("Paper", "disagree")], settings)
    assert v.status == "contradicted" and "unvetted_sources_only" not in v.flags


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


def _regexes_per_outlet(quote: str, outlet_names: Iterable[str], own: str) -> str | None:
    """The matcher check used before AttributionMatcher (two regexes per outlet), kept as the reference."""
    for name in outlet_names:
        if name == own or len(name) < 3:
            continue
        n = re.escape(name)
        if re.search(
            rf"\b(?:according to|cited by|citing|quoted by|told)\s+(?:the\s+)?{n}\b", quote, re.I
        ) or re.search(rf"\b{n}\s+(?:news agency\s+)?(?:reported|said|reports|says|cited)\b", quote, re.I):
            return name
    return None


# the bundled registry plus names that nest in others or in real text ("Times" in "The New York
# Times", "RIA" in "RIA Novosti", "Post", "Sun"), one too short to match ("AP") and a case variant
EXTRA_NAMES = ["Times", "New York Times", "RIA", "Guardian", "Daily Mail", "the Daily Mail", "Mirror", "AP",
               "BBC", "Mashable", "ABC News", "CBS News", "Sun", "The Sun", "Post", "reuters"]
EDGE_QUOTES = [
    "Troops will not be sent, according to TASS.",
    "Troops will not be sent, according to RIA Novosti.",  # own RIA Novosti: "RIA" is still named
    "The New York Times reported the deal on Friday.",  # own NYT: "Times reported" remains
    "The figures were first cited by the Times of India.",
    "According to the Times, TASS news agency reported the talks; Xinhua says so too.",
    "Reutersville council met, citing Reuters' figures.",
    "He told  the   Guardian that he would resign.",
    "RFE/RL reports that AP said nothing.",
    "ABC News (Australia) said it would appeal.",
    "The Sun says it is true; the Sun reported it first.",
    "NPR said. NHK says. Dawn reported.",
]


def test_attribution_matcher_answers_as_the_regexes_did_on_real_sentences() -> None:
    if not FNC_BODIES.is_file():
        pytest.skip(f"FNC-1 bodies not found at {FNC_BODIES}")
    registry = tomllib.loads((ROOT / "corroborate" / "data" / "outlets.toml").read_text(encoding="utf-8"))
    names = [o["name"] for o in registry["outlet"]] + EXTRA_NAMES
    ordered = sorted(dict.fromkeys(names), key=len, reverse=True)  # what Checker passed the old function
    cue = re.compile(r"according to|cited by|citing|quoted by|told|reported|said|reports|says|cited", re.I)
    csv.field_size_limit(10_000_000)
    with FNC_BODIES.open(encoding="utf-8", newline="") as f:
        bodies = [row["articleBody"] for row in csv.DictReader(f)][:300]
    quotes = [body[a:b] for body in bodies for a, b in sentence_spans(body) if cue.search(body[a:b])]
    quotes += EDGE_QUOTES
    matcher = AttributionMatcher(names)
    attributed: dict[str, int] = {}
    for quote in quotes:
        expected = _regexes_per_outlet(quote, ordered, "Paper")
        assert matcher.match(quote, "Paper") == expected, quote
        if expected is not None:
            attributed[expected] = attributed.get(expected, 0) + 1
            # the publishing outlet is never its own origin; the next name quoted (if any) is
            assert matcher.match(quote, expected) == _regexes_per_outlet(quote, ordered, expected), quote
    assert len(quotes) > 1000
    # the comparison means something: many real attributions, to many outlets
    assert sum(attributed.values()) > 100 and len(attributed) > 20
    assert {"Reuters", "CNN", "Associated Press", "AFP", "The New York Times"} <= set(attributed)


def test_attribution_matcher_edge_cases() -> None:
    m = AttributionMatcher(["TASS", "RIA", "RIA Novosti", "Times", "The New York Times", "The Sun", "AP", "Xinhua"])
    assert m.match("Troops will not be sent, according to RIA Novosti.", "Paper") == "RIA Novosti"  # longest
    assert m.match("Troops will not be sent, according to RIA Novosti.", "RIA Novosti") == "RIA"
    assert m.match("The New York Times reported the deal.", "The New York Times") == "Times"
    assert m.match("the sun SAYS so", "Paper") == "The Sun"  # any case; "the" may be part of a name
    assert m.match("According to TASS, Xinhua reported it.", "Paper") == "Xinhua"  # longest, not first
    assert m.match("AP said nothing.", "Paper") is None  # names under 3 characters are never matched
    assert m.match("TASSology says little.", "Paper") is None  # a name ends at a word boundary
    assert m.match("Tass reported it.", "TASS") is None  # its own report
    assert AttributionMatcher([]).match("according to TASS", "Paper") is None
    assert len(m) == 7


# --- a sentence's verdict from its atoms -------------------------------------------------------


def _atom(text: str, kind: str = "main", checkable: bool = True, distinctive: bool = True,
          anonymous: bool = False) -> Atom:
    attribution = Attribution("sources close to the port", "anonymous", "said") if anonymous else NO_ATTRIBUTION
    return Atom(text, kind, attribution, checkable=checkable, distinctive=distinctive,
                reason=None if checkable else "framing")


def _judged(settings: Settings, atom: Atom, *items: EvidenceItem) -> AtomVerdict:
    return AtomVerdict(atom, decide(list(items), settings) if atom.checkable else None)


def test_sentence_is_corroborated_only_when_every_distinctive_atom_is(settings: Settings) -> None:
    main = _judged(settings, _atom("The board approved the plan.", distinctive=False),
                   item("A", "agree"), item("B", "agree"))
    qualified = _judged(settings, _atom("The board approved the plan on Monday.", "qualifier"),
                        item("A", "agree"), item("B", "agree"), item("C", "agree"))
    v = decide_sentence([main, qualified], settings)
    assert v.status == "corroborated" and not {"partly_corroborated"} & set(v.flags)
    assert {x.key for x in v.voices_for} == {"A", "B", "C"}
    # the qualifier only discussed: the background is corroborated, the sentence is not
    qualified = _judged(settings, _atom("The board approved the plan on Monday.", "qualifier"),
                        item("A", "discuss", 0.8), item("B", "discuss", 0.8))
    v = decide_sentence([main, qualified], settings)
    assert v.status == "unmatched" and "partly_corroborated" in v.flags
    assert [a.to_dict()["status"] for a in v.atoms] == ["corroborated", "unmatched"]


def test_one_denied_atom_contradicts_the_sentence(settings: Settings) -> None:
    main = _judged(settings, _atom("Lask died at his home."), item("A", "agree"), item("B", "agree"))
    when = _judged(settings, _atom("Lask died at his home on Sunday.", "qualifier"), item("C", "disagree"),
                   item("D", "disagree"))
    v = decide_sentence([main, when], settings)
    assert v.status == "contradicted"
    assert {x.key for x in v.voices_against} == {"C", "D"}


def test_framing_is_not_judged_and_anonymous_sources_are_flagged(settings: Settings) -> None:
    framing = AtomVerdict(_atom("The decision marks a stark departure.", checkable=False), None)
    v = decide_sentence([framing], settings)
    assert v.status == "unmatched" and v.flags == ["not_checkable"]
    leak = _judged(settings, _atom("Sources close to the port said the deal is done.", anonymous=True),
                   item("A", "discuss", 0.7))
    v = decide_sentence([framing, leak], settings)
    assert v.status == "unmatched" and "anonymous_source" in v.flags
    assert v.atoms[0].to_dict()["status"] is None and v.atoms[0].to_dict()["reason"] == "framing"
