"""The sentence judge on clear cases, the news denial set (through the path check uses), the
attribution rules, and the shipped artefact. The bundled model is loaded once (conftest ``judge``)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from corroborate.claims.sentences import Attribution
from corroborate.errors import ConfigError, ModelError
from corroborate.judge.model import WEIGHTS, bundled_dir
from corroborate.judge.reading import Judge, _attribution_missing, judge_pairs, source_keys
from corroborate.training.evaluate_judge import eval_denials, read_denials

DENIALS = Path(__file__).parents[1] / "data" / "denials.tsv"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _shared_data_with_fnc1() -> Path:
    if not (SHARED_DATA / "fnc1" / "train_stances.csv").is_file():
        pytest.skip(f"FNC-1 data not found at {SHARED_DATA / 'fnc1'} (the repo must sit next to shared/data)")
    return SHARED_DATA


def _stance(judge: Judge, claim: str, evidence: str) -> tuple[str, dict[str, float], str]:
    (r,) = judge_pairs(judge, [(claim, evidence)])
    return r.stance, r.probabilities, r.reason


KNOWN_WEAKNESS = pytest.mark.xfail(
    strict=True,
    reason="known weakness of the shipped judge (docs/evaluation.md): it reads word overlap as agreement; "
    "a better judge makes this pass, and strict=True then asks for the mark to go",
)


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
        # a claim that is itself a debunk is denied by a report of the thing it debunks
        ("Claims that the Ostby dam has burst are false.",
         "The Ostby dam burst on Tuesday night, flooding farms along the river, the regional office said."),
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
        # a debunk is corroborated by another debunk (the third pass read these as contradictions)
        ("Claims that the Ostby dam has burst are false.",
         "Engineers said the Ostby dam was intact and called reports of a breach untrue."),
        # denial words about something else must not flip an agreeing sentence
        pytest.param("The council approved the bridge.",
                     "The council approved the bridge, rejecting a rival tunnel plan.", marks=KNOWN_WEAKNESS),
        pytest.param("The council approved the bridge.",
                     "The council approved the bridge, and the mayor denied that costs had risen.",
                     marks=KNOWN_WEAKNESS),
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


def test_a_text_about_something_else_in_the_same_field_is_unrelated(judge: Judge) -> None:
    """Topic relatedness (FNC-1's related vs unrelated): a report from the same field that shares few of
    the atom's words is unrelated, while a report about the atom that takes no position is discussion."""
    claim = "The port of Halvik will close its oldest container terminal in March."
    stance, p, _ = _stance(judge, claim, "The airport of Dravo opened a second runway on Tuesday after two years "
                                         "of work, the regional transport office said.")
    assert stance == "unrelated" and p["unrelated"] >= 0.5, p
    stance, p, _ = _stance(judge, claim, "Dock workers in Halvik met on Friday to talk about the future of the "
                                         "port's oldest container terminal, whose lease runs until March.")
    assert stance == "discuss", p


def test_topic_relatedness_itself() -> None:
    from corroborate.judge.reading import coverage, topic_relatedness

    text = "Dock workers met on Friday. The Halvik terminal may close in March, officials said."
    spans = [(28, len(text))]
    assert coverage("The Halvik terminal will close in March.", text, spans) == 1.0
    assert coverage("The Dravo airport opened a runway.", text, spans) == 0.0
    assert coverage("It was.", text, spans) == 1.0  # no word to look for: the cosine decides
    assert topic_relatedness(0.8, 1.0) > 0.95
    assert topic_relatedness(0.3, 0.0) < 0.05
    assert topic_relatedness(0.45, 0.2) < topic_relatedness(0.45, 0.8) < topic_relatedness(0.6, 0.8)


def test_attributed_claim_needs_its_source(judge: Judge) -> None:
    claim = "Orvik Radio reported that the minister of ports resigned on Friday."
    stance, p, _ = _stance(judge, claim, "The minister of ports resigned on Friday.")
    assert stance != "agree", p  # the fact without "Orvik Radio reported" does not state the atom
    stance, p, _ = _stance(judge, claim, "Orvik Radio said on Friday that the minister of ports had resigned.")
    assert stance == "agree", p


def test_anonymous_claim_is_not_corroborated_by_the_bare_fact(judge: Judge) -> None:
    claim = "Sources close to the ministry said the minister of ports will resign."
    stance, p, _ = _stance(judge, claim, "The minister of ports will resign, the ministry announced.")
    assert stance != "agree", p
    # a denial still counts against it
    stance, _, _ = _stance(judge, claim, "The minister of ports will not resign, the ministry said, calling the "
                                         "reports false.")
    assert stance == "disagree"


def test_attribution_rule_itself() -> None:
    """The rule that turns a judge's 'entails' into 'discuss' (not learned, so tested on its own)."""
    named = Attribution("Orvik Radio", "named", "reported")
    text = "The minister resigned. Orvik Radio said so first. The minister of ports resigned on Friday."
    last = text.rindex("The minister of ports")
    assert _attribution_missing(named, "The minister of ports resigned on Friday.", 0, 41)
    assert _attribution_missing(named, text, last, len(text)) is None  # named in the sentence before
    anonymous = Attribution("Sources close to the ministry", "anonymous", "said")
    assert _attribution_missing(anonymous, "The minister will resign.", 0, 25)
    sourced = "The minister will resign, people familiar with the matter said."
    assert _attribution_missing(anonymous, sourced, 0, len(sourced)) is None
    assert source_keys(Attribution("President Zelenskyy’s office", "named", "issuing")) == ["Zelenskyy"]


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


def test_precisions_agree_and_repeated_pairs_are_judged_once(judge: Judge) -> None:
    """bfloat16 (what ``auto`` picks where the CPU has it natively) calls clear pairs as float32 does,
    with probabilities close to float32's; a pair asked twice gets the same row as when asked once."""
    from corroborate.judge.model import JudgeModel, resolve_precision

    pairs = [
        ("The council approved the bridge on Monday.", "The council approved the bridge."),
        ("The council rejected the bridge on Monday.", "The council approved the bridge."),
        ("The council will debate the bridge next week.", "The council approved the bridge."),
        ("Reports that the singer died are a hoax; she is alive and well.", "The singer died."),
    ]
    f32 = JudgeModel.load(precision="float32")
    bf16 = JudgeModel.load(precision="bfloat16")
    assert (f32.precision, bf16.precision) == ("float32", "bfloat16")
    assert resolve_precision("auto") in {"float32", "bfloat16"}
    p32, p16 = f32.predict(pairs), bf16.predict(pairs)
    assert [int(r.argmax()) for r in p32] == [0, 1, 2, 1], p32
    assert [int(r.argmax()) for r in p16] == [0, 1, 2, 1], p16
    assert float(abs(p32 - p16).max()) < 0.05
    twice = f32.predict([pairs[1], pairs[0], pairs[1], pairs[3], pairs[0]])
    assert abs(twice - p32[[1, 0, 1, 3, 0]]).max() < 1e-4
    with pytest.raises(ModelError, match="precision"):
        JudgeModel.load(precision="float16")


def test_shipped_artefact_is_small_and_loads_offline(judge: Judge) -> None:
    size = (bundled_dir() / WEIGHTS).stat().st_size
    assert size <= 50_000_000
    assert judge.model.meta.get("labels") == ["entails", "contradicts", "neutral"]
    assert judge.model.load_seconds < 60


# measured with the shipped (eighth) judge (docs/evaluation.md; float32 and bfloat16 alike): denial recall
# 0.712, precision 0.796, agree precision 0.732, accuracy 0.752 — short of the goals (recall >= 0.90
# at precision >= 0.85)
FLOOR_DENIAL_RECALL = 0.68
FLOOR_DENIAL_PRECISION = 0.75
FLOOR_AGREE_PRECISION = 0.69
FLOOR_ACCURACY = 0.72


def test_invented_news_pairs_are_split_by_fact_and_never_the_denial_set() -> None:
    """The training generator (corroborate/training/news.py): stable, balanced, split by fact, and it
    never produces a sentence or claim of the test denial set."""
    from corroborate.training.news import news

    train, dev = news(300, "train"), news(100, "dev")
    assert train == news(300, "train")  # the same pairs every run
    assert {p.group for p in train}.isdisjoint({p.group for p in dev})
    counts = Counter(p.label for p in train)
    assert set(counts) == {"entails", "contradicts", "neutral"} and max(counts.values()) == min(counts.values())
    denial_texts = {t for _, _, c, s, _ in read_denials(DENIALS) for t in (c, s)}
    assert not denial_texts & {t for p in train + dev for t in (p.premise, p.hypothesis)}
    # claims that are themselves denials: the fact's denials entail them, its statements contradict them
    from corroborate.training.news import debunks

    d_train, d_dev = debunks(200, "train"), debunks(60, "dev")
    assert d_train == debunks(200, "train")
    assert {p.group for p in d_train}.isdisjoint({p.group for p in d_dev})
    assert set(Counter(p.label for p in d_train)) == {"entails", "contradicts", "neutral"}
    assert not denial_texts & {t for p in d_train + d_dev for t in (p.premise, p.hypothesis)}
    assert all(re.search(r"\b(?:not|false|wrong|alive|dropped)\b", p.hypothesis) for p in d_train)
    # an agreeing sentence names every day, month and number its claim names
    for p in train:
        if p.label == "entails":
            for detail in re.findall(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|\d[\d,]*)\b",
                                     p.hypothesis):
                assert detail in p.premise, p


