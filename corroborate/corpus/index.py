"""The FAISS vector index over passage embeddings, kept in step with the store.

Files under ``index_dir``: ``passages.faiss`` and ``manifest.json`` (model, dimension, metric,
kind, count, store generation, sha256 of the index file). Both are written to a temp file,
fsynced and renamed; the manifest last, so a crash leaves either the old pair or a new index
whose manifest does not match yet (detected by the checksum, then rebuilt from the store).

Embeddings live in the store (float16), so the index can always be rebuilt without re-running
the model; :func:`sync_index` embeds only passages that have no embedding yet.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from corroborate.corpus.backend import CorpusStore
from corroborate.corpus.embed import Embedder
from corroborate.corpus.lock import writer_lock
from corroborate.corpus.pgstore import PostgresStore
from corroborate.errors import IndexStateError, StoreError
from corroborate.languages import judged_languages
from corroborate.settings import Settings

INDEX_FILE = "passages.faiss"
INDEX_LOCK = "index.lock"  # a shared store's per-host cache: one updater at a time in a data folder
INDEX_LOCK_WAIT_S = 600.0
MANIFEST_FILE = "manifest.json"
FORMAT = 1
Progress = Callable[[str, int, int], None]


# Until Settings has these fields, their defaults live here (benchmarks/index_scale.py measured them:
# at 1M passages nprobe 32 of 512 lists gives recall@10 ~0.95, 64 gives ~0.97, int8 codes cap it at ~0.98).
# the defaults live in Settings; these names are for benchmarks that build indexes by hand
_DEFAULTS = Settings()
IVF_INDEX_MIN = _DEFAULTS.ivf_index_min
IVF_NLIST = _DEFAULTS.ivf_nlist
IVF_NPROBE = _DEFAULTS.ivf_nprobe
# k-means wants about this many training points per list; fewer and the lists are noise
MIN_TRAIN_PER_LIST = 39


def choose_kind(count: int, settings: Settings) -> str:
    """Exact search while small; HNSW past ``flat_index_max``; IVF with int8 codes past ``ivf_index_min``.

    HNSW keeps every float32 vector plus its graph (~1.8 KB a passage), so at a million passages it
    needs over 1.5 GiB; IVF-SQ8 stores one byte a dimension and keeps recall@10 >= 0.95 at the
    tuned nprobe (docs/performance.md).
    """
    if count <= settings.flat_index_max:
        return "flat"
    if count < settings.ivf_index_min:
        return "hnsw"
    return "ivf_sq8"


def _faiss() -> Any:
    import faiss

    return faiss


def _new_index(kind: str, dim: int, settings: Settings) -> Any:
    faiss = _faiss()
    if kind == "flat":
        base = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        base = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = 80
        base.hnsw.efSearch = settings.hnsw_ef_search
    elif kind == "ivf_sq8":
        nlist = settings.ivf_nlist
        base = _ivf_sq8(dim, nlist, settings.ivf_nprobe)
    else:
        raise IndexStateError(f"unknown index kind {kind!r}")
    return faiss.IndexIDMap2(base)


def _ivf_sq8(dim: int, nlist: int, nprobe: int) -> Any:
    faiss = _faiss()
    quantizer = faiss.IndexFlatIP(dim)
    base = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, max(1, nlist), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    base.nprobe = min(max(1, nprobe), max(1, nlist))
    return base


@dataclass
class Manifest:
    model: str
    dimension: int
    metric: str
    kind: str
    count: int
    store_generation: int
    sha256: str
    created: str
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


class VectorIndex:
    """A FAISS index whose ids are passage ids."""

    def __init__(self, index: Any, kind: str, model: str, dimension: int) -> None:
        self._index = index
        self.kind = kind
        self.model = model
        self.dimension = dimension

    @classmethod
    def empty(cls, kind: str, model: str, dimension: int, settings: Settings) -> VectorIndex:
        return cls(_new_index(kind, dimension, settings), kind, model, dimension)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> npt.NDArray[np.int64]:
        return np.asarray(_faiss().vector_to_array(self._index.id_map), dtype=np.int64)

    def add(self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
        """Add vectors; an IVF index that is still untrained learns its lists from this first batch.

        sync_index adds stored embeddings in id order, 20,000 at a time, so the lists are trained
        on the oldest 20,000 passages: 39 a list for the default 512 lists.
        """
        if len(ids):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if not self._index.is_trained:
                self._train(vectors)
            self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def _train(self, vectors: npt.NDArray[np.float32]) -> None:
        faiss = _faiss()
        base = faiss.downcast_index(self._index.index)
        fitting = max(1, len(vectors) // MIN_TRAIN_PER_LIST)
        if isinstance(base, faiss.IndexIVF) and base.nlist > fitting:
            # too few vectors for the configured lists (a small first batch): fewer, fuller lists
            self._index = faiss.IndexIDMap2(_ivf_sq8(self.dimension, fitting, int(base.nprobe)))
        self._index.train(vectors)

    def can_remove(self) -> bool:
        return self.kind == "flat"

    def remove(self, ids: npt.NDArray[np.int64]) -> None:
        if len(ids):
            self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        if self.count == 0:
            n = len(vectors)
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k, self.count))
        return scores, ids

    def save(self, index_dir: Path, store_generation: int) -> Manifest:
        """Write index then manifest, each atomically (temp file + fsync + rename)."""
        index_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # files in it are mkstemp's 0600
        # temp files of a save that was killed; saves run under the writer lock, so none is live
        for stale in [*index_dir.glob(".passages.*.tmp"), *index_dir.glob(f".{MANIFEST_FILE}.*.tmp")]:
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=index_dir, prefix=".passages.", suffix=".tmp")
        os.close(fd)
        try:
            _faiss().write_index(self._index, tmp)
            digest = _sha256(Path(tmp))
            _fsync(Path(tmp))
            os.replace(tmp, index_dir / INDEX_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        manifest = Manifest(
            model=self.model,
            dimension=self.dimension,
            metric="inner_product",
            kind=self.kind,
            count=self.count,
            store_generation=store_generation,
            sha256=digest,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        _atomic_write(index_dir / MANIFEST_FILE, manifest.to_json())
        return manifest


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexStateError(f"index manifest {path} is unreadable: {exc}") from None


def load_index(index_dir: Path) -> tuple[VectorIndex, Manifest] | None:
    """The saved index and its manifest; None when there is none.

    Raises IndexStateError when the files exist but do not match each other.
    """
    manifest = read_manifest(index_dir)
    path = index_dir / INDEX_FILE
    if manifest is None:
        return None
    if not path.exists():
        raise IndexStateError(f"index manifest present but {path} is missing")
    if _sha256(path) != manifest.sha256:
        raise IndexStateError(f"index file {path} does not match its manifest checksum")
    try:
        raw = _faiss().read_index(str(path))
    except RuntimeError as exc:
        raise IndexStateError(f"cannot read index {path}: {exc}") from None
    if getattr(raw, "d", manifest.dimension) != manifest.dimension:
        raise IndexStateError(f"index {path} has dimension {raw.d}, its manifest says {manifest.dimension}")
    index = VectorIndex(raw, manifest.kind, manifest.model, manifest.dimension)
    if index.count != manifest.count:
        raise IndexStateError(f"index holds {index.count} vectors, manifest says {manifest.count}")
    return index, manifest


@dataclass
class IndexHealth:
    """What the next ``check`` will find in the saved index (``corroborate index status``)."""

    state: str  # current | empty | missing | stale | broken | incompatible
    next_check: str  # what the next check does with it, in words
    problem: str = ""  # why it is not usable as is
    vectors: int | None = None  # what the index file holds, when it could be read
    as_saved: bool = False  # a stale index a check answers from as it is (the data folder is read-only)

    @property
    def usable(self) -> bool:
        """Whether a check uses the saved index as it is (nothing to build, sync or rebuild first)."""
        return self.state in ("current", "empty") or self.as_saved


def index_health(store: CorpusStore, settings: Settings, model: str, dimension: int) -> IndexHealth:
    """The consistency checks a check runs before it searches (:func:`load_index`: file type, checksum,
    dimension, count; then model and dimension against the embedder's, counts and generation against
    the store), without changing anything; ``model`` and ``dimension`` are the embedder's.

    In a data folder that cannot be written a check repairs nothing: it answers from a stale index as
    saved (usable, with a warning) and stops where there is no usable index.
    """
    passages = store.passage_count(judged_languages(settings.languages))
    index_dir = settings.index_dir
    read_only = bool(getattr(store, "read_only", False))
    cannot = ("check will stop with an error: the data folder is read-only (run `corroborate index rebuild` where "
              "it can be written)")
    try:
        loaded = load_index(index_dir)
    except IndexStateError as exc:
        return IndexHealth("broken", cannot if read_only else "will be rebuilt at next check", str(exc))
    if loaded is None:
        if passages == 0:
            return IndexHealth("empty", "nothing to index yet", vectors=0)
        return IndexHealth("missing", cannot if read_only else "will be built at next check",
                           f"no index for {passages} stored passages")
    index, manifest = loaded
    if manifest.model != model or manifest.dimension != dimension:
        return IndexHealth(
            "incompatible", "check will stop with an error: run `corroborate index rebuild`",
            f"index was built with {manifest.model} ({manifest.dimension}d), the embedder is {model} ({dimension}d)",
            index.count)
    wanted = choose_kind(passages, settings)
    if manifest.store_generation == store.generation() and manifest.count == passages:
        return IndexHealth("current", "used as it is", vectors=index.count)
    problem = (f"index has {manifest.count} vectors of store generation {manifest.store_generation}; the store has "
               f"{passages} passages at generation {store.generation()}")
    if read_only:
        return IndexHealth("stale", "used as saved: the data folder is read-only, so check answers from it without "
                           "syncing (and says so)", problem, index.count, as_saved=True)
    if wanted != index.kind:
        return IndexHealth("stale", f"will be rebuilt at next check (as a {wanted} index)", problem, index.count)
    return IndexHealth("stale", "will be brought up to date at next check", problem, index.count)


@dataclass
class SyncReport:
    embedded: int = 0
    added: int = 0
    removed: int = 0
    rebuilt: bool = False
    reason: str = ""
    count: int = 0
    kind: str = ""


def embed_missing(store: CorpusStore, embedder: Embedder, settings: Settings, progress: Progress | None = None) -> int:
    """Embed every stored passage that has no embedding yet; returns how many."""
    # only passages of documents in a language the embedder reads (or of none told): corroborate/languages.py
    languages = judged_languages(settings.languages)
    total = store.unembedded_count(languages)
    done = 0
    last = -1
    while True:
        # a few thousand texts a call: the encoder sorts each call by length, so bigger calls pad less
        batch = store.unembedded(limit=max(settings.embed_batch_size * 32, 256), after=last, languages=languages)
        if not batch:
            return done
        ids = [pid for pid, _ in batch]
        last = ids[-1]
        vectors = embedder.encode([text for _, text in batch], batch_size=settings.embed_batch_size)
        store.set_embeddings(ids, vectors)
        done += len(ids)
        if progress:
            progress("embed", done, total)


def sync_index(
    store: CorpusStore,
    embedder: Embedder,
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> tuple[VectorIndex, SyncReport]:
    """Bring the saved index in line with the store and save it; the store is the truth.

    Missing embeddings are computed; passages missing from the index are added; vectors of
    passages no longer stored are removed (rebuild for index kinds that cannot remove). An index
    built with another model or dimension is refused with IndexStateError unless ``rebuild``.

    For a store many hosts share (PostgreSQL) the index is this host's cache: see :func:`_sync_cache`.
    """
    if isinstance(store, PostgresStore):
        return _sync_cache(store, embedder, settings, rebuild=rebuild, progress=progress)
    report = SyncReport()
    report.embedded = embed_missing(store, embedder, settings, progress)
    languages = judged_languages(settings.languages)
    return _sync(store, embedder, settings, report, lambda: store.passage_ids(languages), rebuild=rebuild,
                 progress=progress)


def _sync_cache(
    store: PostgresStore, embedder: Embedder, settings: Settings, *, rebuild: bool, progress: Progress | None
) -> tuple[VectorIndex, SyncReport]:
    """Bring this host's index cache in line with a shared store.

    The passages without an embedding are embedded by one process at a time (an advisory lock in
    the database: two workers never embed the same passages), then the cache is updated from one
    snapshot of the database: its generation and exactly the embedded passages it holds, so the
    manifest never claims a generation whose passages the cache lacks. Passages another writer adds
    meanwhile are not embedded yet; the manifest's count then differs from the store's and the next
    sync (or check) takes them in. Processes of this host that share the data folder update the cache
    one at a time (``index.lock``, not the SQLite store's ``write.lock``).
    """
    report = SyncReport()
    try:
        with store.maintenance_lock("embed", timeout=INDEX_LOCK_WAIT_S):
            report.embedded = embed_missing(store, embedder, settings, progress)
        with (
            writer_lock(settings.home, timeout=INDEX_LOCK_WAIT_S, what="index cache update", name=INDEX_LOCK),
            store.snapshot(),
        ):
            languages = judged_languages(settings.languages)
            return _sync(store, embedder, settings, report, lambda: store.passage_ids(languages, embedded_only=True),
                         rebuild=rebuild, progress=progress)
    except StoreError as exc:
        raise IndexStateError(f"cannot bring the index cache in {settings.index_dir} up to date: {exc}") from None


def _sync(
    store: CorpusStore,
    embedder: Embedder,
    settings: Settings,
    report: SyncReport,
    stored_ids: Callable[[], npt.NDArray[np.int64]],
    *,
    rebuild: bool,
    progress: Progress | None,
) -> tuple[VectorIndex, SyncReport]:
    """The index updated to hold the vectors of ``stored_ids()`` (every passage of a store not shared), saved."""
    generation = store.generation()
    index_dir = settings.index_dir
    loaded: tuple[VectorIndex, Manifest] | None = None
    if not rebuild:
        try:
            loaded = load_index(index_dir)
        except IndexStateError as exc:
            report.reason = f"repaired: {exc}"
            loaded = None
    if loaded is not None:
        index, manifest = loaded
        if manifest.model != embedder.name or manifest.dimension != embedder.dimension:
            raise IndexStateError(
                f"index was built with {manifest.model} ({manifest.dimension}d), the embedder is {embedder.name}"
                f" ({embedder.dimension}d); run `corroborate index rebuild`"
            )
        if manifest.store_generation == generation and manifest.count == store.passage_count(
            judged_languages(settings.languages)
        ):
            report.count, report.kind = index.count, index.kind
            return index, report
    stored = stored_ids()
    wanted_kind = choose_kind(len(stored), settings)
    if loaded is None or loaded[0].kind != wanted_kind:
        report.rebuilt = True
        report.reason = report.reason or ("no index yet" if loaded is None else f"switching to {wanted_kind}")
        index = VectorIndex.empty(wanted_kind, embedder.name, embedder.dimension, settings)
        present = np.zeros(0, dtype=np.int64)
    else:
        index = loaded[0]
        present = index.ids()
        stale = np.setdiff1d(present, stored, assume_unique=True)
        if len(stale):
            if index.can_remove():
                index.remove(stale)
                report.removed = len(stale)
                present = np.setdiff1d(present, stale, assume_unique=True)
            else:
                report.rebuilt = True
                report.reason = f"{len(stale)} stale vectors in a {index.kind} index"
                index = VectorIndex.empty(wanted_kind, embedder.name, embedder.dimension, settings)
                present = np.zeros(0, dtype=np.int64)
    missing = np.setdiff1d(stored, present, assume_unique=True)
    done = 0
    for ids, vectors in store.embeddings(missing.tolist() if len(missing) < len(stored) else None):
        if len(missing) >= len(stored):
            keep = np.isin(ids, missing, assume_unique=True)
            ids, vectors = ids[keep], vectors[keep]
        index.add(ids, vectors)
        done += len(ids)
        if progress:
            progress("index", done, len(missing))
    report.added = done
    if index.count != len(stored):
        raise IndexStateError(f"index has {index.count} vectors for {len(stored)} passages after sync")
    index.save(index_dir, generation)
    report.count, report.kind = index.count, index.kind
    return index, report


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
