"""Write a judge artefact folder (default: the bundled judge) as a float checkpoint that
``python -m corroborate.train_judge --init`` starts from (the twelfth pass started from the shipped judge).

    python scripts/dequantize_judge.py --out .judge-work12/init.pt [--judge DIR]

The artefact stores its large matrices as int8 with a float32 scale per row (corroborate/judge/model.py);
the checkpoint holds them dequantized, so a pass from it starts from what the product runs, not from the
float weights of the pass that made it (those were not kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="the checkpoint to write (.pt)")
    ap.add_argument("--judge", type=Path, default=None, help="artefact folder (default: the bundled judge)")
    args = ap.parse_args()

    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification

    from corroborate.judge.model import LABELS, WEIGHTS, bundled_dir, dequantize_state
    from corroborate.training.train_judge import base_model_dir

    folder = args.judge or bundled_dir()
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base_model_dir()), num_labels=len(LABELS), local_files_only=True,
        id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)},
    )
    missing, unexpected = model.load_state_dict(dequantize_state(load_file(str(folder / WEIGHTS))), strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        print(f"error: {folder} does not fit the base model ({len(missing)} missing, {len(unexpected)} unexpected)",
              file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, args.out)
    print(f"wrote {args.out} from {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
