"""What every judge data source builds on: the :class:`Pair` it yields, the stable split by group
(:func:`split_of`), and finding and reading files of the shared data folder.

Kept below :mod:`corroborate.training.judge_data` (the registry of sources) so that the sources it
registers (:mod:`corroborate.training.news`, :mod:`corroborate.training.contrast`, FNC-1 in
:mod:`corroborate.training.fnc1`) import these without importing the registry back.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corroborate.errors import ConfigError


@dataclass(frozen=True)
class Pair:
    premise: str  # the evidence sentence
    hypothesis: str  # the claim (atom)
    label: str  # one of judge_data.LABELS: entails / contradicts / neutral
    source: str
    group: str  # what the split is by


def split_of(group: str, dev: float = 0.1, test: float = 0.1) -> str:
    """A stable split for ``group``: the same group always lands in the same part."""
    h = (zlib.crc32(group.encode("utf-8")) % 10_000) / 10_000
    if h < test:
        return "test"
    if h < test + dev:
        return "dev"
    return "train"


def data_root(data_dir: Path, name: str) -> Path:
    """The ``name/`` folder of the data folder (or beside it, when given one of its subfolders)."""
    for candidate in (data_dir / name, data_dir.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"no {name}/ folder under {data_dir}")


def read_tsv(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a tab-separated file with a header (no quoting); a missing file is a ConfigError."""
    if not path.is_file():
        raise ConfigError(f"{path} not found")
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
