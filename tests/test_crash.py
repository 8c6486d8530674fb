"""SIGKILL the ingest at random points, many times, and prove nothing is half-stored or lost.

The child (``python tests/hostile.py ingest``) runs the library steps under the writer lock; the
parent picks a random phase (discover, fetch, extract, a random write, embed, index sync) and a
random delay after it, kills, then checks the store and index before starting the next child.
``CORROBORATE_KILL_LOOP`` raises the number of kills (default 8) and ``CORROBORATE_KILL_SEED``
replays a run; the seed is printed.
"""

from __future__ import annotations

import os
import random
import signal
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
)
from newssite import NewsSite

from corroborate.corpus.index import MANIFEST_FILE, load_index
from corroborate.corpus.store import Store
from corroborate.errors import IndexStateError

PAGES = 6
EXTRA_PAGES = 2
PHASES = ["start", "discover", "fetch", "extract", "write", "wrote", "embed", "sync"]


@pytest.fixture
def feed(news_site: NewsSite) -> Iterator[FeedServer]:
    with serving(sorted(news_site.pages.values())[:PAGES]) as server:
        yield server


def _outlets(tmp_path: Path, feed: FeedServer) -> Path:
    return one_outlet_file(tmp_path, feed, "Crash Courier")


def assert_consistent(home: Path) -> str:
    """Store invariants hold and the index is either a consistent snapshot or detectably torn."""
    with Store(home / "corroborate.db") as store:
        assert store.integrity_check() == []
        stored = store.passage_ids()
        generation = store.generation()
        embedded = store.passage_count() - store.unembedded_count()
        assert 0 <= embedded <= len(stored)
    try:
        loaded = load_index(home / "index")
    except IndexStateError as exc:
        return f"torn index detected: {exc}"
    if loaded is None:
        return "no index yet"
    index, manifest = loaded
    ids = index.ids()
    assert index.count == manifest.count == len(ids)
    # passages are only added in these runs, so an older snapshot is a subset of the store
    assert np.isin(ids, stored).all(), "index holds passages the store does not have"
    if manifest.store_generation == generation:
        assert sorted(ids.tolist()) == sorted(stored.tolist()), "index claims to be current but is not"
        return "index current"
    return "index stale (next run or check syncs it)"


def _kill_at(home: Path, outlets: Path, phase: str, delay: float) -> str:
    proc = spawn_ingest(home, outlets)
    assert proc.stdout is not None
    reached = False
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if line.startswith(f"PHASE {phase}"):
            reached = True
            break
        if time.monotonic() > deadline:
            break
    if reached:
        time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    code, _, err = finish(proc)
    assert code in (0, -signal.SIGKILL), err[-2000:]
    return "killed" if code == -signal.SIGKILL else "finished first"


@pytest.mark.slow
def test_kill_loop_leaves_a_consistent_store(feed: FeedServer, news_site: NewsSite, tmp_path: Path) -> None:
    seed = int(os.environ.get("CORROBORATE_KILL_SEED") or random.randrange(2**32))
    kills = int(os.environ.get("CORROBORATE_KILL_LOOP") or 8)
    print(f"kill loop: seed={seed} kills={kills} (CORROBORATE_KILL_SEED={seed} replays it)")
    rng = random.Random(seed)
    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    for n in range(kills):
        phase = rng.choice(PHASES)
        if phase == "wrote":
            phase = f"wrote {rng.randrange(PAGES)}"
        delay = rng.uniform(0.0, 0.5)
        what = _kill_at(home, outlets, phase, delay)
        state = assert_consistent(home)
        print(f"  kill {n}: {phase} +{delay:.2f}s -> {what}; {state}")

    code, out, err = finish(spawn_ingest(home, outlets))
    assert code == 0, err[-2000:]
    result = result_of(out)
    assert assert_consistent(home) == "index current"
    with Store(home / "corroborate.db") as store:
        for url in feed.listed:
            assert store.document_by_url(url) is not None, f"page never stored after the kills: {url}"
        assert result["index_count"] == store.passage_count() > 0


@pytest.mark.slow
def test_kill_during_index_save(feed: FeedServer, news_site: NewsSite, tmp_path: Path) -> None:
    """A kill mid index write keeps the old pair; a kill between index and manifest is detected and repaired."""
    from corroborate.check.checker import open_index
    from corroborate.corpus.embed import load_embedder
    from corroborate.settings import load_settings

    home, outlets = tmp_path / "home", _outlets(tmp_path, feed)
    code, _, err = finish(spawn_ingest(home, outlets))
    assert code == 0, err[-2000:]
    before = (home / "index" / MANIFEST_FILE).read_text()
    assert assert_consistent(home) == "index current"

    more = sorted(news_site.pages.values())[PAGES : PAGES + EXTRA_PAGES]
    feed.listed += more
    code, _, err = finish(spawn_ingest(home, outlets, "--crash", "index-write"))
    assert code == -signal.SIGKILL, err[-2000:]
    assert (home / "index" / MANIFEST_FILE).read_text() == before, "a torn write replaced the manifest"
    assert assert_consistent(home) == "index stale (next run or check syncs it)"
    leftovers = list((home / "index").glob(".passages.*.tmp"))
    print(f"temp files left by the torn write: {[p.name for p in leftovers]}")

    feed.listed += sorted(news_site.pages.values())[PAGES + EXTRA_PAGES : PAGES + EXTRA_PAGES + 1]
    code, _, err = finish(spawn_ingest(home, outlets, "--crash", "before-manifest"))
    assert code == -signal.SIGKILL, err[-2000:]
    assert assert_consistent(home).startswith("torn index detected"), "new index under an old manifest went unnoticed"

    # the next reader repairs it (no writer holds the folder), from embeddings already in the store
    settings = load_settings({"home": home}, environ={})
    messages: list[str] = []
    with Store(settings.store_path) as store:
        index = open_index(store, load_embedder(), settings, messages.append)
        assert index.count == store.passage_count()
        assert sorted(index.ids().tolist()) == sorted(store.passage_ids().tolist())
    assert any("repair" in m for m in messages), messages
    assert assert_consistent(home) == "index current"
    with Store(settings.store_path) as store:
        for url in feed.listed:
            assert store.document_by_url(url) is not None, "a page stored before the crash is gone"
