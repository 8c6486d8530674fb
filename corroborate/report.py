"""Reports of checks: JSON (schema in corroborate/data/article-report.schema.json, documented in
docs/report-schema.md), Markdown, the terminal table, and the rows of the Prefect table artifact.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from typing import Any

from corroborate import screens
from corroborate.check.checker import ArticleReport, ClaimResult

STATUS_MARK = {"corroborated": "✔ corroborated", "contradicted": "✘ contradicted", "unmatched": "· unmatched"}


def report_schema() -> dict[str, Any]:
    text = (resources.files("corroborate") / "data" / "article-report.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def to_json(report: ArticleReport | ClaimResult, indent: int | None = 2) -> str:
    """The report as JSON, as is (:func:`corroborate.screens.json_text`: terminal controls as ``\\uXXXX``)."""
    return screens.json_text(report.to_dict(), indent=indent)


def _voices(entry: dict[str, Any], key: str) -> str:
    return ", ".join("/".join(v["outlets"]) for v in entry[key]) or "–"


def _top_link(entry: dict[str, Any]) -> str:
    for e in entry["evidence"]:
        if e["stance"] in {"agree", "disagree"}:
            return _shown_url(e["url"])
    return _shown_url(entry["evidence"][0]["url"]) if entry["evidence"] else ""


def _shown_url(url: str | None) -> str:
    """A URL as a screen may show it: re-serialised without credentials, or as visible text."""
    return screens.safe_url(url) or screens.one_line(screens.strip_userinfo(url or ""))


def table_rows(report: ArticleReport | ClaimResult) -> list[dict[str, Any]]:
    """One row per claim: the per-claim table of the terminal and the dashboard, status first.

    Every text cell is one visible line (:func:`corroborate.screens.one_line`); the dashboard's table
    artifact passes each through :func:`corroborate.screens.table_cell` as well (its cells are Markdown).
    """
    data = report.to_dict()
    entries = [data] if isinstance(report, ClaimResult) else [c for c in data["claims"] if c["is_claim"]]
    rows = []
    for e in entries:
        row = {
            "status": e["status"],
            "confidence": e["confidence"],
            "claim": e.get("claim_text") or e.get("claim") or e.get("text"),
            "voices for": _voices(e, "voices_for"),
            "voices against": _voices(e, "voices_against"),
            "flags": ", ".join(e["flags"]),
            "source": _attribution(e),
            "top evidence": _top_link(e),
            "atoms": _atom_summary(e),
        }
        rows.append({k: screens.one_line(v) if isinstance(v, str) else v for k, v in row.items()})
    return rows


def _atom_summary(e: dict[str, Any]) -> str:
    """"✔ main: … | · provenance: …" for the table: what each part of the sentence came to."""
    atoms = _shown_parts(e)
    if len(atoms) <= 1:
        return ""
    marks = {"corroborated": "✔", "contradicted": "✘", "unmatched": "·", None: "–"}
    return " | ".join(f"{marks[a['status']]} {a['kind']}: {_short(a['text'])}" for _, a in atoms)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _attribution(e: dict[str, Any]) -> str:
    a = e.get("attribution")
    if not a or a["kind"] == "none":
        return ""
    return f"{a['source'] or 'unnamed'} ({a['kind']})"


# -- the parts of a claim and the sentences behind them --------------------------------------------


def _same_words(a: str, b: str) -> bool:
    return _words(a) == _words(b)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _shown_parts(e: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index, atom) of the parts worth a line of their own: all of them, except a part that says the
    claim word for word (a time or place qualifier is the main clause *with* its time: the claim itself)."""
    atoms = list(enumerate(e.get("atoms") or []))
    if len(atoms) <= 1:
        return atoms
    claim = e.get("claim_text") or e.get("claim") or e.get("text") or ""
    return [(i, a) for i, a in atoms if not _same_words(a["text"], claim)]


