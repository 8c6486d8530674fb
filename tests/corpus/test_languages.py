"""Documents in a language no judge reads: stored with it, never embedded, never evidence, counted per claim."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from corroborate.check.checker import Checker, claim_names, names_of
from corroborate.corpus.dedup import content_hash
from corroborate.corpus.embed import load_embedder
from corroborate.corpus.index import sync_index
from corroborate.corpus.passages import split_passages
from corroborate.corpus.records import NewDocument
from corroborate.corpus.store import Store
from corroborate.judge.reading import Judge
from corroborate.languages import judged_languages
from corroborate.report import report_schema
from corroborate.settings import Settings, load_settings

DOCS = [  # (url, outlet, language, text)
    ("https://en.example/tram", "English Daily", "en",
     "The city council of Kassel voted on Tuesday to extend tram line 4 to the Lindenberg estate. Mayor Anna Keller "
     "said the state of Hesse would pay half of the cost. Construction starts in spring."),
    ("https://de.example/tram", "Kasseler Blatt", "de",
     "Der Stadtrat von Kassel hat am Dienstag beschlossen, die Straßenbahnlinie 4 bis zum Lindenberg zu verlängern. "
     "Oberbürgermeisterin Anna Keller sagte, das Land Hessen zahle die Hälfte der Kosten."),
    ("https://fr.example/tram", "Journal de Hesse", "fr",
     "Le conseil municipal de Kassel a voté mardi le prolongement de la ligne de tramway 4. La maire Anna Keller a "
     "précisé que le Land de Hesse paierait la moitié du coût des travaux."),
    ("https://fr.example/other", "Journal de Hesse", "fr",
     "Le musée de Kassel rouvre ses portes après deux ans de travaux. Les visiteurs pourront voir la collection."),
    ("https://xx.example/short", "Unknown Wire", None,
     "Kassel trams: council backs line 4 extension to Lindenberg, with Anna Keller's support and Hesse's money."),
]


def _store(home: Path) -> Store:
    store = Store(home / "corroborate.db")
    for url, outlet, language, text in DOCS:
        doc = NewDocument(url=url, canonical_url=url, outlet=outlet, text=text, content_hash=content_hash(text),
                          language=language)
        store.add_document(doc, split_passages(text, 2, 1, 400))
    return store


def _passages_of(store: Store, ids: object) -> set[str]:
    return {p.url for p in store.passages(list(ids)).values()}  # type: ignore[call-overload]


def test_other_languages_are_stored_but_never_embedded_or_found(tmp_path: Path) -> None:
    settings = load_settings({"home": tmp_path}, environ={})
    judged = judged_languages(settings.languages)
    with _store(tmp_path) as store:
        assert store.document_count() == 5  # stored, each with its language
        index, report = sync_index(store, load_embedder(), settings)
        read = {"https://en.example/tram", "https://xx.example/short"}  # English, and undetermined
        assert _passages_of(store, index.ids().tolist()) == read
        assert report.embedded == index.count == store.passage_count(judged) < store.passage_count()
        assert store.unembedded_count() > 0 and store.unembedded_count(judged) == 0
        assert _passages_of(store, [p for p, _ in store.keyword_search("Kassel tram Anna Keller", 50, judged)]) == read
        assert "https://de.example/tram" in _passages_of(store, [p for p, _ in store.keyword_search("Kassel", 50)])
        # the reports on the same names left unread: both names (Kassel, Anna Keller), or two of more
        assert store.other_language_reports(["Kassel", "Anna Keller"], judged) == {"de": 1, "fr": 1}
        assert store.other_language_reports(["Kassel"], judged) == {"de": 1, "fr": 2}
        assert store.other_language_reports(["Kassel", "Anna Keller"], judged, {"Kasseler Blatt"}) == {"fr": 1}
        assert store.other_language_reports([], judged) == {}
        # a language listed but read by no set stays unread, and a second sync changes nothing
        wider = Settings(home=tmp_path, languages=("en", "de"))
        _, again = sync_index(store, load_embedder(), wider)
        assert (again.embedded, again.added, again.removed) == (0, 0, 0)


def test_names_are_the_entities_that_name_someone_or_something() -> None:
    assert names_of([("Anna Keller", "PERSON"), ("Tuesday", "DATE"), ("Kassel", "GPE"), ("4", "CARDINAL")]) == [
        "Anna Keller", "Kassel"]
    assert "Kassel" in claim_names("The city council of Kassel voted on Tuesday to extend tram line 4.")


def test_report_counts_other_language_reports_left_unread(tmp_path: Path, judge: Judge) -> None:
    settings = load_settings({"home": tmp_path}, environ={})
    embedder = load_embedder()
    with _store(tmp_path) as store:
        index, _ = sync_index(store, embedder, settings)
        checker = Checker(settings, store, index, embedder, judge)
        result = checker.check_claim("Anna Keller said the state of Hesse would pay half of the tram line in Kassel.")
        data = result.to_dict()
        assert data["unread_other_language"] == {"documents": 2, "languages": {"de": 1, "fr": 1}}
        assert {e["url"] for e in data["evidence"]} <= {"https://en.example/tram", "https://xx.example/short"}
        jsonschema.validate(data, report_schema()["$defs"]["claim_result"] | {"$defs": report_schema()["$defs"]})
