"""Extraction quality on the 181 real pages of the ScrapingHub benchmark, and refusals of non-articles."""

from __future__ import annotations

import gzip
import hashlib
import html as htmllib
import json
import re
from datetime import UTC
from pathlib import Path

import pytest

from corroborate.corpus.records import Extracted
from corroborate.errors import ExtractionError
from corroborate.ingest.extract import extract, guess_language, token_f1
from corroborate.settings import Settings

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "news-html"
# Floors just under what the shipped options measure (docs/extraction.md): mean token F1 0.965 on
# all 181 pages, 0.970 on the held-out half, 0.960 on the tuning half. A drop of 0.01 fails.
MIN_MEAN_F1 = 0.955
MIN_HELD_OUT_F1 = 0.960
MIN_TUNING_F1 = 0.950


def held_out(url: str) -> bool:
    """The stable half split: 88 pages whose URL's SHA-256 starts with an odd byte are held out."""
    return hashlib.sha256(url.encode("utf-8")).digest()[0] % 2 == 1


@pytest.fixture(scope="module")
def pages() -> dict[str, tuple[str, str, str]]:
    """sha → (url, html, true article body), read straight from disk."""
    truth_file = DATA / "ground-truth.json"
    if not truth_file.is_file() or not (DATA / "html").is_dir():
        pytest.skip(f"benchmark pages not found at {DATA} (clone the repo beside shared/data)")
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    out = {}
    for sha, entry in truth.items():
        raw = gzip.decompress((DATA / "html" / f"{sha}.html.gz").read_bytes())
        out[sha] = (entry["url"], raw.decode("utf-8", "replace"), entry["articleBody"])
    return out


@pytest.fixture(scope="module")
def extracted(pages: dict[str, tuple[str, str, str]]) -> dict[str, Extracted | ExtractionError]:
    settings = Settings()
    out: dict[str, Extracted | ExtractionError] = {}
    for sha, (url, html, _) in pages.items():
        try:
            out[sha] = extract(html, url, settings)
        except ExtractionError as exc:
            out[sha] = exc
    return out


def test_token_f1() -> None:
    assert token_f1("The cat sat.", "the CAT sat") == 1.0
    assert token_f1("", "") == 1.0
    assert token_f1("words", "") == 0.0
    assert token_f1("a b c d", "a b") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert token_f1("x y", "a b") == 0.0


def test_mean_token_f1_on_all_181_real_pages(
    pages: dict[str, tuple[str, str, str]], extracted: dict[str, Extracted | ExtractionError]
) -> None:
    assert len(pages) == 181
    scores: dict[bool, list[float]] = {False: [], True: []}
    for sha, (url, _, truth) in pages.items():
        result = extracted[sha]
        scores[held_out(url)].append(token_f1(result.text, truth) if isinstance(result, Extracted) else 0.0)
    every = scores[False] + scores[True]
    mean = sum(every) / len(every)
    tuning = sum(scores[False]) / len(scores[False])
    held = sum(scores[True]) / len(scores[True])
    refused = [sha[:12] for sha, r in extracted.items() if isinstance(r, ExtractionError)]
    assert (len(scores[False]), len(scores[True])) == (93, 88)
    print(f"mean token F1: all 181 pages {mean:.4f}, tuning 93 {tuning:.4f}, held-out 88 {held:.4f}")
    assert mean >= MIN_MEAN_F1, f"mean token F1 {mean:.3f}; refused: {refused}"
    assert held >= MIN_HELD_OUT_F1, f"held-out mean token F1 {held:.3f}"
    assert tuning >= MIN_TUNING_F1, f"tuning-half mean token F1 {tuning:.3f}"
    assert len(refused) <= 2, f"real articles refused: {refused}"


def test_metadata_of_real_pages(
    pages: dict[str, tuple[str, str, str]], extracted: dict[str, Extracted | ExtractionError]
) -> None:
    articles = [r for r in extracted.values() if isinstance(r, Extracted)]
    with_date = [a for a in articles if a.published is not None]
    assert len(with_date) >= 0.9 * len(articles)
    assert all(a.published is not None and a.published.tzinfo is not None for a in with_date)
    assert all(a.published is not None and a.published.utcoffset() == UTC.utcoffset(None) for a in with_date)
    assert sum(1 for a in articles if a.title) >= 0.95 * len(articles)
    assert sum(1 for a in articles if a.language == "en") >= 0.8 * len(articles)
    for a in articles:
        assert a.canonical_url.startswith(("http://", "https://")) and "#" not in a.canonical_url
        assert "utm_" not in a.canonical_url

    venturebeat = next(r for sha, r in extracted.items() if sha.startswith("06e5123e4ef7"))
    assert isinstance(venturebeat, Extracted)
    assert venturebeat.title is not None and "WeWork" in venturebeat.title
    assert venturebeat.site_name == "VentureBeat"
    assert venturebeat.published is not None and venturebeat.published.date().isoformat() == "2019-11-18"
    assert venturebeat.text.startswith("(Reuters)")


