"""The store and the FAISS index kept in step with it, on real text and the real model.

Each test that takes ``settings`` runs on both stores: the SQLite file and PostgreSQL (a fresh database on
the session's server, tests/corpus/conftest.py); the SQLite-only ones (its file format, its pragma) take
``sqlite_settings``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from corroborate.corpus.backend import CorpusStore, open_store
from corroborate.corpus.embed import load_embedder
from corroborate.corpus.index import INDEX_FILE, MANIFEST_FILE, load_index, sync_index
from corroborate.corpus.lock import writer_lock
from corroborate.corpus.passages import split_passages
from corroborate.corpus.records import NewDocument
from corroborate.corpus.store import Store
from corroborate.errors import IndexStateError, StoreError
from corroborate.settings import Settings, load_settings

ARTICLES = {
    "https://a.example/bridge": "The city council approved a new bridge over the river on Monday. "
    "Construction starts in spring and will take two years. The mayor called it a historic day.",
    "https://b.example/flood": "Heavy rain flooded the lower town overnight. Firefighters pumped water from dozens of "
    "cellars. No one was hurt, the fire brigade said.",
    "https://c.example/match": "The home side won the cup final 3-1 after extra time. Their striker scored twice in "
    "the last ten minutes.",
}


def _doc(url: str, text: str, outlet: str = "a.example") -> NewDocument:
    from corroborate.corpus.dedup import content_hash

    return NewDocument(
        url=url, canonical_url=url, outlet=outlet, text=text, content_hash=content_hash(text), title=text.split(".")[0]
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A data folder of its own and the store the parameter names (PostgreSQL: a new, empty database)."""
    values: dict[str, object] = {"home": tmp_path}
    if request.param == "postgresql":
        values["store_url"] = request.getfixturevalue("pg_url")
    return load_settings(values, environ={})


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return load_settings({"home": tmp_path}, environ={})


def _fill(store: CorpusStore) -> None:
    for url, text in ARTICLES.items():
        store.add_document(_doc(url, text), split_passages(text, 2, 1, 400))


def test_add_is_idempotent_and_dedups(settings: Settings) -> None:
    with open_store(settings) as store:
        _fill(store)
        g = store.generation()
        url, text = next(iter(ARTICLES.items()))
        assert store.add_document(_doc(url, text), split_passages(text)).outcome == "unchanged"
        # same text under a tracking URL: an alias of the stored document, no new passages
        assert store.add_document(_doc(url + "?utm_source=x", text), split_passages(text)).outcome == "duplicate"
        assert store.generation() == g
        assert store.document_count() == 3
        changed = text + " Opponents plan to appeal."
        res = store.add_document(_doc(url, changed), split_passages(changed))
        assert res.outcome == "updated"
        assert store.generation() == g + 1
        assert store.document_count() == 3
        assert store.integrity_check() == []


