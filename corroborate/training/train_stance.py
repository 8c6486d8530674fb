"""Train the bundled stance model: ``python -m corroborate.training.train_stance --data /work/shared/data``.

The recipe (shared with :func:`corroborate.training.evaluate.evaluate_fnc1`, so CV measures what ships):

1. an NLI head (MLP over MiniLM [u, v, |u-v|, u*v]) trained on SNLI, whose contradiction and
   entailment probabilities between the claim and its best evidence sentences become features;
2. a TF-IDF vectoriser fitted on the training claims and bodies;
3. stage 1, a gradient-boosted related-vs-unrelated classifier;
4. stage 2, a gradient-boosted agree/disagree/discuss classifier on related pairs only, with
   class weights that lift the rare ``disagree`` class.

The artefact holds only sklearn objects, numpy arrays and plain dicts (see :data:`FORMAT_VERSION`).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from corroborate.corpus.embed import Embedder, Vectors, load_embedder
from corroborate.errors import ConfigError
from corroborate.training.stance_features import (
    FEATURE_NAMES,
    NLI_LABELS,
    Prepared,
    Progress,
    build_matrix,
    embedding_blocks,
    nli_pair_features,
    prepare,
)

FORMAT_VERSION = 2
LABELS = ("agree", "disagree", "discuss", "unrelated")
RELATED_LABELS = ("agree", "disagree", "discuss")
SNLI_TRAIN_PAIRS = 30_000
# Weight of each related class in stage 2, relative to its inverse frequency (1.0 = fully balanced).
BALANCE_POWER = 0.8
# Stage 2 also sees a low-dimensional projection (PCA fitted on the training pairs) of the evidence's
# MiniLM vector: what the evidence as a whole says, which the sentence-level features miss. Chosen
# by grouped CV on body folds *and* on topic folds (see docs/evaluation.md): the claim's own vector
# helped on body folds only (it memorises headlines that recur across bodies), 64 components overfit.
PROJECTIONS: tuple[tuple[str, int], ...] = (("body", 32),)
SEED = 13


@dataclass(frozen=True)
class FncData:
    claims: list[str]
    bodies: list[str]
    body_ids: list[int]
    labels: list[str]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.claims, self.bodies, strict=True))


def fnc_dir(data_dir: Path) -> Path:
    """Accept either the data folder holding ``fnc1/`` or the fnc1 folder itself."""
    for candidate in (data_dir / "fnc1", data_dir):
        if (candidate / "train_stances.csv").is_file() and (candidate / "train_bodies.csv").is_file():
            return candidate
    raise ConfigError(f"no FNC-1 train_stances.csv/train_bodies.csv under {data_dir}")


def load_fnc1(data_dir: Path, limit: int | None = None) -> FncData:
    folder = fnc_dir(data_dir)
    csv.field_size_limit(sys.maxsize)
    with (folder / "train_bodies.csv").open(encoding="utf-8", newline="") as fh:
        bodies = {int(row["Body ID"]): row["articleBody"] for row in csv.DictReader(fh)}
    claims: list[str] = []
    texts: list[str] = []
    ids: list[int] = []
    labels: list[str] = []
    with (folder / "train_stances.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            body_id = int(row["Body ID"])
            claims.append(row["Headline"])
            texts.append(bodies[body_id])
            ids.append(body_id)
            labels.append(row["Stance"])
    if limit is not None and limit < len(claims):
        # A limit keeps whole bodies (the first ones by id) so grouped CV still makes sense.
        keep_bodies = set(sorted(set(ids))[: max(1, round(len(set(ids)) * limit / len(ids)))])
        keep = [i for i, b in enumerate(ids) if b in keep_bodies]
        claims, texts, ids, labels = ([x[i] for i in keep] for x in (claims, texts, ids, labels))  # type: ignore[assignment]
    return FncData(claims, texts, ids, labels)


def load_snli(
    data_dir: Path, n_pairs: int = SNLI_TRAIN_PAIRS, file: str = "train_subset.tsv"
) -> tuple[list[str], list[str], list[str]]:
    # Like fnc_dir: accept the data folder or its fnc1/ subfolder (snli/ sits beside it).
    root = data_dir if (data_dir / "snli").is_dir() else data_dir.parent
    path = root / "snli" / file
    if not path.is_file():
        raise ConfigError(f"SNLI file {path} not found (needed to train the NLI head)")
    premises: list[str] = []
    hypotheses: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["gold_label"] not in NLI_LABELS:
                continue
            premises.append(row["sentence1"])
            hypotheses.append(row["sentence2"])
            labels.append(row["gold_label"])
            if len(labels) >= n_pairs:
                break
    return premises, hypotheses, labels


class CachingEmbedder:
    """Development aid: remembers vectors on disk so repeated training/CV runs skip the encoder."""

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self._path = cache_dir / f"{hashlib.sha1(inner.name.encode()).hexdigest()[:10]}.npz"
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._index: dict[str, int] = {}
        self._unsaved = 0
        self._vecs = np.zeros((0, inner.dimension), dtype=np.float32)
        if self._path.is_file():
            with np.load(self._path, allow_pickle=False) as data:
                self._vecs = data["vecs"]
                self._index = {t: i for i, t in enumerate(data["texts"].tolist())}

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._index))
        if missing:
            new = self.inner.encode(missing, batch_size=batch_size)
            base = len(self._index)
            self._index.update({t: base + i for i, t in enumerate(missing)})
            self._vecs = np.vstack([self._vecs, new])
            self._unsaved += len(missing)
            if self._unsaved >= 8192:
                self.flush()
        return self._vecs[[self._index[t] for t in texts]]

    def flush(self) -> None:
        self._unsaved = 0
        tmp = self._path.with_suffix(".tmp.npz")
        np.savez(tmp, vecs=self._vecs, texts=np.array(list(self._index), dtype=object).astype(str))
        tmp.replace(self._path)


def train_nli_head(
    premises: Sequence[str], hypotheses: Sequence[str], labels: Sequence[str], embedder: Embedder
) -> Any:
    from sklearn.neural_network import MLPClassifier

    texts = list(dict.fromkeys([*premises, *hypotheses]))
    vecs = embedder.encode(texts)
    pos = {t: i for i, t in enumerate(texts)}
    x = nli_pair_features(vecs[[pos[p] for p in premises]], vecs[[pos[h] for h in hypotheses]])
    head = MLPClassifier(
        hidden_layer_sizes=(256,),
        alpha=1e-3,
        batch_size=256,
        max_iter=40,
        early_stopping=True,
        n_iter_no_change=4,
        random_state=SEED,
    )
    head.fit(x, np.asarray(labels))
    return head


def fit_tfidf(texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        lowercase=True, stop_words="english", max_features=20_000, sublinear_tf=True, min_df=2, dtype=np.float32
    )
    vec.fit(list(dict.fromkeys(texts)))
    return vec


def _stage_weights(labels: npt.NDArray[np.str_], power: float) -> npt.NDArray[np.float64]:
    classes, counts = np.unique(labels, return_counts=True)
    freq = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    w = np.array([(len(labels) / (len(classes) * freq[y])) ** power for y in labels.tolist()])
    return np.asarray(w / w.mean(), dtype=np.float64)


def _gbm() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=0.06,
        max_iter=400,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        random_state=SEED,
    )


def fit_projections(
    blocks: dict[str, npt.NDArray[np.float32]], rows: Sequence[int] | npt.NDArray[np.int64]
) -> list[dict[str, Any]]:
    """PCA of each PROJECTIONS block over the training ``rows``: [{"name", "mean", "components"}]."""
    out: list[dict[str, Any]] = []
    idx = np.asarray(rows, dtype=np.int64)
    for name, dim in PROJECTIONS:
        m = blocks[name][idx].astype(np.float64)
        mean = m.mean(axis=0)
        # rows of vt are the principal directions, largest variance first
        _, _, vt = np.linalg.svd(m - mean, full_matrices=False)
        components = vt[:dim]
        # fix each direction's sign (largest |loading| positive) so retraining gives the same artefact
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        out.append({"name": name, "mean": mean.astype(np.float32),
                    "components": (components * signs[:, None]).astype(np.float32)})
    return out


def project(
    blocks: dict[str, npt.NDArray[np.float32]], projections: Sequence[dict[str, Any]]
) -> npt.NDArray[np.float32]:
    """The stage-2 extra columns: each block centred and projected on its fitted components."""
    if not projections:
        n = len(next(iter(blocks.values()))) if blocks else 0
        return np.zeros((n, 0), dtype=np.float32)
    cols = [(blocks[p["name"]] - p["mean"]) @ p["components"].T for p in projections]
    return np.hstack(cols).astype(np.float32)


def fit_stages(
    x: npt.NDArray[np.float32],
    labels: Sequence[str],
    extra: npt.NDArray[np.float32] | None = None,
    balance_power: float = BALANCE_POWER,
) -> tuple[Any, Any]:
    """Stage 1 on ``x``; stage 2 on ``x`` plus the ``extra`` (projection) columns, related pairs only."""
    y = np.asarray(labels)
    related = y != "unrelated"
    x2 = x if extra is None else np.hstack([x, extra])
    stage1 = _gbm().fit(x, np.where(related, "related", "unrelated"))
    stage2 = _gbm()
    stage2.fit(x2[related], y[related], sample_weight=_stage_weights(y[related], balance_power))
    return stage1, stage2


def combine(
    stage1: Any, stage2: Any, x: npt.NDArray[np.float32], extra: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float64]:
    """Probabilities in LABELS order: p(related) times the stage-2 split among related labels."""
    out = np.zeros((len(x), len(LABELS)))
    if len(x) == 0:
        return out
    p1 = stage1.predict_proba(x)
    p_unrel = p1[:, list(stage1.classes_).index("unrelated")]
    p2 = stage2.predict_proba(x if extra is None else np.hstack([x, extra]))
    stage2_classes = list(stage2.classes_)
    for j, label in enumerate(RELATED_LABELS):
        # A class absent from a small training set simply gets probability 0.
        if label in stage2_classes:
            out[:, j] = (1.0 - p_unrel) * p2[:, stage2_classes.index(label)]
    out[:, 3] = p_unrel
    return np.asarray(out / out.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_model(
    prep: Prepared,
    labels: Sequence[str],
    rows: Sequence[int],
    nli_head: Any,
    claims: Sequence[str],
    bodies: Sequence[str],
) -> dict[str, Any]:
    """The full recipe on the pairs ``rows`` of an already-embedded batch; returns the artefact dict."""
    tfidf = fit_tfidf([*(claims[i] for i in rows), *(bodies[i] for i in rows)])
    part = subset(prep, rows)
    x, _ = build_matrix(part, nli_head, tfidf)
    blocks = embedding_blocks(part, (name for name, _ in PROJECTIONS))
    projections = fit_projections(blocks, np.arange(len(rows)))
    stage1, stage2 = fit_stages(x, [labels[i] for i in rows], project(blocks, projections))
    return {
        "format_version": FORMAT_VERSION,
        "labels": list(LABELS),
        "feature_names": list(FEATURE_NAMES),
        "embedder": prep_embedder_name(),
        "nli_head": nli_head,
        "tfidf": tfidf,
        "stage1": stage1,
        "stage2": stage2,
        "projections": projections,
    }


def prep_embedder_name() -> str:
    from corroborate.corpus.embed import MODEL_NAME

    return MODEL_NAME


def subset(prep: Prepared, rows: Sequence[int]) -> Prepared:
    """The pairs ``rows`` of a prepared batch, sharing its embeddings (no re-encoding)."""
    return Prepared(
        claim_index=[prep.claim_index[i] for i in rows],
        evidence_index=[prep.evidence_index[i] for i in rows],
        claims=prep.claims,
        evidences=prep.evidences,
        claim_vecs=prep.claim_vecs,
        sentence_vecs=prep.sentence_vecs,
        top=[prep.top[i] for i in rows],
        sims=[prep.sims[i] for i in rows],
    )


def train(
    data_dir: Path, out: Path, embedder: Embedder | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    import joblib

    emb = embedder or load_embedder()
    premises, hypotheses, nli_labels = load_snli(data_dir)
    nli_head = train_nli_head(premises, hypotheses, nli_labels, emb)
    data = load_fnc1(data_dir)
    prep = prepare(data.pairs, emb, progress=progress)
    model = fit_model(prep, data.labels, range(len(data.labels)), nli_head, data.claims, data.bodies)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    joblib.dump(model, tmp, compress=3)
    tmp.replace(out)
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="folder holding fnc1/ and snli/")
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "data" / "stance.joblib")
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep embeddings here between runs (dev)")
    args = parser.parse_args(argv)
    emb: Embedder = load_embedder()
    if args.cache_dir is not None:
        emb = CachingEmbedder(emb, args.cache_dir)
    started = time.perf_counter()
    train(args.data, args.out, emb, progress=lambda d, t: print(f"embedded {d}/{t}", file=sys.stderr))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
