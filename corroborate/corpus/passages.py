"""Split a document into overlapping, sentence-aligned passages with character offsets.

Windows of ``passage_sentences`` sentences advance by ``passage_sentences - passage_overlap``,
so a fact that straddles two sentences is still inside one passage. A passage never exceeds
``max_passage_chars``: an over-long sentence is cut at whitespace. Offsets point into the
document text exactly: ``text[span.start:span.end] == span.text``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from corroborate.corpus.records import Span

# common words that say nothing of what a text is about (keyword search, word overlap)
STOPWORDS = frozenset({
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is",
    "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "has", "have",
    "had", "will", "would", "can", "could", "should", "may", "might", "not", "no", "but", "if", "then", "than",
    "so", "such", "into", "over", "after", "before", "about", "he", "she", "they", "we", "you", "i", "his",
    "her", "their", "our", "your", "them", "him", "us", "said", "says",
})

_PARAGRAPH = re.compile(r"\n\s*\n")
_lock = threading.Lock()
# spaCy refuses a text longer than nlp.max_length (E088): a longer paragraph (a whole book without
# blank lines) is cut into pieces this long first, which also bounds what one piece holds in memory
MAX_PIECE_CHARS = 100_000


@lru_cache(maxsize=1)
def _sentencizer() -> Any:
    # spaCy's rule-based sentencizer on a blank pipeline: no model, ~fast enough for bulk ingest.
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 2_000_000
    return nlp


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; blank lines are hard boundaries; whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    pos = 0
    paragraphs: list[tuple[int, int]] = []
    for m in _PARAGRAPH.finditer(text):
        paragraphs.append((pos, m.start()))
        pos = m.end()
    paragraphs.append((pos, len(text)))
    paragraphs = [piece for a, b in paragraphs for piece in _pieces(text, a, b, MAX_PIECE_CHARS)]
    nlp = _sentencizer()
    with _lock:  # spaCy pipelines are not guaranteed thread-safe
        docs = nlp.pipe(text[a:b] for a, b in paragraphs)
        for (offset, _), doc in zip(paragraphs, docs, strict=True):
            for sent in doc.sents:
                start, end = offset + sent.start_char, offset + sent.end_char
                chunk = text[start:end]
                stripped = chunk.strip()
                if not stripped:
                    continue
                start += len(chunk) - len(chunk.lstrip())
                end = start + len(stripped)
                spans.append((start, end))
    return spans


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """[start, end) in pieces of at most ``limit`` chars, cut after a line, a sentence or a word where possible."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        cut = start + limit
        for separator in ("\n", ". ", " "):
            found = text.rfind(separator, start + limit // 2, start + limit - len(separator))
            if found > start:
                cut = found + len(separator)
                break
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces of at most ``limit`` chars, at whitespace where possible."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        if cut <= start:
            cut = start + limit
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def split_passages(text: str, sentences: int = 3, overlap: int = 1, max_chars: int = 1200) -> list[Span]:
    """Overlapping sentence windows over ``text`` (see module docstring)."""
    if not text.strip():
        return []
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        units.extend(_cut(text, start, end, max_chars))
    if not units:
        return []
    step = max(1, sentences - overlap)
    out: list[Span] = []
    i = 0
    while True:
        window = units[i : i + sentences]
        # shrink from the right until the window fits
        while len(window) > 1 and window[-1][1] - window[0][0] > max_chars:
            window = window[:-1]
        start, end = window[0][0], window[-1][1]
        if not out or end > out[-1].end:  # a window inside the previous one adds nothing
            out.append(Span(start, end, text[start:end]))
        if i + len(window) >= len(units):
            break
        # a window shrunk by the size limit advances by what it covered, minus the overlap
        i += step if len(window) == sentences else max(1, len(window) - overlap)
    return out