def test_names_rule_itself() -> None:
    """A sentence with no word of one of the atom's names does not state it (not learned)."""
    from corroborate.judge.reading import _names_missing, names

    assert names("The government will build a railway from the Kessel terminal to Dravo on Monday.") == [
        {"kessel"}, {"dravo"}]
    assert names("Port Amsel's harbour authority met James Foley's iPhone maker in May.") == [
        {"port", "amsel"}, {"james", "foley"}]
    atom = "The national government will build a freight railway from the Kessel terminal to Dravo."
    other = "The harbour authority approved the expansion of the Kessel container terminal."
    assert _names_missing(atom, other, 0, len(other)) == "states it without the claim's names (dravo)"
    stated = "A new freight line will link Kessel with Dravo's mills, the government said."
    assert _names_missing(atom, stated, 0, len(stated)) is None
    # one word of a name is enough
    assert _names_missing("Journalist James Foley was killed.", "Foley was killed.", 0, 17) is None


def test_background_report_does_not_state_the_qualifier(judge: Judge) -> None:
    claim = "The terminal's original quay was built in 1931 by the engineer Tomas Wrenfield."
    stance, p, reason = _stance(judge, claim, "The harbour authority approved the expansion of the Kessel terminal, "
                                              "whose quay was built by Tomas Wrenfield.")
    assert stance != "agree", (p, reason)


