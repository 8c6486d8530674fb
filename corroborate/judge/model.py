"""The judge's network: a MiniLM cross-encoder over (evidence sentence, claim) → 3 probabilities.

The trained weights ship as package data in ``data/judge/``: ``config.json``, the tokenizer
files, and ``weights.safetensors`` where every large matrix is stored as int8 with one float32
scale per row (about a quarter of fp32) and the rest as fp16. Loading dequantizes to fp32 and
never touches the network. :func:`export` writes that folder from a trained model.

The judge computes in float32, or in bfloat16 where the CPU multiplies bfloat16 natively
(``avx512_bf16`` / ``amx_bf16``): about 1.6x the pairs per second there, with 99.9 % of the calls
unchanged and probabilities 0.001 apart on average (docs/evaluation.md, "Speed"). Elsewhere
bfloat16 is emulated and slower, so ``auto`` keeps float32 (setting ``judge_precision``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from corroborate.errors import ModelError

if TYPE_CHECKING:
    import torch

LABELS = ("entails", "contradicts", "neutral")
WEIGHTS = "weights.safetensors"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
MAX_LENGTH = 128
PRECISIONS = ("auto", "float32", "bfloat16")
Progress = Callable[[int, int], None]


def bundled_dir() -> Path:
    return Path(str(resources.files("corroborate") / "data" / "judge"))


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (Linux: the cpuinfo flags; elsewhere: no)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        return False
    return False


def resolve_precision(precision: str) -> str:
    """``auto`` → ``bfloat16`` where native, else ``float32``; the others as given."""
    if precision not in PRECISIONS:
        raise ModelError(f"judge precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bfloat16" if native_bf16() else "float32"
    return precision


def quantize_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """int8 rows + float32 scales for large matrices, fp16 for the rest."""
    import torch

    out: dict[str, torch.Tensor] = {}
    for name, t in state.items():
        t = t.detach().float().cpu()
        if t.ndim == 2 and t.numel() >= 4096:
            scale = t.abs().amax(dim=1).clamp(min=1e-8) / 127.0
            out[name + ".q8"] = torch.round(t / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            out[name + ".scale"] = scale.contiguous()
        else:
            out[name] = t.half().contiguous()
    return out


def dequantize_state(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, t in stored.items():
        if name.endswith(".scale"):
            continue
        if name.endswith(".q8"):
            base = name[: -len(".q8")]
            out[base] = t.float() * stored[base + ".scale"][:, None]
        else:
            out[name] = t.float()
    return out


def export(model: Any, tokenizer_dir: Path, out_dir: Path, meta: dict[str, Any]) -> Path:
    """Write the shippable judge folder (config, tokenizer, quantized weights, meta.json)."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(str(out_dir))
    for name in TOKENIZER_FILES:
        src = tokenizer_dir / name
        if src.is_file():
            shutil.copyfile(src, out_dir / name)
    save_file(quantize_state(model.state_dict()), str(out_dir / WEIGHTS))
    (out_dir / WEIGHTS).chmod(0o644)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out_dir


class JudgeModel:
    """The loaded cross-encoder. ``predict`` takes (premise = evidence, hypothesis = claim) pairs."""

    def __init__(
        self, model: Any, tokenizer: Any, meta: dict[str, Any], load_seconds: float, folder: Path | None = None,
        precision: str = "float32",
    ) -> None:
        self.folder = folder or bundled_dir()
        self.precision = precision
        self._model = model
        self._tokenizer = tokenizer
        self.meta = meta
        self.load_seconds = load_seconds

    @classmethod
    def load(cls, folder: Path | None = None, precision: str = "auto") -> JudgeModel:
        """Load the bundled judge (or ``folder``'s); ``precision``: auto, float32 or bfloat16."""
        started = time.perf_counter()
        folder = folder or bundled_dir()
        precision = resolve_precision(precision)
        if not (folder / WEIGHTS).is_file() or not (folder / "config.json").is_file():
            raise ModelError(f"judge model not found in {folder}; run python -m corroborate.training.train_judge")
        try:
            import torch
            from safetensors.torch import load_file
            from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

            config = BertConfig.from_json_file(str(folder / "config.json"))
            model = BertForSequenceClassification(config)
            missing, unexpected = model.load_state_dict(dequantize_state(load_file(str(folder / WEIGHTS))),
                                                        strict=False)
            missing = [m for m in missing if not m.endswith("position_ids")]
            if missing or unexpected:
                raise ModelError(f"judge weights in {folder} do not fit its config ({len(missing)} missing)")
            model.eval()  # type: ignore[no-untyped-call]
            if precision == "bfloat16":
                model.to(torch.bfloat16)  # type: ignore[arg-type]  # nn.Module.to casts in place
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            meta_path = folder / "meta.json"
            meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - torch/safetensors/transformers raise many types
            raise ModelError(f"judge model in {folder} is unreadable: {type(exc).__name__}: {exc}") from None
        torch.set_grad_enabled(False)
        return cls(model, tokenizer, meta, time.perf_counter() - started, folder, precision)

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, progress: Progress | None = None
    ) -> npt.NDArray[np.float32]:
        """Probabilities (entails, contradicts, neutral) per (premise, hypothesis) pair."""
        import torch

        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        if not pairs:
            return out
        # a pair asked twice (syndicated copies of one sentence) is judged once
        slot: dict[tuple[str, str], int] = {}
        where = np.array([slot.setdefault((p, h), len(slot)) for p, h in pairs], dtype=np.int64)
        unique = list(slot)
        probs = np.zeros((len(unique), len(LABELS)), dtype=np.float32)
        # length-sorted batches: far less padding
        order = sorted(range(len(unique)), key=lambda i: len(unique[i][0]) + len(unique[i][1]))
        done = 0
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                idx = order[b : b + batch_size]
                enc = self._tokenizer(
                    [unique[i][0] for i in idx], [unique[i][1] for i in idx], padding=True, truncation=True,
                    max_length=MAX_LENGTH, return_tensors="pt",
                )
                logits = self._model(**enc).logits
                probs[idx] = torch.softmax(logits.float(), dim=-1).numpy()
                done += len(idx)
                if progress:
                    progress(len(pairs) if done == len(unique) else done * len(pairs) // len(unique), len(pairs))
        out[:] = probs[where]
        return out
