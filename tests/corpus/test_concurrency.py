"""Two writers at once, and a reader while a writer writes, against one data folder.

Real processes: each ingest is ``python tests/hostile.py ingest`` (library steps under the writer
lock), the reader is this test process using corroborate.check.checker.open_index as ``check`` does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hostile import (
    FeedServer,
    finish,
    one_outlet_file,
    result_of,
    serving,
    spawn_ingest,
    wait_for_line,
)
from newssite import NewsSite

from corroborate.corpus.index import load_index
from corroborate.corpus.lock import writer_lock
from corroborate.corpus.store import Store
from corroborate.errors import StoreError
from corroborate.settings import load_settings

PAGES = 5


@pytest.fixture
def feed(news_site: NewsSite) -> Iterator[FeedServer]:
    with serving(sorted(news_site.pages.values())[:PAGES]) as server:
        yield server


def _outlets(tmp_path: Path, feed: FeedServer) -> Path:
    return one_outlet_file(tmp_path, feed, "Twin Times")


def test_two_ingests_at_once_serialise(feed: FeedServer, tmp_path: Path) -> None:
    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    first = spawn_ingest(home, outlets, "--lock-timeout", "300")
    second = spawn_ingest(home, outlets, "--lock-timeout", "300")
    (code1, out1, err1), (code2, out2, err2) = finish(first), finish(second)
    assert code1 == 0, err1[-2000:]
    assert code2 == 0, err2[-2000:]
    outcomes = [result_of(out1)["outcomes"], result_of(out2)["outcomes"]]
    for url in feed.listed:
        # one of them stored it, the other found it already there; never both "new"
        assert sorted(o[url] for o in outcomes) in (["new", "unchanged"], ["new", "not_modified"]), url
    with Store(home / "corroborate.db") as store:
        assert store.integrity_check() == []
        assert store.document_count() == PAGES
        loaded = load_index(home / "index")
        assert loaded is not None
        index, manifest = loaded
        assert manifest.store_generation == store.generation()
        assert sorted(index.ids().tolist()) == sorted(store.passage_ids().tolist())


def test_second_writer_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with writer_lock(home, what="ingest"):
        with pytest.raises(StoreError, match=rf"pid {os.getpid()}\b.*is writing to"):
            with writer_lock(home, timeout=0.5):
                pass
    with writer_lock(home, timeout=0):  # released on exit, also after the failed attempt
        pass


def test_check_while_an_ingest_writes(feed: FeedServer, news_site: NewsSite, tmp_path: Path) -> None:
    from corroborate.check.checker import open_index
    from corroborate.corpus.embed import load_embedder

    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    code, out, err = finish(spawn_ingest(home, outlets))
    assert code == 0, err[-2000:]
    first_count = result_of(out)["index_count"]

    feed.listed += sorted(news_site.pages.values())[PAGES : PAGES + 3]
    writer = spawn_ingest(home, outlets, "--hold-s", "1.5")
    try:
        assert wait_for_line(writer, "PHASE wrote 0"), "the writer never started writing"
        with pytest.raises(StoreError, match=rf"pid {writer.pid}\b"):
            with writer_lock(home, timeout=0):
                pass
        settings = load_settings({"home": home}, environ={})
        embedder = load_embedder()
        messages: list[str] = []
        started = time.monotonic()
        with Store(settings.store_path) as store:
            index = open_index(store, embedder, settings, messages.append)
            # the last saved snapshot, not a half-synced one, and no repair attempted under the writer
            assert index.count == first_count
            scores, ids = index.search(embedder.encode(["The government announced new measures."]), 10)
            found = [int(i) for i in ids[0] if i >= 0]
            assert found and set(store.passages(found)) == set(found), "index answered with passages not stored"
            from corroborate.check.checker import Checker
            from corroborate.judge.reading import Judge

            checker = Checker(settings, store, index, embedder, Judge.load(embedder))
            result = checker.check_claim("The government announced new measures.")
            assert result.verdict.status in {"corroborated", "contradicted", "unmatched"}
        assert time.monotonic() - started < 60, "check waited for the ingest instead of answering"
        assert writer.poll() is None, "the writer finished before the reader looked; raise --hold-s"
    finally:
        code, _, err = finish(writer)
    assert code == 0, err[-2000:]
    with Store(home / "corroborate.db") as store:
        assert store.integrity_check() == []
        index = open_index(store, load_embedder(), load_settings({"home": home}, environ={}))
        assert index.count == store.passage_count() > first_count
        assert np.isin(store.passage_ids(), index.ids()).all()