def test_schema_newer_than_code_is_refused(sqlite_settings: Settings) -> None:
    settings = sqlite_settings
    Store(settings.store_path).close()
    import sqlite3

    conn = sqlite3.connect(settings.store_path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(settings.store_path)


def _open_store(path: str) -> int:
    from corroborate.corpus.store import SCHEMA_VERSION

    with Store(Path(path)) as store:
        assert store.generation() >= 0
    return SCHEMA_VERSION


def test_many_processes_create_one_store_at_once(tmp_path: Path) -> None:
    """A fresh store opened by several processes at the same moment migrates exactly once (CI caught
    "table meta already exists" when two ingests started together)."""
    import multiprocessing
    import sqlite3

    for attempt in range(5):
        path = tmp_path / f"race{attempt}" / "corroborate.db"
        with multiprocessing.get_context("spawn").Pool(6) as pool:
            versions = pool.map(_open_store, [str(path)] * 6)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == versions[0]
        conn.close()
        with Store(path) as store:
            assert store.integrity_check() == []


def test_not_a_database(sqlite_settings: Settings) -> None:
    settings = sqlite_settings
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.store_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store(settings.store_path)


def test_index_follows_the_store(settings: Settings) -> None:
    emb = load_embedder()
    with open_store(settings) as store:
        _fill(store)
        index, report = sync_index(store, emb, settings)
        assert report.embedded == store.passage_count() == index.count
        manifest = json.loads((settings.index_dir / MANIFEST_FILE).read_text())
        assert manifest["count"] == index.count and manifest["dimension"] == 384
        assert manifest["store_generation"] == store.generation()
        # a page's own sentence finds that page first
        q = emb.encode(["Firefighters pumped water from dozens of cellars."])
        _, ids = index.search(q, 3)
        assert store.passages([int(ids[0][0])])[int(ids[0][0])].url == "https://b.example/flood"
        # nothing changed: nothing embedded or added
        _, again = sync_index(store, emb, settings)
        assert (again.embedded, again.added, again.removed) == (0, 0, 0)
        # an updated document: its old passages leave the index, new ones enter, only new text is embedded
        url = "https://c.example/match"
        text = ARTICLES[url] + " The coach praised the fans."
        store.add_document(_doc(url, text), split_passages(text, 2, 1, 400))
        index, rep = sync_index(store, emb, settings)
        assert rep.removed > 0 and rep.added > 0
        assert rep.embedded == rep.added
        assert sorted(index.ids().tolist()) == store.passage_ids().tolist()


def test_corrupt_index_is_detected_and_repaired(settings: Settings) -> None:
    emb = load_embedder()
    with open_store(settings) as store:
        _fill(store)
        sync_index(store, emb, settings)
        path = settings.index_dir / INDEX_FILE
        path.write_bytes(path.read_bytes()[:-100])
        with pytest.raises(IndexStateError, match="checksum"):
            load_index(settings.index_dir)
        index, report = sync_index(store, emb, settings)
        assert report.rebuilt and report.embedded == 0  # rebuilt from stored embeddings, no model run
        assert index.count == store.passage_count()
        assert load_index(settings.index_dir) is not None


def test_index_from_another_model_is_refused(settings: Settings) -> None:
    emb = load_embedder()
    with open_store(settings) as store:
        _fill(store)
        sync_index(store, emb, settings)
        m = settings.index_dir / MANIFEST_FILE
        data = json.loads(m.read_text())
        data["model"] = "some/other-model"
        m.write_text(json.dumps(data))
        with pytest.raises(IndexStateError, match="rebuild"):
            sync_index(store, emb, settings)


def test_hnsw_past_the_flat_limit(settings: Settings) -> None:
    settings = settings.replace(flat_index_max=2)
    emb = load_embedder()
    with open_store(settings) as store:
        _fill(store)
        index, report = sync_index(store, emb, settings)
        assert index.kind == "hnsw" and index.count == store.passage_count()
        vec = np.asarray(emb.encode(["The home side won the cup final after extra time."]))
        _, ids = index.search(vec, 1)
        assert store.passages([int(ids[0][0])])[int(ids[0][0])].url == "https://c.example/match"


def test_writer_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    with writer_lock(tmp_path, what="first"), pytest.raises(StoreError, match="another corroborate process"):
        with writer_lock(tmp_path, timeout=0.3):
            pass
    with writer_lock(tmp_path):  # released
        pass


def test_keyword_search_ignores_fts_syntax(settings: Settings) -> None:
    with open_store(settings) as store:
        _fill(store)
        hits = store.keyword_search('bridge" OR NEAR(( council*', 5)
        assert hits and store.passages([hits[0][0]])[hits[0][0]].url == "https://a.example/bridge"
        assert store.keyword_search("", 5) == []


def test_unembedded_walks_by_id_and_embed_missing_fills_gaps(settings: Settings) -> None:
    """embed_missing pages through the unembedded passages by id (no rescans from the start) and
    still embeds every one, including passages left between embedded ones by an earlier crash."""
    import numpy as np

    from corroborate.corpus.index import embed_missing

    emb = load_embedder()
    with open_store(settings) as store:
        _fill(store)
        ids = store.passage_ids().tolist()
        # an earlier run embedded every other passage before it was killed
        done = ids[::2]
        store.set_embeddings(done, np.ones((len(done), 384), dtype=np.float32) / np.sqrt(384))
        missing = [pid for pid in ids if pid not in done]
        assert [pid for pid, _ in store.unembedded(limit=100)] == missing
        assert [pid for pid, _ in store.unembedded(limit=100, after=missing[0])] == missing[1:]
        assert embed_missing(store, emb, settings) == len(missing)
        assert store.unembedded(limit=100) == []


def test_wal_pragma_is_retried_while_another_opener_holds_the_new_file() -> None:
    """SQLite may refuse ``journal_mode=WAL`` with "database is locked" at once while another process
    sets up the same new file; the store retries instead of failing (and gives up on other errors)."""
    import sqlite3

    from corroborate.corpus.store import wal

    class Flaky:
        def __init__(self, failures: int, message: str = "database is locked") -> None:
            self.failures, self.message, self.calls = failures, message, 0

        def execute(self, sql: str) -> None:
            self.calls += 1
            if self.calls <= self.failures:
                raise sqlite3.OperationalError(self.message)

    conn = Flaky(3)
    wal(conn, wait_s=5.0)  # type: ignore[arg-type]
    assert conn.calls == 4
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        wal(Flaky(10**6), wait_s=0.2)  # type: ignore[arg-type]
    other = Flaky(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        wal(other, wait_s=5.0)  # type: ignore[arg-type]
    assert other.calls == 1
