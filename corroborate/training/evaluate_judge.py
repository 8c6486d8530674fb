"""Figures for the sentence-level judge (docs/evaluation.md), each reproduced by one command:

    corroborate eval snli|cannot|perspectrum --data DIR [--split test]
    corroborate eval denials [--file tests/data/denials.tsv]
    corroborate eval fnc1 --data DIR [--split test]

``snli``, ``cannot`` and ``perspectrum`` score the cross-encoder on sentence pairs (its own
three-way call; Perspectrum is two-way: SUPPORT = entails, UNDERMINE = contradicts, judged by
which of the two is likelier). ``denials`` and ``fnc1`` go through :func:`corroborate.judge.reading.judge_pairs`,
the path ``check`` and ``stance`` use (atoms, sentence choice, relatedness, attribution rules):
a stance of agree / disagree / discuss-or-unrelated is read as entails / contradicts / neutral on the
denial set, and FNC-1 is scored with its four classes and its weighted score on the story-grouped
split of :mod:`corroborate.training.judge_data` (``test`` = 20 % of stories, frozen; nothing was chosen on it).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corroborate.errors import ConfigError
from corroborate.judge.model import LABELS
from corroborate.judge.reading import Judge, PairJudgement, judge_pairs
from corroborate.training import judge_data
from corroborate.training.fnc1 import FNC1_LABELS

Progress = Callable[[int, int], None]
_TO_NLI = {"agree": "entails", "disagree": "contradicts", "discuss": "neutral", "unrelated": "neutral"}


@dataclass
class Scores:
    title: str
    labels: tuple[str, ...]
    gold: list[str]
    pred: list[str]
    extra: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return float(np.mean([g == p for g, p in zip(self.gold, self.pred, strict=True)])) if self.gold else 0.0

    def per_class(self) -> dict[str, tuple[float, float, float, int]]:
        out = {}
        for lab in self.labels:
            tp = sum(1 for g, p in zip(self.gold, self.pred, strict=True) if g == lab and p == lab)
            n_pred = sum(1 for p in self.pred if p == lab)
            n_gold = sum(1 for g in self.gold if g == lab)
            prec = tp / n_pred if n_pred else 0.0
            rec = tp / n_gold if n_gold else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            out[lab] = (prec, rec, f1, n_gold)
        return out

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", "", f"{len(self.gold):,} pairs, accuracy **{self.accuracy:.3f}**"]
        for k, v in self.extra.items():
            lines[-1] += f", {k} **{v:.4f}**"
        lines += ["", "| class | precision | recall | F1 | n |", "|---|---|---|---|---|"]
        for lab, (p, r, f, n) in self.per_class().items():
            lines.append(f"| {lab} | {p:.3f} | {r:.3f} | {f:.3f} | {n} |")
        lines += ["", "confusion (rows gold, columns predicted): " + ", ".join(self.labels)]
        for g in self.labels:
            row = [sum(1 for a, b in zip(self.gold, self.pred, strict=True) if a == g and b == p) for p in self.labels]
            lines.append(f"    {g:>12}: {row}")
        lines += [f"\n{n}" for n in self.notes]
        return "\n".join(lines)


def eval_sentences(
    judge: Judge, data_dir: Path, source: str, split: str = "test", limit: int | None = None,
    progress: Progress | None = None,
) -> Scores:
    """The cross-encoder's own call on one source's sentence pairs."""
    pairs = judge_data.load(source, data_dir, split)
    if source == "fever":  # FEVER-RTE as published: the gold SUPPORTS / REFUTES pairs (not the mined neutrals)
        pairs = [p for p in pairs if p.label != "neutral"]
    if limit:
        pairs = pairs[:limit]
    if not pairs:
        raise ConfigError(f"no {source} pairs in split {split}")
    probs = judge.model.predict([(p.premise, p.hypothesis) for p in pairs], progress=progress)
    gold = [p.label for p in pairs]
    if source == "perspectrum":
        pred = ["entails" if row[0] >= row[1] else "contradicts" for row in probs]
        labels: tuple[str, ...] = ("entails", "contradicts")
    elif source == "fever":  # two-way, as RTE: entailment vs not (the judge's neutral counts as not entailed)
        pred = ["entails" if int(np.argmax(row)) == 0 else "contradicts" for row in probs]
        labels = ("entails", "contradicts")
    else:
        pred = [LABELS[int(np.argmax(row))] for row in probs]
        labels = LABELS
    s = Scores(f"{source} ({split} split)", labels, gold, pred)
    if source == "cannot":
        # denial detection: contradicts vs the rest, precision at the recall the argmax gives
        c = s.per_class()["contradicts"]
        s.extra.update({"denial precision": c[0], "denial recall": c[1]})
    return s


def read_denials(path: Path) -> list[tuple[str, str, str, str, str]]:
    """(id, category, claim, sentence, label) rows of the denial set; a bad file is a one-line ConfigError."""
    if not path.is_file():
        raise ConfigError(f"denial set {path} not found")
    rows = []
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = {"id", "category", "claim", "sentence", "label"} - set(reader.fieldnames or [])
            if missing:
                raise ConfigError(f"denial set {path} lacks column(s) {', '.join(sorted(missing))}")
            for r in reader:
                if r["label"] not in LABELS:
                    raise ConfigError(f"denial set {path} line {reader.line_num}: label {r['label']!r} is not one of "
                                      f"{', '.join(LABELS)}")
                rows.append((r["id"], r["category"], r["claim"], r["sentence"], r["label"]))
    except UnicodeDecodeError:
        raise ConfigError(f"denial set {path} is not UTF-8 text") from None
    if not rows:
        raise ConfigError(f"denial set {path} has no rows")
    return rows


def eval_denials(judge: Judge, path: Path, progress: Progress | None = None) -> Scores:
    rows = read_denials(path)
    pairs = [(claim, sentence) for _, _, claim, sentence, _ in rows]
    results = judge_pairs(judge, pairs, progress=progress)
    gold = [r[4] for r in rows]
    pred = [_TO_NLI[j.stance] for j in results]
    s = Scores(f"news denial set ({path.name}, through the check path)", LABELS, gold, pred)
    by_cat: dict[str, list[bool]] = {}
    for r, p in zip(rows, pred, strict=True):
        by_cat.setdefault(r[1], []).append(p == r[4])
    s.notes.append("per category (share right): " + ", ".join(
        f"{k} {np.mean(v):.2f} ({len(v)})" for k, v in sorted(by_cat.items())))
    return s


def eval_headline_pairs(
    judge: Judge, data_dir: Path, split: str = "test", limit: int | None = None, progress: Progress | None = None,
) -> Scores:
    """Real headlines of one FNC-1 story against each other (``fnc1-headlines``), judged as ``check``
    judges a claim against one evidence text: the claim/headline form."""
    pairs = judge_data.load("fnc1-headlines", data_dir, split)
    if limit:
        pairs = pairs[:limit]
    if not pairs:
        raise ConfigError(f"no fnc1-headlines pairs in split {split}")
    results = judge_pairs(judge, [(p.hypothesis, p.premise) for p in pairs], progress=progress)
    s = Scores(f"FNC-1 headline pairs ({split} stories, through the check path)", LABELS,
               [p.label for p in pairs], [_TO_NLI[j.stance] for j in results])
    c = s.per_class()["contradicts"]
    s.extra.update({"denial precision": c[0], "denial recall": c[1]})
    s.notes.append(f"{len({p.group for p in pairs})} stories")
    return s


def fnc_score(gold: Sequence[str], pred: Sequence[str]) -> float:
    """The FNC-1 weighted score as a share of the best possible."""
    def points(g: str, p: str) -> float:
        s = 0.0
        if (g == "unrelated") == (p == "unrelated"):
            s += 0.25
        if g != "unrelated" and g == p:
            s += 0.75
        return s

    best = sum(points(g, g) for g in gold)
    return sum(points(g, p) for g, p in zip(gold, pred, strict=True)) / best if best else 0.0


def fnc1_judged(
    judge: Judge, data_dir: Path, split: str, limit: int | None = None, progress: Progress | None = None,
    cache_dir: Path | None = None,
) -> tuple[list[int], list[PairJudgement]]:
    """Indices (into FNC-1 train) of one story split and what the check path says of each pair.

    With ``cache_dir`` the judgements are kept on disk per split, limit, judge weights, precision and
    judging code, so
    ``eval fnc1`` and ``calibrate`` judge each pair once."""
    import hashlib
    import json

    from corroborate.training.fnc1 import fnc1_rows, fnc1_split_of

    claims, bodies, _, _, topics = fnc1_rows(data_dir)
    keep = [i for i in range(len(claims)) if fnc1_split_of(topics[i]) == split]
    if limit:
        keep = keep[:limit]
    cache: Path | None = None
    if cache_dir is not None:
        import corroborate
        from corroborate.judge.model import WEIGHTS

        # the key changes with the weights, the arithmetic and the code of the path (atoms, rules)
        h = hashlib.sha256((judge.model.folder / WEIGHTS).read_bytes())
        h.update(judge.model.precision.encode())
        for module in ("judge/reading.py", "claims/atoms.py", "claims/sentences.py"):
            h.update((Path(corroborate.__file__).parent / module).read_bytes())
        digest = h.hexdigest()[:16]
        cache = cache_dir / f"fnc1-{split}-{limit or 'all'}-{judge.sentences}-{digest}.json"
        if cache.is_file():
            rows = json.loads(cache.read_text(encoding="utf-8"))
            return keep, [PairJudgement(r["stance"], r["probabilities"], r["quote"], r["reason"], []) for r in rows]
    results = judge_pairs(judge, [(claims[i], bodies[i]) for i in keep], progress=progress)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([{"stance": r.stance, "probabilities": r.probabilities, "quote": r.quote,
                                      "reason": r.reason} for r in results]), encoding="utf-8")
    return keep, results


def eval_fnc1(
    judge: Judge, data_dir: Path, split: str = "test", limit: int | None = None, progress: Progress | None = None,
    cache_dir: Path | None = None,
) -> Scores:
    """FNC-1 headline/body pairs of one story split, through the check path."""
    from corroborate.training.fnc1 import fnc1_rows

    _, _, _, labels, topics = fnc1_rows(data_dir)
    keep, results = fnc1_judged(judge, data_dir, split, limit, progress, cache_dir)
    gold = [labels[i] for i in keep]
    pred = [r.stance for r in results]
    s = Scores(f"FNC-1 train, {split} stories ({len({topics[i] for i in keep})} stories), check path",
               FNC1_LABELS, gold, pred)
    s.extra["weighted score"] = fnc_score(gold, pred)
    return s
