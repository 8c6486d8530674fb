"""FNC-1 (the Fake News Challenge stance data): loading train, and the stories its pairs belong to.

Every FNC-1 figure and data source (:mod:`corroborate.training.judge_data`'s ``fnc1`` sources,
:mod:`corroborate.training.evaluate_judge`, :mod:`corroborate.training.calibrate`) reads FNC-1 train through
:func:`load_fnc1` and splits it by story (:func:`topic_groups`), so a story never sits on two sides.
"""

from __future__ import annotations

import csv
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from corroborate.errors import ConfigError
from corroborate.training.pair import split_of

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'])")
# FNC-1's four stances of a body towards a headline (the judge's own labels are entails/contradicts/neutral).
FNC1_LABELS = ("agree", "disagree", "discuss", "unrelated")


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
        # A limit keeps whole bodies (the first ones by id), so no body is cut in half.
        keep_bodies = set(sorted(set(ids))[: max(1, round(len(set(ids)) * limit / len(ids)))])
        keep = [i for i, b in enumerate(ids) if b in keep_bodies]
        claims, texts, ids, labels = ([x[i] for i in keep] for x in (claims, texts, ids, labels))  # type: ignore[assignment]
    return FncData(claims, texts, ids, labels)


def topic_groups(data: FncData) -> list[int]:
    """A topic id per pair: bodies and headlines joined by their *related* pairs (one FNC-1 claim each).

    Grouping by body keeps a body out of training, but the same headline (and other bodies on the same
    story) may be in it; topic groups keep the whole story out, as a test set of new claims would.
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


@functools.cache
def fnc1_rows(data_dir: Path) -> tuple[list[str], list[str], list[int], list[str], list[int]]:
    """FNC-1 train as (headlines, bodies, body ids, labels, story ids), read once per data folder."""
    data = load_fnc1(data_dir)
    return data.claims, data.bodies, data.body_ids, data.labels, topic_groups(data)


def fnc1_split_of(topic: int) -> str:
    """The frozen split of an FNC-1 story (:func:`topic_groups`): 70 / 10 / 20 % train / dev / test."""
    return split_of(f"fnc1-story:{topic}", dev=0.1, test=0.2)


def body_sentences(body: str) -> list[str]:
    out = []
    for para in body.split("\n"):
        for s in _SENT.split(para.strip()):
            s = s.strip()
            if 20 <= len(s) <= 600:
                out.append(s)
    return out
