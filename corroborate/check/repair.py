"""The index a check reads: the saved one when it is current, else repaired first; the saved one as it is
when another process is writing the data folder or it is read-only.
"""

from __future__ import annotations

from collections.abc import Callable

from corroborate.corpus.backend import CorpusStore, corpus_writer_lock
from corroborate.corpus.embed import Embedder
from corroborate.corpus.index import VectorIndex, load_index, sync_index
from corroborate.errors import IndexStateError, StoreError
from corroborate.languages import judged_languages
from corroborate.settings import Settings


def open_index(
    store: CorpusStore, embedder: Embedder, settings: Settings, log: Callable[[str], None] | None = None
) -> VectorIndex:
    """The index, repaired first when it lags the store and no writer holds the data folder."""
    try:
        loaded = load_index(settings.index_dir)
    except IndexStateError as exc:
        loaded = None
        if log:
            log(f"index needs repair: {exc}")
    fresh = (
        loaded is not None
        and loaded[1].store_generation == store.generation()
        and loaded[1].count == store.passage_count(judged_languages(settings.languages))
    )
    if fresh and loaded is not None:
        return loaded[0]
    if store.passage_count(judged_languages(settings.languages)) == 0 and loaded is None:
        return VectorIndex.empty("flat", embedder.name, embedder.dimension, settings)
    if store.read_only:  # nothing can be repaired in a read-only data folder: answer from what is saved
        if loaded is None:
            raise IndexStateError(
                f"no usable index in {settings.index_dir}, and the data folder is read-only; run "
                "`corroborate index rebuild` where it can be written"
            )
        if log:
            log(f"warning: the index lags the store and {settings.home} is read-only; answering from the saved index")
        return loaded[0]
    try:
        with corpus_writer_lock(settings, timeout=0, what="index repair"):
            index, report = sync_index(store, embedder, settings)
            if log and (report.added or report.removed or report.rebuilt):
                log(f"index synced: +{report.added} -{report.removed}{' (rebuilt)' if report.rebuilt else ''}")
            return index
    except StoreError:
        # an ingest is writing right now: answer from the last saved index (a consistent snapshot)
        if loaded is None:
            raise IndexStateError("no usable index yet and an ingest is writing; try again when it finishes") from None
        return loaded[0]
