"""Which store a process opens, and the interface both stores offer.

``store_url`` unset (the default): the SQLite file in the data folder (:class:`~corroborate.corpus.store.Store`),
one writer at a time under the data folder's ``write.lock``. ``store_url = "postgresql://…"``: a
PostgreSQL database that several ingest workers and checkers on several hosts share
(:class:`~corroborate.corpus.pgstore.PostgresStore`); its writers rely on transactions and ``INSERT …
ON CONFLICT``, never on the file lock, and each host keeps its FAISS index as a cache of the
embeddings stored in the database (:mod:`corroborate.corpus.index`).

The connection string is a secret (it may hold a password): :func:`corroborate.corpus.dburl.redact_url`
is what any message, log line or report shows of it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from corroborate.corpus.lock import writer_lock

if TYPE_CHECKING:
    from corroborate.corpus.records import NewDocument, Passage, Span
    from corroborate.corpus.store import AbandonedRun, AddResult, OutletRow, StoredDocument
    from corroborate.settings import Settings

class CorpusStore(Protocol):
    """What the pipeline uses of a store; the SQLite :class:`Store` and :class:`PostgresStore` both offer it."""

    read_only: bool

    def close(self) -> None: ...
    def __enter__(self) -> CorpusStore: ...
    def __exit__(self, *exc: object) -> None: ...
    def integrity_check(self) -> list[str]: ...
    def generation(self) -> int: ...
    def upsert_outlet(
        self,
        name: str,
        *,
        domains: Sequence[str] = (),
        group: str | None = None,
        state_media: bool = False,
        country: str | None = None,
        language: str | None = None,
        owner: str | None = None,
        kind: str | None = None,
        fictional: bool = False,
    ) -> int: ...
    def ensure_outlet(self, name: str, domains: Sequence[str] = ()) -> int: ...
    def outlets(self) -> list[OutletRow]: ...
    def validators(self, url: str) -> tuple[str | None, str | None]: ...
    def source_validators(self, outlet: str) -> dict[str, tuple[str | None, str | None]]: ...
    def keep_source_validators(self, outlet: str, validators: dict[str, tuple[str | None, str | None]]) -> None: ...
    def has_url(self, url: str) -> bool: ...
    def record_fetch(
        self,
        url: str,
        outcome: str,
        *,
        run_id: int | None = None,
        outlet: str | None = None,
        kind: str = "page",
        status: int | None = None,
        reason: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None: ...
    def fetch_log(self, run_id: int | None = None) -> list[dict[str, Any]]: ...
    def start_run(self, kind: str, params: dict[str, Any] | None = None, *, flow_run: str | None = None) -> int: ...
    def end_abandoned_runs(self) -> int: ...
    def abandoned_flow_runs(self) -> list[AbandonedRun]: ...
    def flow_run_ended(self, run_id: int) -> None: ...
    def finish_run(self, run_id: int, status: str, summary: dict[str, Any] | None = None) -> None: ...
    def runs(self, limit: int = 20) -> list[dict[str, Any]]: ...
    def find_duplicate(self, doc: NewDocument) -> int | None: ...
    def stored_hash(self, url: str) -> str | None: ...
    def add_document(
        self,
        doc: NewDocument,
        spans: Sequence[Span],
        *,
        cluster_id: int | None = None,
        run_id: int | None = None,
        validators: tuple[str | None, str | None] = (None, None),
    ) -> AddResult: ...
    def cluster_of(self, document_id: int) -> int | None: ...
    def minhashes(self) -> Iterator[tuple[int, bytes]]: ...
    def document_count(self) -> int: ...
    def passage_count(self, languages: Collection[str] | None = None) -> int: ...
    def documents(self, ids: Iterable[int]) -> dict[int, StoredDocument]: ...
    def document_by_url(self, url: str) -> StoredDocument | None: ...
    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...
    def passage_ids(self, languages: Collection[str] | None = None) -> npt.NDArray[np.int64]: ...
    def unembedded(
        self, limit: int = 1024, after: int = -1, languages: Collection[str] | None = None
    ) -> list[tuple[int, str]]: ...
    def unembedded_count(self, languages: Collection[str] | None = None) -> int: ...
    def set_embeddings(self, ids: Sequence[int], vectors: npt.NDArray[np.float32]) -> None: ...
    def embeddings(
        self, ids: Sequence[int] | None = None, batch: int = 20_000
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]: ...
    def keyword_search(
        self, query: str, k: int, languages: Collection[str] | None = None
    ) -> list[tuple[int, float]]: ...
    def other_language_reports(
        self, names: Sequence[str], languages: Collection[str], exclude_outlets: Collection[str] = ()
    ) -> dict[str, int]: ...
    def save_check(self, kind: str, source: str | None, title: str | None, report: dict[str, Any]) -> int: ...


def open_store(settings: Settings, *, read_only: bool | None = None) -> CorpusStore:
    """The store ``settings`` name: PostgreSQL at ``store_url`` when it is set, else the data folder's SQLite file."""
    if settings.store_url:
        from corroborate.corpus.pgstore import PostgresStore

        return PostgresStore(settings.store_url, read_only=bool(read_only))
    from corroborate.corpus.store import Store

    return Store(settings.store_path, read_only=read_only)


def shared(settings: Settings) -> bool:
    """Whether ``settings`` name a store that several processes and hosts write at once (PostgreSQL)."""
    return bool(settings.store_url)


def corpus_writer_lock(
    settings: Settings, *, timeout: float = 0.0, what: str = "writing"
) -> AbstractContextManager[None]:
    """The data folder's ``write.lock`` for the SQLite store; nothing for PostgreSQL, whose writers work
    side by side (transactions, ``INSERT … ON CONFLICT``; the index step takes its own locks)."""
    if shared(settings):
        return nullcontext()
    return writer_lock(settings.home, timeout=timeout, what=what)
