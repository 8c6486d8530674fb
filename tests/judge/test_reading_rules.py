"""What the judge reads of an evidence sentence, and which sentences only relay a claim (no model needed)."""

from __future__ import annotations

import pytest

from corroborate.judge.reading import content, relays


@pytest.mark.parametrize(("sentence", "read"), [
    ("Don't worry: the film star Oda Renvik is not dead.", "The film star Oda Renvik is not dead."),
    ("Oda Renvik is alive and well, his agent said.", "Oda Renvik is alive and well."),
    ("Contrary to rumours, the mayor of Tessel has not resigned.", "The mayor of Tessel has not resigned."),
    ("Update: the missing climber was found alive on Sunday.", "The missing climber was found alive on Sunday."),
    ("The council approved the budget, officials said on Monday.", "The council approved the budget."),
    ("VARNHOLT, 3 May (VSNA) – The bank raised its rate, according to a statement.", "The bank raised its rate."),
    # what the sentence asserts is left alone
    ("The harbour authority approved the expansion on Monday.",
     "The harbour authority approved the expansion on Monday."),
    ("Police said the suspect was released.", "Police said the suspect was released."),
    ("Update:", "Update:"),
])
def test_the_judge_reads_the_assertion_not_its_lead_in_or_attribution(
    sentence: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import corroborate.judge.reading as J

    monkeypatch.setattr(J, "READ_CORE", True)  # off for the shipped judge (see READ_CORE)
    assert content(sentence) == read


def test_with_read_core_off_only_the_dateline_goes() -> None:
    assert content("VARNHOLT, 3 May (VSNA) – The bank raised its rate, officials said.") == (
        "The bank raised its rate, officials said.")


@pytest.mark.parametrize("sentence", [
    "Oda Renvik has died, a report says.",
    "Oda Renvik Dead, Report Says",
    "Is Oda Renvik dead?",
    "Oda Renvik reportedly died in hospital.",
    "The singer is said to have died on Tuesday.",
    "Unverified posts on social media claim that the singer died.",
    "Rumours are circulating that the mayor will resign.",
    "The mayor may resign next week.",
    "According to unconfirmed reports, the factory will close.",
])
def test_a_relayed_report_or_a_possibility_is_a_relay(sentence: str) -> None:
    assert relays(sentence)


@pytest.mark.parametrize("sentence", [
    "Oda Renvik died on Tuesday, her family said.",
    "Police confirmed reports that the mayor resigned.",
    "The mayor resigned in May.",
    "The mayor resigned in May last year, the council said.",
    "According to the police, the suspect was released.",
    "The factory will close next year.",
])
def test_a_statement_is_not_a_relay(sentence: str) -> None:
    assert not relays(sentence)
