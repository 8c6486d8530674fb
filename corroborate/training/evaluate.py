"""FNC-1 evaluation of the stance recipe: grouped-by-body cross-validation and the FNC-1 weighted score.

There is no held-out FNC-1 test set in our data, so every figure comes from ``GroupKFold`` over
Body ID: a body never sits on both sides of a split, and each fold trains fresh models with the
same code as :mod:`corroborate.training.train_stance`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from corroborate.corpus.embed import Embedder, load_embedder
from corroborate.errors import ConfigError
from corroborate.training.train_stance import (
    LABELS,
    PROJECTIONS,
    FncData,
    combine,
    fit_projections,
    fit_stages,
    fit_tfidf,
    load_fnc1,
    load_snli,
    project,
    train_nli_head,
)

Progress = Callable[[int, int], None]
RELATED = frozenset({"agree", "disagree", "discuss"})
GROUPINGS = ("body", "topic")


def topic_groups(data: FncData) -> list[int]:
    """A topic id per pair: bodies and headlines joined by their *related* pairs (one FNC-1 claim each).

    Body folds keep a body out of training, but the same headline (and other bodies on the same
    story) may be in it; topic folds keep the whole story out, as a test set of new claims would.
    """
    parent: dict[tuple[str, object], tuple[str, object]] = {}

    def find(node: tuple[str, object]) -> tuple[str, object]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for claim, body_id, label in zip(data.claims, data.body_ids, data.labels, strict=True):
        body = find(("body", body_id))
        if label != "unrelated":
            parent[find(("claim", claim))] = body
    roots: dict[tuple[str, object], int] = {}
    return [roots.setdefault(find(("body", b)), len(roots)) for b in data.body_ids]


def story_splits(data_dir: Path, data: FncData) -> list[str]:
    """The judge's frozen story split ("train", "dev" or "test") of each pair in ``data``. Story ids come
    from the whole of FNC-1 train, so a ``--limit`` run puts each pair where the full run does."""
    from corroborate.training.judge_data import fnc1_split_of

    full = load_fnc1(data_dir)
    story = dict(zip(zip(full.claims, full.body_ids, strict=True), topic_groups(full), strict=True))
    return [fnc1_split_of(story[(c, b)]) for c, b in zip(data.claims, data.body_ids, strict=True)]


def fnc_score(gold: Sequence[str], pred: Sequence[str]) -> float:
    """FNC-1 weighted score as a percentage of the best possible score on ``gold``."""
    if len(gold) != len(pred):
        raise ConfigError(f"fnc_score needs equal lengths, got {len(gold)} gold and {len(pred)} predicted")
    score = 0.0
    best = 0.0
    for g, p in zip(gold, pred, strict=True):
        best += 0.25 + (0.75 if g in RELATED else 0.0)
        if (g in RELATED) == (p in RELATED):
            score += 0.25
        if g in RELATED and g == p:
            score += 0.75
    return 100.0 * score / best if best else 0.0


@dataclass
class EvalReport:
    weighted_score: float
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    confusion: list[list[int]]  # rows gold, columns predicted, both in LABELS order
    folds: int
    n: int
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    grouping: str = "body"
    split: str | None = None  # a frozen story split of corroborate.training.judge_data instead of folds

    def to_markdown(self) -> str:
        head = (
            f"Trained on the other stories, scored on the {self.n:,} pairs of FNC-1 train's frozen "
            f"{self.split} stories (the judge's story split)."
            if self.split else
            f"Grouped {self.folds}-fold cross-validation by "
            f"{'Body ID' if self.grouping == 'body' else 'topic (story)'} over {self.n:,} FNC-1 train pairs."
        )
        lines = [
            head,
            "",
            "| metric | value |",
            "|---|---|",
            f"| FNC-1 weighted score | {self.weighted_score:.2f} % |",
            f"| accuracy | {self.accuracy:.4f} |",
            f"| macro-F1 | {self.macro_f1:.4f} |",
            "",
            "| class | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for label in self.labels:
            c = self.per_class[label]
            lines.append(
                f"| {label} | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} | {int(c['support'])} |"
            )
        lines += ["", "Confusion matrix (rows gold, columns predicted):", ""]
        lines.append("| gold \\ pred | " + " | ".join(self.labels) + " |")
        lines.append("|---" * (len(self.labels) + 1) + "|")
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
        return "\n".join(lines) + "\n"


def report(
    gold: Sequence[str], pred: Sequence[str], folds: int, grouping: str = "body", split: str | None = None
) -> EvalReport:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(LABELS)
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per_class = {
        label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": float(s[i])}
        for i, label in enumerate(labels)
    }
    return EvalReport(
        weighted_score=fnc_score(gold, pred),
        accuracy=float(np.mean(np.asarray(gold) == np.asarray(pred))) if gold else 0.0,
        macro_f1=float(np.mean(f)),
        per_class=per_class,
        confusion=confusion_matrix(gold, pred, labels=labels).tolist(),
        folds=folds,
        n=len(gold),
        grouping=grouping,
        split=split,
    )


def cross_val_proba(
    data_dir: Path,
    folds: int = 5,
    progress: Progress | None = None,
    limit: int | None = None,
    embedder: Embedder | None = None,
    nli_head: Any | None = None,
    grouping: str = "body",
    split: str | None = None,
) -> tuple[FncData, npt.NDArray[np.float64]]:
    """Out-of-fold stance probabilities (columns in LABELS order) of the shipped recipe, grouped by Body ID
    (``grouping="body"``) or by story (``"topic"``, see :func:`topic_groups`).

    With ``split`` ("dev" or "test") there are no folds: the recipe trains once on every story outside
    that frozen split of :mod:`corroborate.training.judge_data` and predicts its rows (the other rows stay 0), so
    the retired model is scored on the very stories the judge's figures come from."""
    from sklearn.model_selection import GroupKFold

    from corroborate.training.stance_features import (
        TFIDF_COLUMNS,
        base_matrix,
        embedding_blocks,
        prepare,
        tfidf_columns,
    )

    if grouping not in GROUPINGS:
        raise ConfigError(f"grouping must be one of {', '.join(GROUPINGS)}, got {grouping!r}")
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got {folds}")
    emb = embedder or load_embedder()
    data = load_fnc1(Path(data_dir), limit=limit)
    if len(set(data.body_ids)) < folds:
        raise ConfigError(f"only {len(set(data.body_ids))} bodies, fewer than {folds} folds")
    # The NLI head never sees FNC-1, so one head serves every fold without leaking.
    if nli_head is None:
        nli_head = train_nli_head(*load_snli(Path(data_dir)), emb)
    prep = prepare(data.pairs, emb)
    # Only the TF-IDF columns depend on the training fold; the rest is computed once for all folds.
    base, _ = base_matrix(prep, nli_head)
    blocks = embedding_blocks(prep, (name for name, _ in PROJECTIONS))
    y = np.asarray(data.labels)
    out = np.zeros((len(y), len(LABELS)), dtype=np.float64)
    groups = data.body_ids if grouping == "body" else topic_groups(data)
    splits: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]
    if split is not None:
        inside = np.asarray([part == split for part in story_splits(Path(data_dir), data)])
        if not inside.any() or inside.all():
            raise ConfigError(f"the {split} stories leave nothing to train on or to score")
        splits = [(np.flatnonzero(~inside), np.flatnonzero(inside))]
    else:
        if len(set(groups)) < folds:
            raise ConfigError(f"only {len(set(groups))} {grouping} groups, fewer than {folds} folds")
        splits = list(GroupKFold(n_splits=folds).split(base, groups=groups))
    for k, (train_rows, test_rows) in enumerate(splits):
        tfidf = fit_tfidf([*(data.claims[i] for i in train_rows), *(data.bodies[i] for i in train_rows)])
        x = base.copy()
        x[:, TFIDF_COLUMNS] = tfidf_columns(prep, tfidf)
        extra = project(blocks, fit_projections(blocks, train_rows))
        stage1, stage2 = fit_stages(x[train_rows], y[train_rows].tolist(), extra[train_rows])
        out[test_rows] = combine(stage1, stage2, x[test_rows], extra[test_rows])
        if progress is not None:
            progress(k + 1, len(splits))
    return data, out


def evaluate_fnc1(
    data_dir: Path,
    folds: int = 5,
    progress: Progress | None = None,
    limit: int | None = None,
    embedder: Embedder | None = None,
    nli_head: Any | None = None,
    grouping: str = "body",
    split: str | None = None,
) -> EvalReport:
    """Grouped CV of the shipped recipe on FNC-1 train (or, with ``split``, one fit scored on that frozen
    story split); ``progress(done, total)`` counts folds after embedding."""
    data, proba = cross_val_proba(data_dir, folds, progress, limit, embedder, nli_head, grouping, split)
    rows = list(range(len(data.labels)))
    if split is not None:
        parts = story_splits(Path(data_dir), data)
        rows = [i for i in rows if parts[i] == split]
    pred = [LABELS[int(np.argmax(proba[i]))] for i in rows]
    return report([data.labels[i] for i in rows], pred, 1 if split else folds, "topic" if split else grouping, split)