def test_eval_debunks_reproduces_the_dev_figure() -> None:
    """`corroborate eval debunks` (docs/evaluation.md: third pass 0.595, shipped 0.992 on 1,800 dev pairs)."""
    from click.testing import CliRunner

    from corroborate.cli import cli

    result = CliRunner().invoke(cli, ["eval", "debunks", "--limit", "120"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = re.search(r"120 pairs, accuracy \*\*([\d.]+)\*\*", result.output)
    assert found, result.output
    assert float(found.group(1)) >= 0.9, result.output


def test_headline_form_keeps_the_claim() -> None:
    """The `headlines` training source rewrites claims as headlines without changing what they claim."""
    import random

    from corroborate.training.judge_data import headline_form

    def forms(claim: str) -> set[str]:
        return {headline_form(claim, random.Random(i)) for i in range(40)}

    will = forms("About 600 jobs will be cut in Westerley.")
    assert all("to Be Cut" in f or "to be cut" in f for f in will)  # the future stays the future
    assert all(" cut in" not in f.replace("be cut in", "") for f in will)
    assert any(f.startswith("Council approves bridge") or f == "Council Approves Bridge" for f in
               forms("The council has approved the bridge."))
    # a denial keeps its negation
    assert all("not" in f.lower() for f in forms("Actor Maud Ingram has not died."))
    # plural subjects take the plural verb
    assert all("people dies" not in f.lower() for f in forms("About 15 people died in the earthquake."))
    assert any(f.lower().startswith("isis fighters contracting ebola") or "Contracting Ebola" in f
               for f in forms("Isis fighters contract Ebola."))


def test_headline_sources_never_write_a_sentence_of_the_evaluation_sets() -> None:
    """`headlines` and `headline-evidence` rewrite generated pairs; none may land on a row of the test
    denial set or of the headline development set."""
    import random

    from corroborate.training.judge_data import headline_form
    from corroborate.training.news import debunks, news

    held = {t for path in (DENIALS, DENIALS.parent / "headlines.tsv")
            for _, _, c, s, _ in read_denials(path) for t in (c, s)}
    rng = random.Random(0)
    made = {headline_form(t, rng) for p in news(120, "train") + debunks(60, "train") for t in (p.premise, p.hypothesis)}
    assert len(made) > 500 and not made & held


def test_headline_figures_change_form_not_value() -> None:
    """`headline-figures` writes figures as headlines do; a score, a date and the value stay as they were."""
    import random

    from corroborate.training.judge_data import headline_form

    forms = {headline_form("The 12 councillors approved a $600 million budget 9-4 on 3 October.", random.Random(i),
                           numbers=True) for i in range(40)}
    assert any("$600M" in f for f in forms) and any("twelve" in f.lower() for f in forms)
    assert all("9-4" in f and "3 October" in f for f in forms)
    assert all(re.search(r"\$600(?:M| million)", f, re.IGNORECASE) for f in forms)


def test_fnc1_headline_pairs_take_fnc1s_sides() -> None:
    """`fnc1-headlines` reads FNC-1's labels as sides: a debunking headline contradicts the story's
    reports and entails other debunks; each story sits in one split; at most three agreeing and three
    observing headlines per claim."""
    data = _shared_data_with_fnc1()
    from corroborate.training.judge_data import fnc1_split_of, load

    parts = {split: load("fnc1-headlines", data, split) for split in ("train", "dev", "test")}
    for split, pairs in parts.items():
        assert pairs and all(fnc1_split_of(int(p.group.split(":")[1])) == split for p in pairs)
        per_claim = Counter((p.hypothesis, p.label) for p in pairs if p.label != "contradicts")
        assert max(per_claim.values()) <= 3
    denial = "No, A Spider Did Not Burrow Under A Man's Skin And Live There For Days"
    said = {(p.premise, p.label) for ps in parts.values() for p in ps if p.hypothesis == denial}
    assert ("Tropical spider burrows under man's skin through scar", "contradicts") in said
    assert {lab for _, lab in said} == {"entails", "contradicts", "neutral"}
    assert not any("doubt" in premise.lower() or "debunk" in premise.lower()
                   for premise, lab in said if lab == "contradicts")


def test_real_headline_denials_floor(judge: Judge) -> None:
    """Real headlines of FNC-1's frozen test stories against each other, through the check path
    (docs/evaluation.md, "Real headlines": the shipped judge finds 135 of 286 denials at precision 0.655
    and calls 22 of them support, 21 before the atom fixes of 2026-12-01; the fourth pass found 73 and
    called 41 support). Floors a little under the measured figures; nothing is chosen on this split."""
    data = _shared_data_with_fnc1()
    from corroborate.training.evaluate_judge import eval_headline_pairs

    scores = eval_headline_pairs(judge, data, "test")
    denials = [p for g, p in zip(scores.gold, scores.pred, strict=True) if g == "contradicts"]
    precision, recall, _, n = scores.per_class()["contradicts"]
    assert n >= 250, scores.to_markdown()
    assert recall >= 0.42 and precision >= 0.60, scores.to_markdown()
    assert denials.count("entails") / n <= 0.10, scores.to_markdown()  # a debunk counted as support
    assert scores.per_class()["entails"][0] >= 0.68, scores.to_markdown()
