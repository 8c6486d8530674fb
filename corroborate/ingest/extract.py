"""Article extraction: fetched HTML → :class:`Extracted` (text and metadata), or ExtractionError.

trafilatura does the work on the string we already fetched (its own downloader refuses
loopback and would bypass our fetch policy). Options were chosen on the 181 pages of the
ScrapingHub article-extraction benchmark by mean token F1: ``favor_precision=True,
include_comments=False`` gives 0.965 (0.970 on the held-out half of the pages), the defaults
0.956. docs/extraction.md has the figures; ``tests/test_extract.py`` holds floors 0.01 under them.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import lxml.etree  # type: ignore[import-untyped,unused-ignore]
import lxml.html  # type: ignore[import-untyped,unused-ignore]
import trafilatura

from corroborate.corpus.dedup import find_canonical
from corroborate.corpus.records import Extracted
from corroborate.errors import ExtractionError
from corroborate.ingest.language import identify_language
from corroborate.settings import Settings

_TOKEN = re.compile(r"\w+", re.UNICODE)

# htmldate returns the time and offset too when the page has them; date-only values become midnight UTC.
_DATE_PARAMS: dict[str, Any] = {
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "extensive_search": True,
    "original_date": True,
}

# A listing page is mostly teasers, each in a small card with a headline link to another page.
_MAX_TEASER_SHARE = 0.5
_MIN_LINK_TEXT = 15
_CARD_DEPTH = 3
_MIN_CARDS = 4

_STOPWORD_TEXT = {
    "en": "the and of to in is that for was on with as by it are be this from have has at said",
    "de": "der die das und ist nicht mit den von zu ein eine sich auf für dem des im auch",
    "fr": "le la les et des est une dans pour que qui pas sur au du avec il elle sont",
    "es": "el la los las y que en del por con una para es se lo como más pero sus",
    "it": "il di che la per non una sono della con del gli le anche nel ha alla",
    "pt": "de que não uma para com os as do da em por mais foi são dos das ao",
    "nl": "de het een en van is dat niet op te zijn voor met die ook aan er",
    "id": "yang dan di ini itu dengan untuk tidak dari dalam akan pada juga ke ada",
}
_STOPWORDS = {lang: frozenset(words.split()) for lang, words in _STOPWORD_TEXT.items()}


def token_f1(predicted: str, truth: str) -> float:
    """F1 of the bags of lowercase word tokens of ``predicted`` against ``truth`` (1.0 when both are empty)."""
    pred = Counter(_TOKEN.findall(predicted.lower()))
    gold = Counter(_TOKEN.findall(truth.lower()))
    if not pred or not gold:
        return 1.0 if not pred and not gold else 0.0
    common = sum((pred & gold).values())
    if common == 0:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def _looks_binary(html: str) -> bool:
    head = html[:4096]
    if "\x00" in head:
        return True
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls > len(head) // 20


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _tree(html: str) -> tuple[Any, bool]:
    """The parsed page (None when it does not parse) and whether libxml2 stopped early at a resource limit.

    libxml2's HTML parser gives up at element depth 256 (without XML_PARSE_HUGE) and keeps only
    what came before: text nested deeper, or after thousands of unclosed ``<div>``, is lost.
    """
    # bytes in (the text is already decoded), so pages with an XML encoding declaration parse too; one parser
    # per call, so that its error_log is this parse's
    parser = lxml.html.HTMLParser(encoding="utf-8")
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None, False
    return root, any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


# Flattening keeps every element at most this deep and drops the tags below it (not their text): well under
# libxml2's 256, twice the deepest of the 181 benchmark pages (50), and trafilatura slows with depth.
_FLAT_DEPTH = 100
_TAG_NAMES = {
    "void": "area base br col embed hr img input keygen link meta param source track wbr",
    "closes p": "address article aside blockquote dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table ul",
    "closes itself": "dd dt li option p td th tr",
}
_VOID, _CLOSES_P, _CLOSES_SELF = (frozenset(_TAG_NAMES[kind].split()) for kind in _TAG_NAMES)
# libxml2's end-tag priorities: an end tag never closes an open element of higher priority
_END_PRIORITY = {"div": 150, "td": 160, "th": 160, "tr": 170, "thead": 180, "tbody": 180, "tfoot": 180}
_END_PRIORITY |= {"table": 190, "head": 200, "body": 200, "html": 220}


class _Flattener(HTMLParser):
    """Re-serialises HTML with no element deeper than ``_FLAT_DEPTH``: deeper tags are left out, their
    text kept, and a deeper block element becomes a ``<p>`` at that depth so paragraphs stay apart.

    Its model of what is open follows libxml2's common implied closings (a block closes an open
    ``<p>``, a ``<li>`` an open ``<li>``, end-tag priorities); the result is parsed again to check.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropped: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        if tag in _VOID:
            self.out.append(raw)
            return
        if self.open and (
            (self.open[-1] == "p" and tag in _CLOSES_P) or (self.open[-1] == tag and tag in _CLOSES_SELF)
        ):
            self.open.pop()
        if len(self.open) < _FLAT_DEPTH:
            self.open.append(tag)
            self.out.append(raw)
        else:
            self.dropped[tag] += 1
            if tag in _CLOSES_P:
                self.out.append("<p>")  # libxml2 closes the previous one: siblings, not one level deeper

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.open) < _FLAT_DEPTH or tag in _VOID:
            self.out.append(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if self.dropped[tag]:
            self.dropped[tag] -= 1
            return
        self.out.append(f"</{tag}>")
        if tag in self.open:
            at = len(self.open) - 1 - self.open[::-1].index(tag)
            priority = _END_PRIORITY.get(tag, 100)
            if all(_END_PRIORITY.get(name, 100) <= priority for name in self.open[at + 1 :]):
                del self.open[at:]

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def flatten_html(html: str) -> str:
    """``html`` with no element nested deeper than ``_FLAT_DEPTH`` (comments and processing instructions left out)."""
    flattener = _Flattener()
    flattener.feed(html)
    flattener.close()
    return "".join(flattener.out)


def _declared_language(root: Any) -> str | None:
    if root is None:
        return None
    for value in root.xpath("/html/@lang | /html/@xml:lang | //meta[@property='og:locale']/@content"):
        code = re.split(r"[-_]", str(value).strip().lower())[0]
        if len(code) == 2 and code.isalpha():
            return code
    for value in root.xpath("//meta[@http-equiv or @name]"):
        key = (value.get("http-equiv") or value.get("name") or "").lower()
        if key in ("content-language", "language"):
            code = re.split(r"[-_,\s]", str(value.get("content", "")).strip().lower())[0]
            if len(code) == 2 and code.isalpha():
                return code
    return None


def guess_language(text: str) -> str | None:
    """Cheap stopword vote among a few languages; None when no language clearly wins.

    No longer what extract() uses (py3langid is: corroborate.ingest.language); kept as the baseline
    scripts/measure_language_id.py compares it with."""
    words = _TOKEN.findall(text.lower()[:20_000])
    if len(words) < 20:
        return None
    scores = {lang: sum(1 for w in words if w in stops) for lang, stops in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1]
    if best_score < max(3, len(words) // 25) or best_score < 1.5 * runner_up:
        return None
    return best


_BLOCKS = ("p", "div", "li", "span", "td", "dd", "section", "summary", "blockquote")


def _headline_links(node: Any) -> bool:
    return any(len(" ".join(a.text_content().split())) >= _MIN_LINK_TEXT for a in node.iter("a"))


def _teaser_share(root: Any, text: str) -> tuple[float, int]:
    """Share of the extracted text that sits in small "cards" holding a headline link, and the number of cards.

    On a listing page each extracted line is a headline link or a teaser next to one, in its own
    small container; an article's paragraphs share one large container.
    """
    if root is None:
        return 0.0, 0
    lines = {" ".join(line.split()) for line in text.splitlines()}
    lines.discard("")
    if not lines:
        return 0.0, 0
    found: dict[str, Any] = {}
    for element in root.iter(*_BLOCKS):
        label = " ".join(element.text_content().split())
        if label in lines and label not in found:
            found[label] = element
    # how many extracted lines each ancestor holds, to tell a card from an article body
    held: Counter[Any] = Counter()
    for element in found.values():
        node = element.getparent()
        while node is not None:
            held[node] += 1
            node = node.getparent()
    teaser_chars = 0
    cards: set[Any] = set()
    for line, element in found.items():
        node = element
        for _ in range(_CARD_DEPTH):
            node = node.getparent()
            if node is None:
                break
            if _headline_links(node):
                if held[node] <= 2:
                    teaser_chars += len(line)
                    cards.add(node)
                break
    total = sum(len(line) for line in lines)
    return (teaser_chars / total if total else 0.0), len(cards)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def extract(html: str, url: str, settings: Settings) -> Extracted:
    """The article in ``html`` (fetched from ``url``), or ExtractionError saying why there is none."""
    if not html or not html.strip():
        raise ExtractionError(f"empty page: {url}")
    if _looks_binary(html):
        raise ExtractionError(f"not HTML (binary content?): {url}")
    original = html
    root, stopped = _tree(html)
    warnings: tuple[str, ...] = ()
    if stopped:  # too deep for libxml2 (trafilatura parses with it too): flatten, then check again
        try:
            html = flatten_html(html)
            root, stopped = _tree(html)
        except Exception:  # html.parser on hostile markup: go on with what libxml2 read
            html = original
        if stopped:
            warnings = (f"warning: the HTML of {url} is nested too deeply to read in full; some text may be missing",)
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception as exc:  # trafilatura/lxml raise assorted errors on hostile markup
        raise ExtractionError(f"extraction failed ({type(exc).__name__}): {url}") from None
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise ExtractionError(f"no article text (index page?): {url}")
    if len(text) < settings.min_text_chars:
        raise ExtractionError(f"text too short: {len(text)} chars: {url}")
    share, cards = _teaser_share(root, text)
    if share > _MAX_TEASER_SHARE and cards >= _MIN_CARDS:
        raise ExtractionError(f"no article text (index page?): {share:.0%} of the text is teasers: {url}")
    # the text's own language first: declarations lie where a CMS default does (corroborate.ingest.language)
    language = identify_language(text, _clean(getattr(doc, "language", None)) or _declared_language(root))
    return Extracted(
        url=url,
        canonical_url=find_canonical(original, url),
        text=text,
        title=_clean(getattr(doc, "title", None)),
        author=_clean(getattr(doc, "author", None)),
        published=_parse_date(getattr(doc, "date", None)),
        site_name=_clean(getattr(doc, "sitename", None)),
        language=language,
        warnings=warnings,
    )
