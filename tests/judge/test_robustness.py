"""The robustness suite (issue 22, item 4): per-category accuracy of the shipped judge on invented
claim / evidence pairs (tests/judge/robustness_pairs.py), through the path ``check`` uses.

Each category has two tests: it must not fall below what the shipped judge measured (``REGRESSION``, a
hard floor), and it should reach the issue's goal (``FLOORS``, 0.90; an expected failure for a category the
shipped judge is below, ``XFAIL_CATEGORIES``). When a newer judge ships, rerun ``python scripts/robustness.py``
and update ``MEASURED``.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from corroborate.judge.reading import Judge

try:  # tests/ has no __init__.py, so pytest puts this folder on sys.path
    import robustness_pairs as suite
except ImportError:  # pragma: no cover - if tests/ ever becomes a package
    from tests.judge import robustness_pairs as suite

# the goal, for every category
FLOORS: dict[str, float] = {cat: 0.90 for cat in suite.CATEGORIES}
# measured with the shipped (eighth) judge through today's check path (RELAY_RULE on, READ_CORE off) by
# `python scripts/robustness.py` (bfloat16 and float32 give the same figures on this machine)
MEASURED: dict[str, float] = {
    "antonym": 0.604, "context": 0.778, "agreement": 0.681, "same-entity": 0.875, "relay": 0.932,
    "numbers": 0.578, "invariance": 0.500, "direction": 0.639,
}
# categories the shipped judge is below the goal on: their goal test is an expected failure
XFAIL_CATEGORIES: set[str] = {cat for cat, acc in MEASURED.items() if acc < FLOORS[cat]}
# what the shipped judge must not fall below (a regression fails CI): the measured figure less about four pairs
# of the category (0.08), so another CPU's rounding cannot fail it while a real loss does
REGRESSION: dict[str, float] = {cat: round(acc - 0.08, 2) for cat, acc in MEASURED.items()}


def _param(category: str) -> object:
    if category in XFAIL_CATEGORIES:
        reason = f"shipped judge below the goal: {MEASURED.get(category, float('nan')):.3f}"
        return pytest.param(category, marks=pytest.mark.xfail(strict=False, reason=reason), id=category)
    return pytest.param(category, id=category)


@pytest.fixture(scope="module")
def labels(judge: Judge) -> dict[tuple[str, str], str]:
    """Every pair of the suite judged once, in one batch."""
    return suite.judged_labels(judge, suite.CASES)


@pytest.mark.parametrize("category", suite.CATEGORIES)
def test_category_no_regression(labels: dict[tuple[str, str], str], category: str) -> None:
    acc = suite.accuracy(suite.CASES, labels)[category]
    assert acc >= REGRESSION[category], f"{category}: {acc:.3f} < {REGRESSION[category]} (was {MEASURED[category]})"


@pytest.mark.parametrize("category", [_param(cat) for cat in suite.CATEGORIES])
def test_category_goal(labels: dict[tuple[str, str], str], category: str) -> None:
    acc = suite.accuracy(suite.CASES, labels)[category]
    wrong = [f"{c.gold} judged {labels[(c.claim, c.evidence)]}: {c.claim!r} / {c.evidence!r}"
             for c in suite.CASES if c.category == category and not suite.is_right(c, labels)]
    assert acc >= FLOORS[category], f"{category}: {acc:.3f} < {FLOORS[category]}\n" + "\n".join(wrong)


def test_suite_shape() -> None:
    """At least 300 pairs, every category at least 30 and labelled in the suite's vocabulary, no pair twice,
    labels balanced where the category allows it, and the invariance and direction pairs built as described."""
    cases = suite.CASES
    assert len(cases) >= 300
    assert set(FLOORS) == set(suite.CATEGORIES) and not XFAIL_CATEGORIES - set(suite.CATEGORIES)
    per = Counter(c.category for c in cases)
    assert set(per) == set(suite.CATEGORIES) and min(per.values()) >= 30, per
    assert all(c.gold in suite.LABELS for c in cases)
    assert len({(c.claim, c.evidence) for c in cases}) == len(cases)
    for cat in ("antonym", "context", "relay", "numbers", "invariance"):
        counts = Counter(c.gold for c in cases if c.category == cat)
        assert set(counts) == set(suite.LABELS) and max(counts.values()) - min(counts.values()) <= 2, (cat, counts)
    direction = [c for c in cases if c.category == "direction"]
    assert Counter(c.gold for c in direction) == {suite.E: len(direction) // 2, suite.C: len(direction) // 2}
    for first, negated in zip(direction[::2], direction[1::2], strict=True):
        assert first.claim == negated.claim and {first.gold, negated.gold} == {suite.E, suite.C}
    for c in cases:
        assert (c.base is not None) == (c.category == "invariance")
        if c.base is not None:
            assert c.evidence in {suite.with_update(c.base), suite.with_officials(c.base)}


def test_suite_names_are_not_the_training_generators() -> None:
    """The suite's invented names are none of the names the training generator draws from."""
    from corroborate.training import news

    generator = {w.lower() for name in (*news._FIRST, *news._LAST, *news._PLACES) for w in name.split()}
    used = {w.lower() for c in suite.CASES for text in (c.claim, c.evidence)
            for w in re.findall(r"\b[A-Z][\w-]+", text)}
    assert not used & generator, sorted(used & generator)
