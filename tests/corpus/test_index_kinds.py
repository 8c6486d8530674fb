"""Index kinds past the flat one: an IVF-SQ8 index built through sync_index must still find passages."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from corroborate.corpus import dedup, passages
from corroborate.corpus.embed import MiniLMEmbedder, load_embedder
from corroborate.corpus.index import choose_kind, load_index, sync_index
from corroborate.corpus.records import NewDocument
from corroborate.corpus.store import Store
from corroborate.settings import Settings

FNC_BODIES = Path(__file__).resolve().parents[3] / "shared" / "data" / "fnc1" / "train_bodies.csv"


class IvfSettings(Settings):
    """Settings that pick IVF-SQ8 from the first passage (the real fields may not exist yet)."""

    flat_index_max: int = 0
    ivf_index_min: int = 0
    ivf_nlist: int = 4
    ivf_nprobe: int = 2


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return load_embedder()


@pytest.fixture(scope="session")
def bodies() -> list[str]:
    if not FNC_BODIES.is_file():
        pytest.skip(f"FNC-1 bodies not found at {FNC_BODIES}")
    csv.field_size_limit(10_000_000)
    with FNC_BODIES.open(encoding="utf-8", newline="") as f:
        rows = [r["articleBody"] for r in csv.DictReader(f)]
    # long bodies, so 14 of them give enough passages to train several lists
    return [b for b in rows if len(b) > 2500][:14]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "corroborate.db") as s:
        yield s


def _add(store: Store, settings: Settings, number: int, text: str) -> None:
    spans = passages.split_passages(text, settings.passage_sentences, settings.passage_overlap)
    url = f"https://example.org/fnc/{number}"
    doc = NewDocument(url=url, canonical_url=url, outlet="FNC", text=text, content_hash=dedup.content_hash(text))
    store.add_document(doc, spans)


def _own_passage_first(store: Store, index: object, embedder: MiniLMEmbedder, sample: int) -> float:
    from corroborate.corpus.index import VectorIndex

    assert isinstance(index, VectorIndex)
    ids = store.passage_ids()
    chosen = ids[np.linspace(0, len(ids) - 1, sample).astype(int)]
    found = store.passages(chosen.tolist())
    queries = embedder.encode([found[int(pid)].text for pid in chosen])
    _, hits = index.search(queries, 5)
    return float(np.mean(hits[:, 0] == chosen))


def test_choose_kind_by_size() -> None:
    s = Settings(flat_index_max=10)
    assert choose_kind(10, s) == "flat"
    assert choose_kind(11, s) == "hnsw"
    assert choose_kind(2_000_000, s) == "ivf_sq8"


def test_ivf_built_by_sync_index_finds_own_passage_first(
    tmp_path: Path, store: Store, embedder: MiniLMEmbedder, bodies: list[str]
) -> None:
    settings = IvfSettings(home=tmp_path)
    for i, body in enumerate(bodies[:10]):
        _add(store, settings, i, body)
    index, report = sync_index(store, embedder, settings)
    assert report.kind == "ivf_sq8" and report.rebuilt
    assert index.count == store.passage_count() > 4 * 39
    import faiss

    ivf = faiss.extract_index_ivf(index._index)
    assert ivf.nlist == 4 and ivf.nprobe == 2
    assert _own_passage_first(store, index, embedder, 25) >= 0.95

    # reloaded from disk it is the same kind and still answers
    loaded = load_index(settings.index_dir)
    assert loaded is not None and loaded[0].kind == "ivf_sq8" and loaded[0].count == index.count

    # new documents are added to the trained lists, not rebuilt
    for i, body in enumerate(bodies[10:], start=10):
        _add(store, settings, i, body)
    index, report = sync_index(store, embedder, settings)
    assert not report.rebuilt and report.added > 0 and index.count == store.passage_count()
    assert _own_passage_first(store, index, embedder, 25) >= 0.95


def test_ivf_trains_fewer_lists_when_the_first_batch_is_small(
    tmp_path: Path, store: Store, embedder: MiniLMEmbedder, bodies: list[str]
) -> None:
    settings = IvfSettings(home=tmp_path, ivf_nlist=1024, ivf_nprobe=64)
    _add(store, settings, 0, bodies[0])
    index, report = sync_index(store, embedder, settings)
    import faiss

    ivf = faiss.extract_index_ivf(index._index)
    assert report.kind == "ivf_sq8" and ivf.nlist == 1 and ivf.nprobe == 1
    assert _own_passage_first(store, index, embedder, 5) == 1.0
