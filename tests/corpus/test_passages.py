from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from corroborate.corpus.passages import sentence_spans, split_passages

TEXT = (
    "Dr. Anna Smith arrived in Washington on Monday. She met the U.S. trade envoy for two hours.\n\n"
    "The talks covered tariffs on steel. Neither side announced a deal. A second round is due in May."
)


def test_offsets_point_back_into_the_text() -> None:
    spans = split_passages(TEXT, sentences=2, overlap=1, max_chars=500)
    assert spans
    for s in spans:
        assert TEXT[s.start : s.end] == s.text
    assert spans[0].text.startswith("Dr. Anna Smith")  # "Dr." does not end a sentence


def test_windows_overlap_by_one_sentence() -> None:
    sents = sentence_spans(TEXT)
    assert len(sents) == 5
    spans = split_passages(TEXT, sentences=3, overlap=1, max_chars=2000)
    assert [s.start for s in spans] == [sents[0][0], sents[2][0]]
    assert spans[-1].end == sents[-1][1]


def test_long_sentence_is_cut_under_the_limit() -> None:
    text = "word " * 1000
    spans = split_passages(text, max_chars=300)
    assert all(len(s.text) <= 300 for s in spans)
    assert " ".join(s.text for s in spans).split() == text.split()


def test_a_paragraph_longer_than_spacy_takes_is_split() -> None:
    """A 2.1 MB text without a blank line (spaCy's limit here is 2,000,000 characters: E088 before)."""
    text = ("The harbour board met on Monday and approved the new quay. " * 36_000)[:2_100_000]
    spans = split_passages(text, sentences=3, overlap=1, max_chars=1200)
    assert all(text[s.start : s.end] == s.text and len(s.text) <= 1200 for s in spans)
    assert spans[0].start == 0 and spans[-1].end == len(text.rstrip())
    assert sum(1 for s in spans if s.text.endswith("new quay.")) > 30_000 / 2, "sentences survive the cuts"
    word = "x" * 250_000  # no space or full stop to cut at
    assert "".join(s.text for s in split_passages(word, max_chars=100_000)) == word


def test_headline_only_and_empty() -> None:
    assert [s.text for s in split_passages("Council rejects bridge plan")] == ["Council rejects bridge plan"]
    assert split_passages("   \n ") == []


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_gives_valid_spans(text: str) -> None:
    for s in split_passages(text, sentences=3, overlap=1, max_chars=200):
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.text
        assert len(s.text) <= 200
