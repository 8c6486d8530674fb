"""The retired document-level stance model (a baseline) on real text, the CSV batch command (which now
judges through corroborate.judge.reading, as check does), and the FNC-1 score."""

from __future__ import annotations

import csv
import os
import pickle
from pathlib import Path

import pytest

from corroborate.errors import ConfigError, ModelError
from corroborate.judge.pairs import StanceModel, StanceResult, run_stance_csv
from corroborate.judge.reading import Judge
from corroborate.training.evaluate import fnc_score, report
from corroborate.training.stance_features import split_sentences

DATA = Path(__file__).parents[2] / "shared" / "data"

CLAIM = "Apple will release its first smartwatch, the iWatch, in October"
SUPPORTING = (
    "Apple confirmed on Tuesday that it will release the iWatch, its first smartwatch, in October. "
    "The company said the watch will go on sale in the United States first, with other countries to follow. "
    "Analysts expect strong demand during the holiday season."
)
REFUTING = (
    "Apple has denied reports that it will release a smartwatch in October. "
    "A company spokesperson said the rumours about an iWatch launch were false and that no such product "
    "is planned this year. The claims, first made on a tech blog, have been debunked."
)
UNRELATED = (
    "The city council voted on Monday to approve a new budget for road repairs. "
    "Council members said potholes on Main Street would be fixed before winter. "
    "The mayor welcomed the decision."
)


@pytest.fixture(scope="session")
def model() -> StanceModel:
    return StanceModel.load()


@pytest.fixture(scope="session")
def three(model: StanceModel) -> list[StanceResult]:
    return model.predict([(CLAIM, SUPPORTING), (CLAIM, REFUTING), (CLAIM, UNRELATED)])


def test_refuting_body_scores_higher_disagree_than_supporting(three: list[StanceResult]) -> None:
    supporting, refuting, _ = three
    assert refuting.p_disagree > supporting.p_disagree
    assert supporting.p_agree > refuting.p_agree
    assert supporting.label != "unrelated" and refuting.label != "unrelated"


def test_unrelated_body_is_unrelated(three: list[StanceResult]) -> None:
    assert three[2].label == "unrelated"
    assert three[2].p_unrelated > 0.5


def test_probabilities_sum_to_one_and_label_is_argmax(three: list[StanceResult]) -> None:
    for r in three:
        probs = r.probabilities
        assert abs(sum(probs.values()) - 1.0) < 1e-6
        assert all(0.0 <= p <= 1.0 for p in probs.values())
        assert r.label == max(probs, key=lambda k: probs[k])


def test_quote_is_the_claim_relevant_sentence_with_exact_offsets(three: list[StanceResult]) -> None:
    for r, evidence in zip(three, (SUPPORTING, REFUTING, UNRELATED), strict=True):
        assert evidence[r.quote_start : r.quote_end] == r.quote
        assert r.quote.strip() == r.quote and r.quote
    assert "iWatch" in three[0].quote or "smartwatch" in three[0].quote


def test_headline_evidence_and_repeated_pairs(model: StanceModel) -> None:
    pairs = [(CLAIM, "Apple to launch iWatch smartwatch in October, company confirms")] * 3 + [(CLAIM, "")]
    results = model.predict(pairs)
    assert len(results) == 4
    assert results[0] == results[1] == results[2]
    assert results[0].label != "unrelated"
    assert results[3].quote_start == results[3].quote_end == 0


def test_predict_empty_list(model: StanceModel) -> None:
    assert model.predict([]) == []


def test_split_sentences_offsets_and_abbreviations() -> None:
    text = 'Mr. Smith said "no way." Then U.S. officials denied it.\n\nA new paragraph'
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        'Mr. Smith said "no way."',
        "Then U.S. officials denied it.",
        "A new paragraph",
    ]


def test_load_missing_and_corrupt_model_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        StanceModel.load(tmp_path / "nope.joblib")
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a joblib file at all")
    with pytest.raises(ModelError):
        StanceModel.load(bad)