def _added_words(longer: str, shorter: str) -> str:
    """The words ``longer`` has beyond ``shorter`` ("on Monday"), in order; "" when none."""
    import difflib

    a, b = longer.split(), shorter.split()
    strip = str.maketrans("", "", ".,;:!?")
    matcher = difflib.SequenceMatcher(a=[w.translate(strip).casefold() for w in b],
                                      b=[w.translate(strip).casefold() for w in a], autojunk=False)
    added = [" ".join(a[j1:j2]) for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace")]
    return " … ".join(x.strip(".,;:") for x in added if x.strip(".,;:"))


def _part_note(e: dict[str, Any], atom: dict[str, Any], hidden: list[dict[str, Any]]) -> str:
    note = atom["reason"] or ("anonymous source" if atom["attribution"]["kind"] == "anonymous" else "")
    if atom["checkable"] and not atom["distinctive"]:
        qualified = [h for h in hidden if h["kind"] == "qualifier"]
        extra = _added_words(qualified[0]["text"], atom["text"]) if qualified else ""
        note = f"the claim without “{extra}”" if extra else "carried by the qualified part"
    return note


_VERB = {"agree": "supports", "disagree": "denies", "discuss": "discusses", "unrelated": "is unrelated to"}


def _sentences(e: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The evidence of one claim grouped by sentence (document and quote): each sentence once."""
    judged = [x for x in e["evidence"] if x["stance"] in {"agree", "disagree"}]
    pool, limit = (judged, 6) if judged else (e["evidence"], 3)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for ev in pool:
        groups.setdefault((ev["url"], ev.get("start"), ev["quote"]), []).append(ev)
    return list(groups.values())[:limit]


def _sentence_line(group: list[dict[str, Any]], labels: dict[int, str]) -> str:
    first = group[0]
    stances: list[str] = []
    for stance in ("agree", "disagree", "discuss", "unrelated"):
        entries = [x for x in group if x["stance"] == stance]
        if not entries:
            continue
        best = max(entries, key=lambda x: x["score"])
        parts = [labels.get(x["atom"], "the claim") if x.get("atom") is not None else "the claim" for x in entries]
        parts = sorted(set(parts), key=lambda p: (p != "the claim", p))
        what = " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]
        judge = best.get("judge")
        numbers = (f"entails {judge['entails']:.2f}, contradicts {judge['contradicts']:.2f}" if judge
                   else f"{best['score']:.2f}")
        reasons = sorted({x["reason"] for x in entries if x.get("reason") not in (None, "judge")})
        stances.append(f"**{_VERB.get(stance, stance)}** {what} ({numbers})"
                       + "".join(f" · {screens.md_text(r)}" for r in reasons))
    outlet = screens.md_text(first["outlet"]) + (" \\[state media\\]" if first.get("state_media") else "")
    link = screens.md_link(first.get("title") or "link", first["url"])
    return f"- {outlet}: “{screens.md_text(first['quote'])}” {link} — " + "; ".join(stances)


def to_markdown(report: ArticleReport | ClaimResult) -> str:
    """A readable report with the quotes behind every verdict.

    Every piece of data goes through :mod:`corroborate.screens` (Markdown text, http(s) links only).
    The summary and the parts are lists, status first, so they wrap to any width (the dashboard does not
    wrap table cells); voices are counted in the summary and named under each claim; each evidence
    sentence is listed once, with the parts it supports or denies.
    """
    md = screens.md_text
    data = report.to_dict()
    lines: list[str] = []
    if isinstance(report, ClaimResult):
        lines += ["# Claim check", "", f"> {md(data['claim'])}", ""]
        entries = [data]
    else:
        art = data["article"]
        lines += [f"# Check: {md(art['title'] or art['source'])}", ""]
        if art.get("url"):
            lines += [f"Source: {screens.md_url(art['url'])}", ""]
        copies = art.get("excluded_copies") or []
        if copies:
            lines += [
                "Copies of this article found in the corpus (never counted as evidence): "
                + ", ".join(f"{screens.md_link(c['outlet'], c['url'])} ({c['containment']:.0%} shared)"
                            for c in copies),
                "",
            ]
        s = art["summary"]
        lines += [
            f"{art['claims']} claims in {art['sentences']} sentences: **{s['corroborated']} corroborated**, "
            f"**{s['contradicted']} contradicted**, {s['unmatched']} unmatched.",
            "",
        ]
        entries = [c for c in data["claims"] if c["is_claim"]]
        for i, e in enumerate(entries, 1):
            counts = f"{len(e['voices_for'])} for, {len(e['voices_against'])} against"
            flags = f" · {_flag_words(e['flags'])}" if e["flags"] else ""
            lines.append(f"{i}. {_status(e)} · {counts}{flags} — {md(e['claim_text'])}")
        lines += ["", "*for*, *against*: independent voices, named under each claim.", ""]
    for i, e in enumerate(entries, 1):
        text = e.get("claim_text") or e.get("claim")
        lines += [f"## {i}. {_status(e)}", "", f"> {md(text)}", ""]
        if _attribution(e):
            lines.append(f"Attributed to: {md(_attribution(e))}" + (" · hedged" if e.get("hedged") else ""))
            lines.append("")
        if e["voices_for"] or e["voices_against"]:
            lines += [f"Voices for: {md(_voices(e, 'voices_for'))} · against: {md(_voices(e, 'voices_against'))}", ""]
        if e["flags"]:
            lines += [f"Flags: {_flag_words(e['flags'])}", ""]
        unread = e.get("unread_other_language") or {}
        if unread.get("documents"):
            languages = ", ".join(f"{n} in {code}" for code, n in unread["languages"].items())
            lines += [f"Left unread: {unread['documents']} reports in other languages name the same names "
                      f"({languages}); no judge reads them yet.", ""]
        atoms = e.get("atoms") or []
        shown = _shown_parts(e) if len(atoms) > 1 else []
        labels = {index: f"part {n}" for n, (index, _) in enumerate(shown, 1)}
        if shown:
            hidden = [a for i, a in enumerate(atoms) if i not in labels]
            # who says each part: a sentence's speaker need not say all of it ("The refusal, a decision
            # that has baffled officials, is framed by his inner circle as …")
            lines += ["Parts:", ""]
            for n, (_, a) in enumerate(shown, 1):
                said = f", said by {md(_attribution(a))}" if _attribution(a) else ""
                voices = (f" — for: {md(_voices(a, 'voices_for'))}; against: {md(_voices(a, 'voices_against'))}"
                          if a["voices_for"] or a["voices_against"] else "")
                note = _part_note(e, a, hidden)
                lines.append(f"{n}. **{a['status'] or 'not a claim'}** · {a['kind']}{said} — {md(a['text'])}"
                             f"{voices}" + (f" · {md(note)}" if note else ""))
            lines += ["", "Evidence:", ""]
        for group in _sentences(e):
            lines.append(_sentence_line(group, labels))
        if not e["evidence"]:
            lines.append("- no related reporting found in the corpus")
        lines.append("")
    return "\n".join(lines)


def _status(e: dict[str, Any]) -> str:
    """"✔ **corroborated** 0.74": the status first, in words, then its confidence."""
    mark, word = STATUS_MARK[e["status"]].split(" ", 1)
    return f"{mark} **{word}** {e['confidence']:.2f}"


def _flag_words(flags: list[str]) -> str:
    return ", ".join(f.replace("_", " ") for f in flags)


def print_table(report: ArticleReport | ClaimResult, console: Any = None) -> None:
    """The default terminal output: a rich table, one row per claim.

    Every cell is a rich ``Text`` made by :func:`corroborate.screens.terminal_text`: data is never read
    as rich markup, and control characters are shown, never sent to the terminal.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    text = screens.terminal_text
    # piped output has no terminal width: use a wide table rather than rich's 80 columns
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    rows = table_rows(report)
    title = "Claim check" if isinstance(report, ClaimResult) else f"Check: {report.title}"
    table = Table(title=text(title), show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("status", no_wrap=True, min_width=14)
    table.add_column("conf.", justify="right", width=5)
    table.add_column("claim", ratio=5)
    table.add_column("for", ratio=2)
    table.add_column("against", ratio=2)
    table.add_column("flags / source", ratio=2)
    styles = {"corroborated": "green", "contradicted": "red", "unmatched": "dim"}
    for i, r in enumerate(rows, 1):
        table.add_row(
            Text(str(i)),
            Text(STATUS_MARK[r["status"]], style=styles[r["status"]]),
            Text(f"{r['confidence']:.2f}"),
            text(r["claim"]),
            text(r["voices for"]),
            text(r["voices against"]),
            text("; ".join(x for x in (r["flags"], r["source"]) if x)),
        )
    console.print(table)
    if isinstance(report, ArticleReport):
        d = report.to_dict()["article"]
        skipped = d["sentences"] - d["claims"]
        console.print(
            Text(
                f"{d['claims']} claims checked, {skipped} sentences not claims; corpus: "
                f"{d['corpus'].get('documents', 0)} documents, {d['corpus'].get('passages', 0)} passages."
            )
        )


# -- lines of a claims file that were not checked (check --file: each refused line keeps its place) --------


def refused_record(claim: str, problem: str) -> dict[str, Any]:
    """The JSON record of a claim that was refused instead of checked: no status, the reason in ``problem``."""
    return {"claim": claim, "status": None, "problem": problem}


def refused_json(claim: str, problem: str) -> str:
    return screens.json_text(refused_record(claim, problem))


def refused_markdown(claim: str, problem: str) -> str:
    md = screens.md_text
    return "\n".join(["# Claim not checked", "", f"> {md(claim)}", "", f"**Refused:** {md(problem)}", ""])


def print_refused(claim: str, problem: str, console: Any = None) -> None:
    """A marked row in place of the table of a claim that was refused: the claim and why, as text."""
    from rich.console import Console
    from rich.text import Text

    console = console or Console(width=None if sys.stdout.isatty() else 140)
    line = Text("✗ refused  ", style="bold yellow")
    line.append(screens.terminal_text(claim))
    line.append(Text("  — "))
    line.append(screens.terminal_text(problem, "yellow"))
    console.print(line)