def _listing_page(pages: dict[str, tuple[str, str, str]], teasers: bool) -> str:
    """A section front built from real headlines (and real first paragraphs as teasers)."""
    cards = []
    for url, _, body in list(pages.values())[:24]:
        headline = body.split("\n")[0][:90].rsplit(" ", 1)[0]
        teaser = body.split("\n")[0][:220]
        cards.append(
            f'<article class="card"><h2><a href="{htmllib.escape(url)}">{htmllib.escape(headline)}</a></h2>'
            + (f'<p class="teaser">{htmllib.escape(teaser)}</p>' if teasers else "")
            + "</article>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><title>Latest news</title></head><body>'
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav><main><h1>Latest news</h1>'
        + "".join(cards)
        + "</main><footer>© Example News</footer></body></html>"
    )


@pytest.mark.parametrize("teasers", [False, True], ids=["headlines", "teasers"])
def test_index_page_is_refused(pages: dict[str, tuple[str, str, str]], teasers: bool) -> None:
    with pytest.raises(ExtractionError, match="index page|too short"):
        extract(_listing_page(pages, teasers), "https://news.example.com/latest", Settings())


def test_short_page_is_refused(pages: dict[str, tuple[str, str, str]]) -> None:
    url, html, _ = next(iter(pages.values()))
    page = (
        "<html><head><title>Subscribe</title></head><body><article><h1>Stadia launches</h1>"
        "<p>Gaming used to be so simple. Subscribe to read the full story.</p></article></body></html>"
    )
    with pytest.raises(ExtractionError, match=r"too short: \d+ chars|no article text"):
        extract(page, url, Settings())
    # the same real page passes at the default bar and fails when the bar is above its length
    text = extract(html, url, Settings()).text
    with pytest.raises(ExtractionError, match="too short"):
        extract(html, url, Settings(min_text_chars=len(text) + 1))


def test_binary_and_empty_pages_are_refused() -> None:
    with pytest.raises(ExtractionError, match="binary"):
        extract("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + "\x00\x01" * 500, "https://example.com/x", Settings())
    with pytest.raises(ExtractionError, match="empty"):
        extract("   ", "https://example.com/x", Settings())


def test_language_fallback_heuristic() -> None:
    english = "The minister said on Tuesday that the government would present the budget to parliament " * 3
    german = (
        "Der Minister sagte am Dienstag, dass die Regierung den Haushalt nicht mit dem Parlament abstimmen wird " * 3
    )
    assert guess_language(english) == "en"
    assert guess_language(german) == "de"
    assert guess_language("too few words") is None


# libxml2's HTML parser stops at element depth 256 (without XML_PARSE_HUGE) and drops the rest of the page.
_SENTENCE = re.compile(r"Sentence (\d+) says the council voted on item \d+\.")


def test_text_nested_400_levels_deep_is_extracted() -> None:
    words = " ".join(f"Sentence {i} says the council voted on item {i}." for i in range(20))
    page = (
        "<html><head><title>Deep</title></head><body>"
        + "<div>" * 400
        + f"<p>{words}</p>"
        + "</div>" * 400
        + "</body></html>"
    )
    ex = extract(page, "https://example.com/deep", Settings())
    assert sorted(int(n) for n in _SENTENCE.findall(ex.text)) == list(range(20))
    assert not ex.warnings


def test_2000_unclosed_paragraphs_are_all_extracted() -> None:
    # each paragraph opens a <div> and a <p> and closes neither, as a broken CMS template does
    body = "".join(f"<div><p>Sentence {i} says the council voted on item {i}." for i in range(2000))
    page = f"<html><head><title>Unclosed</title></head><body>{body}</body></html>"
    ex = extract(page, "https://example.com/unclosed", Settings())
    assert sorted(int(n) for n in _SENTENCE.findall(ex.text)) == list(range(2000))
    assert not ex.warnings


def test_text_that_may_still_be_lost_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    import corroborate.ingest.extract as extract_module

    monkeypatch.setattr(extract_module, "_FLAT_DEPTH", 10_000)  # flattening that does not flatten enough
    body = "".join(f"<div><p>Sentence {i} says the council voted on item {i}." for i in range(2000))
    ex = extract(f"<html><body>{body}</body></html>", "https://example.com/unclosed", Settings())
    assert 0 < len(_SENTENCE.findall(ex.text)) < 2000
    assert len(ex.warnings) == 1 and "nested too deeply" in ex.warnings[0] and "\n" not in ex.warnings[0]


def test_read_article_prints_extraction_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import corroborate.ingest.extract as extract_module
    from corroborate.check.checker import read_article

    monkeypatch.setattr(extract_module, "_FLAT_DEPTH", 10_000)
    body = "".join(f"<div><p>Sentence {i} says the council voted on item {i}." for i in range(2000))
    page = tmp_path / "deep.html"
    page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    article = read_article(str(page), Settings())
    assert 0 < len(_SENTENCE.findall(article.text)) < 2000
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "nested too deeply" in err and err.count("\n") == 1
