"""Ablation of the judge's unlearned rules on FNC-1 *dev* stories, through the check path.

    python scripts/judge_rule_ablation.py --data ../shared/data [--split dev] [--limit N] [--pairs fnc1-headlines]
                                          [--only TEXT ...]

Runs ``judge_pairs`` over one story split fourteen ways, judging each sentence pair once (the model's
calls are cached): as shipped (with the names rule, ``corroborate.judge.reading._names_missing``); without
it; with a candidate figures rule on top (a sentence that lacks a number the atom writes in digits,
in it or in the 300 characters before, only discusses it), with the figures rule instead of the
names rule; and with a "denial first" choice of quote (a sentence whose related P(contradicts) >=
0.5 speaks for the text even beside one that restates the claim); a denial that counts only when its
sentence (and the 300 characters before) holds 30 % or 50 % of the atom's words; the names rule off
for an atom written in Title Case (a headline's capitalised words are not names), or with a Title Case
atom's capitalised words pooled into one name (the sentence must hold one of them); and topic
relatedness off (t = 1); the cosine ramp that sets relatedness r moved lower (0.1-0.35 and
0.15-0.4 instead of 0.2-0.45: same-story sentences in other words reach the judge); ``READ_CORE``
flipped (an evidence sentence's lead-in and attribution tail stripped or not); and the relay rule off
(``RELAY_RULE``).
(Reading the two closest sentences together was tried and removed: on FNC-1 dev it helped, on the frozen
test stories it did not; git history has it, commit 54fae3e.) With ``--pairs
fnc1-headlines`` the same variants judge the real headline pairs of the split
(``judge_data.fnc1_headlines``) instead of headlines against bodies. This is the script that kept
the names rule and left the figures rule, "denial first" and the denial-coverage rule out
(docs/evaluation.md); test stories are never read here.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

_FIGURE = re.compile(r"\d(?:[\d,.]*\d)?")


def figures(text: str) -> set[str]:
    return {f.replace(",", "") for f in _FIGURE.findall(text)}


def figures_missing(atom: str, evidence: str, a: int, b: int) -> str | None:
    """The candidate figures rule: the sentence (or the 300 characters before it) lacks a number of the atom."""
    missing = figures(atom) - figures(evidence[max(0, a - 300) : b])
    return f"states it without the claim's figures ({', '.join(sorted(missing))})" if missing else None


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--split", default="dev", choices=("train", "dev"))
    ap.add_argument("--limit", type=int)
    ap.add_argument("--pairs", default="fnc1", choices=("fnc1", "fnc1-headlines"),
                    help="FNC-1 headlines against bodies, or real headlines of one story against each other")
    ap.add_argument("--only", action="append", default=[],
                    help="run only variants whose name holds this text (repeatable); the shipped row always runs")
    args = ap.parse_args(argv)

    from sklearn.metrics import f1_score

    import corroborate.judge.reading as J
    from corroborate.corpus.embed import load_embedder
    from corroborate.judge.model import LABELS, JudgeModel
    from corroborate.training.evaluate_judge import _TO_NLI, Scores, fnc_score
    from corroborate.training.fnc1 import fnc1_rows, fnc1_split_of
    from corroborate.training.judge_data import load

    model = JudgeModel.load()
    cache: dict[tuple[str, str], Any] = {}
    predict = model.predict

    def cached(pairs: Sequence[tuple[str, str]], batch_size: int = 32, progress: Any = None) -> Any:
        todo = sorted({p for p in pairs if p not in cache})
        for p, row in zip(todo, predict(todo), strict=True):
            cache[p] = row
        return np.array([cache[p] for p in pairs], dtype=np.float32).reshape(len(pairs), 3)

    model.predict = cached  # type: ignore[method-assign]
    judge = J.Judge(model, load_embedder())
    shipped_decide, shipped_names, shipped_topic = J._decide, J._names_missing, J.topic_relatedness
    shipped_low, shipped_high = J.RELATED_LOW, J.RELATED_HIGH
    shipped_core, shipped_relay = J.READ_CORE, J.RELAY_RULE

    def denial_first(atom: Any, ev: str, keep: list[Any], rows: Any) -> Any:
        rel = [J.relatedness(r.cosine) for r in keep]
        den = [i for i in range(len(keep)) if rows[i][1] * rel[i] >= 0.5 and rows[i][1] >= rows[i][0]]
        if den:
            i = max(den, key=lambda i: rows[i][1] * rel[i])
            return shipped_decide(atom, ev, [keep[i]], rows[i : i + 1])
        return shipped_decide(atom, ev, keep, rows)

    def off(atom: str, evidence: str, a: int, b: int) -> str | None:
        return None

    def denial_covered(least: float) -> Callable[..., Any]:
        """Candidate: a denial counts only when its sentence (and the 300 characters before) holds at
        least ``least`` of the atom's words; else the text only discusses the atom."""
        def decide(atom: Any, ev: str, keep: list[Any], rows: Any) -> Any:
            j = shipped_decide(atom, ev, keep, rows)
            if j.stance == "disagree" and J.coverage(atom.text, ev, [(j.quote_start, j.quote_end)]) < least:
                was = j.probabilities
                p = {**was, "disagree": 0.0, "discuss": was["discuss"] + was["disagree"]}
                stance = max(J.STANCES, key=lambda s: p[s])
                return replace(j, stance=stance, score=p[stance], probabilities=p, reason="denial of other words")
            return j
        return decide

    if args.pairs == "fnc1":
        claims, bodies, _, labels, topics = fnc1_rows(args.data)
        keep = [i for i in range(len(claims)) if fnc1_split_of(topics[i]) == args.split][: args.limit]
        pairs = [(claims[i], bodies[i]) for i in keep]
        gold = [labels[i] for i in keep]
    else:
        made = load("fnc1-headlines", args.data, args.split)[: args.limit]
        pairs = [(p.hypothesis, p.premise) for p in made]
        gold = [p.label for p in made]

    def title_case(atom: str) -> bool:
        words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", atom) if len(w) > 3]
        return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)

    def not_in_title_case(atom: str, evidence: str, a: int, b: int) -> str | None:
        """Candidate: a Title Case atom (a headline's) has no names the rule can tell from other words."""
        return None if title_case(atom) else shipped_names(atom, evidence, a, b)

    def merged_in_title_case(atom: str, evidence: str, a: int, b: int) -> str | None:
        """Candidate: in a Title Case atom the capitalised words are one pool, of which the sentence must
        hold one (a headline's "Sparks" or "Probably Not" are no names of their own)."""
        if not title_case(atom):
            return shipped_names(atom, evidence, a, b)
        pool: set[str] = set().union(*J.names(atom))
        window = {J._POSSESSIVE.sub("", w.lower()) for w in re.findall(r"[\w'’-]+", evidence[max(0, a - 300) : b])}
        return f"states it without the claim's names ({' '.join(sorted(pool))})" if pool and not pool & window else None

    def both(atom: str, evidence: str, a: int, b: int) -> str | None:
        return shipped_names(atom, evidence, a, b) or figures_missing(atom, evidence, a, b)

    variants: list[tuple[str, Callable[..., Any], Callable[..., Any]]] = [
        ("shipped (names rule)", shipped_decide, shipped_names),
        ("no rule", shipped_decide, off),
        ("names and figures rules", shipped_decide, both),
        ("figures rule only", shipped_decide, figures_missing),
        ("denial first, names rule", denial_first, shipped_names),
        ("denial needs 30 % of the atom's words", denial_covered(0.3), shipped_names),
        ("denial needs 50 % of the atom's words", denial_covered(0.5), shipped_names),
        ("names rule off for a Title Case atom", shipped_decide, not_in_title_case),
        ("names pooled in a Title Case atom", shipped_decide, merged_in_title_case),
        ("no topic relatedness (t = 1)", shipped_decide, shipped_names),
        ("relatedness ramp 0.1-0.35", shipped_decide, shipped_names),
        ("relatedness ramp 0.15-0.4", shipped_decide, shipped_names),
        ("READ_CORE flipped (lead-in and attribution tail stripped or not)", shipped_decide, shipped_names),
        ("relay rule off", shipped_decide, shipped_names),
    ]
    if args.only:
        variants = [v for i, v in enumerate(variants) if i == 0 or any(o in v[0] for o in args.only)]
    what = "FNC-1" if args.pairs == "fnc1" else "FNC-1 headline pairs,"
    print(f"{what} {args.split} stories, {len(pairs):,} pairs, through the check path\n")
    if args.pairs == "fnc1":
        print("| variant | weighted | F1 agree | F1 disagree | F1 discuss | F1 unrelated "
              "| agree right / called agree wrongly | denials right / called denial wrongly |\n"
              "|---|---|---|---|---|---|---|---|")
    else:
        print("| variant | accuracy | agree right | denials found | denials called agree | observers called agree |\n"
              "|---|---|---|---|---|---|")
    for name, decide, rule in variants:
        J._decide, J._names_missing = decide, rule  # type: ignore[assignment]
        J.READ_CORE = (not shipped_core) if name.startswith("READ_CORE flipped") else shipped_core
        J.RELAY_RULE = shipped_relay and not name.startswith("relay rule off")
        J.topic_relatedness = (lambda c, v: 1.0) if name.startswith("no topic") else shipped_topic  # type: ignore[assignment]
        ramp = re.search(r"ramp ([\d.]+)-([\d.]+)", name)
        J.RELATED_LOW, J.RELATED_HIGH = (float(ramp[1]), float(ramp[2])) if ramp else (shipped_low, shipped_high)
        pred = [r.stance for r in J.judge_pairs(judge, pairs)]
        if args.pairs == "fnc1":
            f = f1_score(gold, pred, labels=["agree", "disagree", "discuss", "unrelated"], average=None)
            got = Counter(zip(gold, pred, strict=True))
            agreed, denied = sum(got[g, "agree"] for g in set(gold)), sum(got[g, "disagree"] for g in set(gold))
            print(f"| {name} | {fnc_score(gold, pred):.4f} | " + " | ".join(f"{x:.3f}" for x in f)
                  + f" | {got['agree', 'agree']} / {agreed - got['agree', 'agree']} | {got['disagree', 'disagree']} / "
                  f"{denied - got['disagree', 'disagree']} |", flush=True)
        else:  # read as `eval fnc1-headlines` reads it (a pair judged unrelated is neutral)
            pred = [_TO_NLI[p] for p in pred]
            n, got = Counter(gold), Counter(zip(gold, pred, strict=True))
            right = Scores("", LABELS, gold, pred).accuracy
            print(f"| {name} | {right:.3f} | {got['entails', 'entails']} of {n['entails']} | "
                  f"{got['contradicts', 'contradicts']} of {n['contradicts']} | {got['contradicts', 'entails']} | "
                  f"{got['neutral', 'entails']} |", flush=True)
    J._decide, J._names_missing, J.topic_relatedness = shipped_decide, shipped_names, shipped_topic
    J.READ_CORE, J.RELAY_RULE = shipped_core, shipped_relay
    J.RELATED_LOW, J.RELATED_HIGH = shipped_low, shipped_high
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
