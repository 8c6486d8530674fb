"""Fit the judge's topic relatedness (``corroborate.judge.reading.TOPIC_WEIGHTS``) on FNC-1 *train* stories.

    python scripts/fit_relatedness.py --data ../shared/data [--train-pairs 12000]

Is an evidence text about the atom at all? FNC-1 says so per (headline, body): related (agree,
disagree, discuss) or unrelated. For each checkable atom of a headline this takes what the judge
takes (the ``judge_sentences`` sentences closest to the atom by the MiniLM bi-encoder): the best
cosine and :func:`corroborate.judge.reading.coverage` (the atom's words in the sentences read), and fits a
logistic regression on a sample of train-story pairs (every atom labelled with its pair). It prints
the coefficients and, on *dev* stories, how often a pair's related/unrelated call (related when an
atom's relatedness passes 0.5) is right, next to the cosine ramp alone (``relatedness`` > 0.5, what
decided it before). The cut is then checked through the whole check path with
``corroborate eval fnc1 --split dev``; test stories are never read here.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def features(data: Path, split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(atom features [cosine, coverage], atom's pair index, pair related?, ramp-related per atom)."""
    from corroborate.corpus.embed import load_embedder
    from corroborate.judge.reading import (
        SENTENCES_PER_EVIDENCE,
        claim_atoms,
        closest_sentences,
        content,
        coverage,
        relatedness,
        sentences,
    )
    from corroborate.training.fnc1 import fnc1_rows, fnc1_split_of

    claims, bodies, _, labels, topics = fnc1_rows(data)
    keep = [i for i in range(len(claims)) if fnc1_split_of(topics[i]) == split]
    if limit and len(keep) > limit:
        keep = sorted(random.Random(0).sample(keep, limit))
    jobs = []
    texts: set[str] = set()
    for i in keep:
        spans = sentences(bodies[i])
        atoms = [a for a in claim_atoms(claims[i]) if a.checkable]
        jobs.append((i, atoms, spans))
        texts |= {content(bodies[i][a:b]) for a, b in spans} | {a.text for a in atoms}
    ordered = sorted(texts)
    vecs = load_embedder().encode(ordered)
    vec_of = {t: vecs[k] for k, t in enumerate(ordered)}
    rows, pair_of, ramp = [], [], []
    related = np.array([labels[i] != "unrelated" for i, _, _ in jobs])
    for n, (i, atoms, spans) in enumerate(jobs):
        for atom in atoms:
            read = closest_sentences(vec_of, atom.text, bodies[i], spans, SENTENCES_PER_EVIDENCE)
            cos = read[0][2] if read else 0.0
            rows.append([cos, coverage(atom.text, bodies[i], [(a, b) for a, b, _ in read])])
            pair_of.append(n)
            ramp.append(relatedness(cos) > 0.5)
    return np.array(rows), np.array(pair_of), related, np.array(ramp)


def pair_calls(atom_related: np.ndarray, pair_of: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    np.logical_or.at(out, pair_of, atom_related)
    return out


def report(name: str, called: np.ndarray, related: np.ndarray) -> None:
    print(f"  {name:<28} pair accuracy {np.mean(called == related):.4f}  unrelated recall "
          f"{np.mean(~called[~related]):.4f}  related recall {np.mean(called[related]):.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--train-pairs", type=int, default=12_000)
    args = ap.parse_args(argv)
    from sklearn.linear_model import LogisticRegression

    x_train, pair_train, rel_train, _ = features(args.data, "train", args.train_pairs)
    model = LogisticRegression(C=10.0).fit(x_train, rel_train[pair_train])
    b0 = float(model.intercept_[0])
    b1, b2 = (float(c) for c in model.coef_[0])
    print(f"fitted on {len(rel_train):,} train-story pairs ({len(x_train):,} atoms)")
    print(f"TOPIC_WEIGHTS = ({b0:.2f}, {b1:.2f}, {b2:.2f})  # (intercept, cosine, coverage)")
    x_dev, pair_dev, rel_dev, ramp_dev = features(args.data, "dev", None)
    print(f"dev stories: {len(rel_dev):,} pairs")
    report("cosine ramp (before)", pair_calls(ramp_dev, pair_dev, len(rel_dev)), rel_dev)
    p = model.predict_proba(x_dev)[:, 1]
    for cut in (0.3, 0.4, 0.5, 0.6):
        report(f"fitted, cut {cut}", pair_calls(p > cut, pair_dev, len(rel_dev)), rel_dev)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