class _RunsCode:
    """Unpickling this creates ``marker``: what a crafted model file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("danger", ["group-writable", "world-writable", "someone-else's"])
def test_model_file_others_could_have_written_is_not_unpickled(tmp_path: Path, danger: str) -> None:
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(pickle.dumps(_RunsCode(marker)))
    if danger == "someone-else's":
        if os.getuid() != 0:
            pytest.skip("only root can give a file to another user")
        evil.chmod(0o644)
        os.chown(evil, 54321, -1)
        expected = "belongs to another user"
    else:
        evil.chmod(0o664 if danger == "group-writable" else 0o646)
        expected = "writable by group or others"
    with pytest.raises(ModelError, match=expected) as info:
        StanceModel.load(evil)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_run_stance_csv_keeps_ids_and_order(tmp_path: Path, judge: Judge) -> None:
    src = tmp_path / "pairs.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["claim", "id", "evidence", "note"])
        w.writerow([CLAIM, "z-9", UNRELATED, "ignored"])
        w.writerow([CLAIM, "a-1", REFUTING, ""])
        w.writerow([CLAIM, "m,5", SUPPORTING, "x"])
    out = tmp_path / "out.csv"
    assert run_stance_csv(src, out, model=judge) == 3
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["z-9", "a-1", "m,5"]
    assert list(rows[0]) == ["id", "stance", "p_agree", "p_disagree", "p_discuss", "p_unrelated"]
    # the CSV says what check would count: the same judge, the same rules
    assert [r["stance"] for r in rows] == ["unrelated", "disagree", "agree"]
    for r in rows:
        total = sum(float(r[k]) for k in ("p_agree", "p_disagree", "p_discuss", "p_unrelated"))
        assert abs(total - 1.0) <= 0.01
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('id,claim,evidence\n1,"unterminated,evidence\n', "malformed"),
        ("id,evidence\n1,some text\n", "claim"),
        ("", "empty"),
        ("id,claim,evidence\n1,  ,evidence text\n", "empty claim"),
        (b"id,claim,evidence\n1,caf\xe9,x\n", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ],
)
def test_run_stance_csv_rejects_bad_input(
    tmp_path: Path, judge: Judge, content: str | bytes, message: str
) -> None:
    src = tmp_path / "in.csv"
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        _write(src, content)
    out = tmp_path / "out.csv"
    with pytest.raises(ConfigError, match=message) as info:
        run_stance_csv(src, out, model=judge)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_run_stance_csv_missing_file(tmp_path: Path, judge: Judge) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        run_stance_csv(tmp_path / "absent.csv", tmp_path / "out.csv", model=judge)


def test_fnc_score_hand_made() -> None:
    assert fnc_score(["agree", "unrelated"], ["agree", "unrelated"]) == pytest.approx(100.0)
    assert fnc_score(["agree"], ["discuss"]) == pytest.approx(25.0)
    assert fnc_score(["unrelated"], ["agree"]) == pytest.approx(0.0)
    assert fnc_score(["agree"], ["unrelated"]) == pytest.approx(0.0)
    # (0.25 for related-vs-unrelated right) + 0.25 unrelated right, out of 1.0 + 0.25
    assert fnc_score(["agree", "unrelated"], ["disagree", "unrelated"]) == pytest.approx(40.0)
    with pytest.raises(ConfigError):
        fnc_score(["agree"], [])


def test_report_counts() -> None:
    r = report(["agree", "disagree", "unrelated", "unrelated"], ["agree", "agree", "unrelated", "discuss"], folds=2)
    assert r.accuracy == pytest.approx(0.5)
    assert r.confusion[1][0] == 1 and r.confusion[3][2] == 1
    assert r.per_class["agree"]["precision"] == pytest.approx(0.5)
    assert "| disagree |" in r.to_markdown()


def test_bundled_model_on_fnc1_sample(model: StanceModel) -> None:
    if not (DATA / "fnc1" / "train_stances.csv").is_file():
        pytest.skip(f"FNC-1 data not found at {DATA / 'fnc1'} (the repo must sit next to shared/data)")
    from corroborate.training.train_stance import load_fnc1

    data = load_fnc1(DATA, limit=150)
    pred = [r.label for r in model.predict(data.pairs)]
    # Pairs the model was trained on: this checks loader, features and artefact agree, not generalisation.
    assert fnc_score(data.labels, pred) > 80.0


def test_retired_model_on_the_judges_frozen_stories(judge: Judge) -> None:
    """`eval fnc1-gbm --split test` trains once on the other stories and scores the judge's test stories:
    the same pairs `eval fnc1` reports, with or without --limit."""
    if not (DATA / "fnc1" / "train_stances.csv").is_file() or not (DATA / "snli").is_dir():
        pytest.skip(f"FNC-1 / SNLI data not found under {DATA} (the repo must sit next to shared/data)")
    from corroborate.training.evaluate import evaluate_fnc1, story_splits, topic_groups
    from corroborate.training.judge_data import fnc1_split_of
    from corroborate.training.train_stance import load_fnc1, load_snli, train_nli_head

    full = load_fnc1(DATA)
    assert story_splits(DATA, full) == [fnc1_split_of(t) for t in topic_groups(full)]  # eval fnc1's split
    small = load_fnc1(DATA, limit=1200)
    parts = story_splits(DATA, small)
    assert {"train", "test"} <= set(parts)
    head = train_nli_head(*(x[:300] for x in load_snli(DATA)), judge.embedder)
    r = evaluate_fnc1(DATA, limit=1200, embedder=judge.embedder, nli_head=head, split="test")
    assert r.n == parts.count("test") and r.split == "test"
    assert 0.0 < r.weighted_score <= 100.0
    assert "frozen test stories" in r.to_markdown()
