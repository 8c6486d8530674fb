"""Reports of checks: JSON (schema in corroborate/data/article-report.schema.json, documented in
docs/report-schema.md), Markdown, the terminal table, and the rows of the Prefect table artifact.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

from corroborate.check.checker import ArticleReport, ClaimResult

STATUS_MARK = {"corroborated": "✔ corroborated", "contradicted": "✘ contradicted", "unmatched": "· unmatched"}


def report_schema() -> dict[str, Any]:
    text = (resources.files("corroborate") / "data" / "article-report.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def to_json(report: ArticleReport | ClaimResult, indent: int | None = 2) -> str:
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False, default=str)


def _voices(entry: dict[str, Any], key: str) -> str:
    return ", ".join("/".join(v["outlets"]) for v in entry[key]) or "–"


def _top_link(entry: dict[str, Any]) -> str:
    for e in entry["evidence"]:
        if e["stance"] in {"agree", "disagree"}:
            return str(e["url"])
    return str(entry["evidence"][0]["url"]) if entry["evidence"] else ""


def table_rows(report: ArticleReport | ClaimResult) -> list[dict[str, Any]]:
    """One row per claim: the per-claim table of the terminal and the dashboard."""
    data = report.to_dict()
    entries = [data] if isinstance(report, ClaimResult) else [c for c in data["claims"] if c["is_claim"]]
    rows = []
    for e in entries:
        rows.append(
            {
                "claim": e.get("claim_text") or e.get("claim") or e.get("text"),
                "status": e["status"],
                "confidence": e["confidence"],
                "voices for": _voices(e, "voices_for"),
                "voices against": _voices(e, "voices_against"),
                "flags": ", ".join(e["flags"]),
                "source": _attribution(e),
                "top evidence": _top_link(e),
                "atoms": _atom_summary(e),
            }
        )
    return rows


def _atom_summary(e: dict[str, Any]) -> str:
    """"2/3 parts corroborated: …" for the table: what each part of the sentence came to."""
    atoms = e.get("atoms") or []
    if len(atoms) <= 1:
        return ""
    marks = {"corroborated": "✔", "contradicted": "✘", "unmatched": "·", None: "–"}
    return " | ".join(f"{marks[a['status']]} {a['kind']}: {_short(a['text'])}" for a in atoms)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _attribution(e: dict[str, Any]) -> str:
    a = e.get("attribution")
    if not a or a["kind"] == "none":
        return ""
    return f"{a['source'] or 'unnamed'} ({a['kind']})"


def to_markdown(report: ArticleReport | ClaimResult) -> str:
    """A readable report with the quotes behind every verdict."""
    data = report.to_dict()
    lines: list[str] = []
    if isinstance(report, ClaimResult):
        lines += ["# Claim check", "", f"> {data['claim']}", ""]
        entries = [data]
    else:
        art = data["article"]
        lines += [f"# Check: {art['title'] or art['source']}", ""]
        if art.get("url"):
            lines.append(f"Source: {art['url']}")
        copies = art.get("excluded_copies") or []
        if copies:
            lines += [
                "Copies of this article found in the corpus (never counted as evidence): "
                + ", ".join(f"[{_md(c['outlet'])}]({c['url']}) ({c['containment']:.0%} shared)" for c in copies),
                "",
            ]
        s = art["summary"]
        lines += [
            f"{art['claims']} claims in {art['sentences']} sentences: **{s['corroborated']} corroborated**, "
            f"**{s['contradicted']} contradicted**, {s['unmatched']} unmatched.",
            "",
            "| # | claim | status | confidence | voices for | voices against | flags |",
            "|---|---|---|---|---|---|---|",
        ]
        entries = [c for c in data["claims"] if c["is_claim"]]
        for i, e in enumerate(entries, 1):
            lines.append(
                f"| {i} | {_md(e['claim_text'])} | {e['status']} | {e['confidence']:.2f}"
                f" | {_md(_voices(e, 'voices_for'))}"
                f" | {_md(_voices(e, 'voices_against'))} | {', '.join(e['flags'])} |"
            )
        lines.append("")
    for i, e in enumerate(entries, 1):
        text = e.get("claim_text") or e.get("claim")
        lines += [f"## {i}. {e['status']} ({e['confidence']:.2f})", "", f"> {text}", ""]
        if _attribution(e):
            lines.append(f"Attributed to: {_attribution(e)}" + (" · hedged" if e.get("hedged") else ""))
            lines.append("")
        if e["flags"]:
            lines += [f"Flags: {', '.join(e['flags'])}", ""]
        atoms = e.get("atoms") or []
        if len(atoms) > 1:
            # who says each part: a sentence's speaker need not say all of it ("The refusal, a decision
            # that has baffled officials, is framed by his inner circle as …")
            lines += ["| part | kind | said by | status | voices for | voices against | note |",
                      "|---|---|---|---|---|---|---|"]
            for a in atoms:
                note = a["reason"] or ("anonymous source" if a["attribution"]["kind"] == "anonymous" else "")
                if a["checkable"] and not a["distinctive"]:
                    note = "carried by the qualified part"
                lines.append(
                    f"| {_md(a['text'])} | {a['kind']} | {_md(_attribution(a)) or '–'} | {a['status'] or 'not a claim'}"
                    f" | {_md(_voices(a, 'voices_for'))} | {_md(_voices(a, 'voices_against'))} | {_md(note)} |"
                )
            lines.append("")
        for ev in [x for x in e["evidence"] if x["stance"] in {"agree", "disagree"}][:6] or e["evidence"][:3]:
            part = f" (part {ev['atom'] + 1})" if ev.get("atom") is not None and len(atoms) > 1 else ""
            judge = ev.get("judge")
            probs = (
                f" — judge: entails {judge['entails']:.2f}, contradicts {judge['contradicts']:.2f}"
                if judge else ""
            )
            lines.append(
                f"- **{ev['stance']}**{part} ({ev['score']:.2f}) — {ev['outlet']}"
                f"{' [state media]' if ev['state_media'] else ''}: “{_md(ev['quote'])}”"
                f" [{_md(ev['title']) or 'link'}]({ev['url']}){probs}"
                + (f" · {ev['reason']}" if ev.get("reason") not in (None, "judge") else "")
            )
        if not e["evidence"]:
            lines.append("- no related reporting found in the corpus")
        lines.append("")
    return "\n".join(lines)


def _md(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def print_table(report: ArticleReport | ClaimResult, console: Any = None) -> None:
    """The default terminal output: a rich table, one row per claim."""
    from rich.console import Console
    from rich.table import Table

    # piped output has no terminal width: use a wide table rather than rich's 80 columns
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    rows = table_rows(report)
    title = "Claim check" if isinstance(report, ClaimResult) else f"Check: {report.title}"
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("claim", ratio=5)
    table.add_column("status", no_wrap=True, min_width=14)
    table.add_column("conf.", justify="right", width=5)
    table.add_column("for", ratio=2)
    table.add_column("against", ratio=2)
    table.add_column("flags / source", ratio=2)
    styles = {"corroborated": "green", "contradicted": "red", "unmatched": "dim"}
    for i, r in enumerate(rows, 1):
        table.add_row(
            str(i),
            r["claim"],
            f"[{styles[r['status']]}]{STATUS_MARK[r['status']]}[/]",
            f"{r['confidence']:.2f}",
            r["voices for"],
            r["voices against"],
            "; ".join(x for x in (r["flags"], r["source"]) if x),
        )
    console.print(table)
    if isinstance(report, ArticleReport):
        d = report.to_dict()["article"]
        skipped = d["sentences"] - d["claims"]
        console.print(
            f"{d['claims']} claims checked, {skipped} sentences not claims; corpus: "
            f"{d['corpus'].get('documents', 0)} documents, {d['corpus'].get('passages', 0)} passages."
        )
