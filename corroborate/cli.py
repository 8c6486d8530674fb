"""The ``corroborate`` command line.

Heavy libraries (torch, sentence-transformers, faiss, spaCy, Prefect) are imported inside the
commands that need them, so ``corroborate --help`` starts fast. Every expected failure is a
:class:`CorroborateError` printed as one line with a non-zero exit; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from corroborate import __version__, interrupt
from corroborate.errors import ConfigError, CorroborateError
from corroborate.screens import json_text, visible

if TYPE_CHECKING:
    from corroborate.check.checker import Checker
    from corroborate.service import ServiceClient
    from corroborate.settings import Settings

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3  # a batch (check --file, stance) was done, but some of its rows were refused, each with its reason
T = TypeVar("T")


class Context:
    def __init__(self, overrides: dict[str, Any], config: Path | None) -> None:
        self.overrides = overrides
        self.config = config
        self._settings: Settings | None = None

    def settings(self, **more: Any) -> Settings:
        from corroborate.settings import load_settings  # imports pydantic: not for --help and --version

        if more:
            return load_settings({**self.overrides, **more}, config=self.config)
        if self._settings is None:
            self._settings = load_settings(self.overrides, config=self.config)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)
F = TypeVar("F", bound=Callable[..., Any])


def _stops_cleanly(command: F) -> F:
    """SIGINT and SIGTERM end ``command`` through its ``finally`` blocks, with one line (:func:`interrupt.exiting`)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with interrupt.exiting():
            return command(*args, **kwargs)

    return run  # type: ignore[return-value]


def _err(message: str) -> None:
    """One message on stderr; data in it (an outlet's name, a title) is shown, never run (corroborate.screens)."""
    click.echo(visible(message, multiline=True), err=True)


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal, a log line every few seconds otherwise."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as bar:
            task = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None)

            yield update
    else:
        last = [0.0]

        def log(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 5 or (total and done >= total):
                last[0] = now
                _err(f"{label}: {done}/{total or '?'}")

        yield log


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    type=click.Path(),  # kept as text: Path("") would be ".", and an empty home must be refused, not used
    envvar="CORROBORATE_HOME",
    show_envvar=True,
    help="Data folder (store, index, Prefect home). Default: ~/.local/share/corroborate.",
)
@click.option("--config", type=click.Path(path_type=Path), help="A corroborate.toml to read settings from.")
@click.option("--debug", is_flag=True, default=None, help="Show tracebacks.")
@click.version_option(__version__, prog_name="corroborate")
@click.pass_context
def cli(ctx: click.Context, home: str | None, config: Path | None, debug: bool | None) -> None:
    """Check claims against independent outlets' reporting: corroborated, contradicted or unmatched."""
    ctx.obj = Context({"home": home, "debug": debug}, config)


# -- ingest ------------------------------------------------------------------------------------


@cli.command()
@click.option("--outlets", "outlets_file", type=click.Path(path_type=Path), help="Outlets TOML (default: bundled).")
@click.option("--query", help="Also find coverage of this query with the GDELT DOC API.")
@click.option("--since", help="Only items published since this date (YYYY-MM-DD or ISO 8601).")
@click.option("--task-runner", type=click.Choice(["thread", "dask"]), help="Prefect task runner.")
@click.option("--dask-address", help="Join this Dask scheduler instead of starting a LocalCluster.")
@pass_ctx
def ingest(
    c: Context,
    outlets_file: Path | None,
    query: str | None,
    since: str | None,
    task_runner: str | None,
    dask_address: str | None,
) -> None:
    """Discover, fetch, extract, dedup, store and index the outlets' news (a Prefect flow run)."""
    s = c.settings(outlets_file=outlets_file, task_runner=task_runner, dask_address=dask_address)
    from corroborate.ingest.outlets import load_outlets

    load_outlets(s.outlets_file)  # fail fast, before Prefect starts, on a bad outlets file
    if since:
        from corroborate.ingest.steps import parse_iso_date

        parse_iso_date(since, "--since")  # fail fast, before Prefect starts
    from flows.ingest import run_ingest

    with interrupt.graceful():  # a signal stops the fetching; what was fetched and extracted is stored
        summary = run_ingest(s, outlets_file=str(s.outlets_file) if s.outlets_file else None, query=query,
                             since=since)
        stopped = interrupt.stop_signal()
    _print_summary(summary)
    if stopped is not None:
        _err(f"{summary.get('interrupted') or interrupt.stop_reason()}: fetching stopped; what was fetched and "
             f"extracted before it is stored, run {summary.get('run_id', '?')} is marked interrupted, and the "
             "index catches up at the next check or ingest")
        raise click.exceptions.Exit(128 + stopped)


def _print_summary(summary: dict[str, Any]) -> None:
    rows = summary.get("outlets", [])
    if rows:
        cols = ["outlet", "discovered", "fetched", "new", "unchanged", "skipped", "failed"]
        rows = [{k: visible(str(r.get(k, ""))) for k in cols} for r in rows]  # names shown, never run
        widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in cols}
        click.echo("  ".join(k.ljust(widths[k]) for k in cols))
        for r in rows:
            click.echo("  ".join(r[k].ljust(widths[k]) for k in cols))
    index = summary.get("index", {})
    click.echo(
        f"store: {index.get('documents', '?')} documents, {index.get('passages', '?')} passages; "
        f"index: {index.get('count', '?')} vectors ({index.get('kind', '?')})"
    )
    sources = summary.get("sources")
    if sources:
        asked = int(sources.get("fetched", 0)) + int(sources.get("not_modified", 0))
        click.echo(f"unchanged since the last run (HTTP 304): {sources.get('not_modified', 0)} of {asked} feeds and "
                   f"sitemaps, {summary.get('pages_not_modified', 0)} pages")
    other = (summary.get("outlets_not_fetched") or {}).get("by_language") or {}
    if other:
        languages = ", ".join(summary["outlets_not_fetched"].get("languages", []))
        click.echo(f"not fetched: {sum(other.values())} outlets in other languages than {languages} ("
                   + ", ".join(f"{code} {n}" for code, n in other.items()) + ")")


# -- import ------------------------------------------------------------------------------------


@cli.command("import")
@click.argument("docs", type=click.Path(path_type=Path))
@click.option("--outlets", "outlets_file", type=click.Path(path_type=Path), help="Outlets TOML (default: bundled).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid records and leave out invalid ones (named on stderr) instead of refusing the file.",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(path_type=Path),
    help="Write each invalid line as JSON {line, reason, raw} to this file (implies --skip-invalid).",
)
@pass_ctx
@_stops_cleanly
def import_(c: Context, docs: Path, outlets_file: Path | None, skip_invalid: bool, rejects_file: Path | None) -> None:
    """Import your own corpus: JSON lines with url, title, text, and optional outlet, published.

    By default one invalid record refuses the whole file and nothing is written.
    """
    s = c.settings(outlets_file=outlets_file)
    skip = skip_invalid or rejects_file is not None
    summary = import_documents(s, docs, skip_invalid=skip, rejects_file=rejects_file)
    rejected = summary.get("rejected", 0)
    listed = f", listed in {rejects_file}" if rejects_file is not None and rejected else ""
    of = f" of {summary['lines'] + rejected} ({rejected} rejected{listed})" if skip else ""
    click.echo(
        f"imported {summary['lines']} records{of}: {summary['new']} new, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged/duplicates; index {summary['index_count']} vectors"
    )
    if summary.get("credentials_removed"):
        _err(f"note: user:password removed from {summary['credentials_removed']} URLs (never stored or shown)")


# rejected lines named on stderr when there is no --rejects file to hold them all
SHOWN_REJECTS = 20


def _write_rejects(path: Path, docs: Path, rejects: dict[int, str]) -> None:
    from corroborate.ingest.steps import raw_lines
    from corroborate.output import write_output

    def write(fh: Any) -> None:
        for number, raw in raw_lines(docs, set(rejects)):
            fh.write(json.dumps({"line": number, "reason": rejects[number], "raw": raw}, ensure_ascii=False) + "\n")

    write_output(path, write, inputs=[docs], what="rejects file", newline="\n")


def import_documents(
    s: Settings, docs: Path, *, skip_invalid: bool = False, rejects_file: Path | None = None
) -> dict[str, Any]:
    """Validate every record of ``docs``, then store, embed and index them; the counts.

    Strict by default: the first invalid record raises ConfigError before anything is written. A record
    with the URL of an earlier line (the same canonical URL) is invalid: it would replace that line's.
    With ``skip_invalid`` the invalid lines are left out and the rest imported; each invalid line
    is named on stderr or, given ``rejects_file``, written there as JSON with its number and
    reason, and the counts gain ``rejected``.
    """
    from corroborate.corpus.backend import corpus_writer_lock, open_store
    from corroborate.corpus.dedup import content_hash, has_userinfo
    from corroborate.corpus.embed import load_embedder
    from corroborate.corpus.index import sync_index
    from corroborate.corpus.records import Extracted
    from corroborate.ingest.outlets import OutletRegistry, load_outlets
    from corroborate.ingest.steps import CorpusWriter, imported_record, prepare, read_jsonl_lines
    from corroborate.output import check_output

    if not docs.is_file():
        raise ConfigError(f"{docs} does not exist or is not a file")
    if rejects_file is not None:
        check_output(rejects_file, inputs=[docs], what="rejects file")  # before any work: never the input
    registry = OutletRegistry(load_outlets(s.outlets_file))

    def valid(number: int, obj: dict[str, Any] | ConfigError) -> tuple[Extracted, str]:
        if isinstance(obj, ConfigError):
            raise obj
        return imported_record(obj, f"{docs}:{number}", registry)

    # validate the whole file before writing anything, so a bad line 9,000 leaves the store untouched
    count = 0
    rejects: dict[int, str] = {}
    first_line: dict[str, int] = {}  # canonical URL -> the line that has it: a later record must not replace it
    for number, obj in read_jsonl_lines(docs):
        try:
            extracted, _ = valid(number, obj)
            first = first_line.setdefault(extracted.canonical_url or extracted.url, number)
            if first != number:
                raise ConfigError(f"{docs}:{number}: the same URL as line {first} ({extracted.url}); a file holds "
                                  "one record per URL (this one would replace that one)")
        except ConfigError as exc:
            if not skip_invalid:
                raise
            rejects[number] = str(exc).removeprefix(f"{docs}:{number}: ")
            continue
        count += 1
    if rejects_file is not None:  # written even when empty: no stale list from an earlier run
        _write_rejects(rejects_file, docs, rejects)
    elif rejects:
        for number in sorted(rejects)[:SHOWN_REJECTS]:
            _err(f"rejected {docs}:{number}: {rejects[number]}")
        if len(rejects) > SHOWN_REJECTS:
            _err(f"... and {len(rejects) - SHOWN_REJECTS} more rejected lines (--rejects FILE lists them all)")
    if count == 0:
        raise ConfigError(f"{docs} has no valid records" if rejects else f"{docs} has no records")
    counts: dict[str, Any] = {"lines": count, "new": 0, "updated": 0, "unchanged": 0}
    if skip_invalid:
        counts["rejected"] = len(rejects)
    with corpus_writer_lock(s, timeout=600, what="import"), open_store(s) as store:
        run_id = store.start_run("import", {"file": str(docs)})
        try:
            writer = CorpusWriter(store, s, run_id)
            writer.register_outlets(registry)
            with progress("import") as tick:
                done = 0
                for number, obj in read_jsonl_lines(docs):
                    if number in rejects:
                        continue
                    extracted, outlet = valid(number, obj)
                    if isinstance(obj, dict) and has_userinfo(obj.get("url")):  # stored without them
                        counts["credentials_removed"] = counts.get("credentials_removed", 0) + 1
                    if store.stored_hash(extracted.url) == content_hash(extracted.text):
                        key = "unchanged"  # the same text under the same URL: skip the sentence split and MinHash
                    else:
                        outcome = writer.write(prepare(extracted, outlet, s), log_fetch=False)
                        key = outcome.outcome if outcome.outcome in ("new", "updated") else "unchanged"
                    counts[key] += 1
                    done += 1
                    tick(done, count)
            with progress("embed") as tick:
                index, _ = sync_index(store, load_embedder(), s, progress=lambda _s, d, t: tick(d, t))
            counts["index_count"] = index.count
        except BaseException as exc:  # Ctrl-C too: the run row must not stay "running"
            stopped = isinstance(exc, (KeyboardInterrupt, interrupt.Interrupted))
            with contextlib.suppress(CorroborateError):  # the store itself may be what failed (a full disk)
                store.finish_run(run_id, "interrupted" if stopped else "failed", {**counts, "error": _reason(exc)})
            raise
        store.finish_run(run_id, "completed", counts)
    return counts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, interrupt.Interrupted):
        return str(exc)  # "interrupted by SIGTERM"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:500]}" if not isinstance(exc, CorroborateError) else first[:500]


# -- check and article -------------------------------------------------------------------------


_NO_DAEMON = click.option(
    "--no-daemon", is_flag=True,
    help="Do not start the background warm checker (setting checker_daemon); one already running (serve's, or one "
    "an earlier check started) still answers.",
)


def _output_format(as_json: bool, jsonl: bool, markdown: bool) -> str:
    chosen = [n for n, on in (("json", as_json), ("jsonl", jsonl), ("markdown", markdown)) if on]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --json, --jsonl, --markdown")
    return chosen[0] if chosen else "table"


@cli.command()
@click.argument("claim", required=False)
@click.option("--file", "claims_file", type=click.Path(path_type=Path), help="Check one claim per line of this file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per claim.")
@click.option("--markdown", is_flag=True, help="Print a Markdown report.")
@click.option("--fresh", is_flag=True, help="First discover and ingest coverage of the claim (GDELT + feeds).")
@_NO_DAEMON
@pass_ctx
@_stops_cleanly
def check(
    c: Context, claim: str | None, claims_file: Path | None, as_json: bool, jsonl: bool, markdown: bool, fresh: bool,
    no_daemon: bool,
) -> None:
    """Check one CLAIM (or --file CLAIMS.txt) against the corpus.

    With --file every line gets its report, in order. A line that cannot be checked (one word, in a
    language the judge does not read, too long) is not checked: it gets a record without a status and
    with its reason in `problem` (--jsonl), a section saying so (--markdown) or a marked row (table), the
    other lines are checked, and the exit code is 3. A CLAIM given as an argument that cannot be checked
    is an error (exit code 1).
    """
    fmt = _output_format(as_json, jsonl, markdown)
    if (claim is None) == (claims_file is None):
        raise ConfigError("give a CLAIM or --file CLAIMS.txt (one of them)")
    if claim is not None:
        _require_utf8(claim)
    claims = [claim or ""] if claims_file is None else _read_claims(claims_file)
    s = c.settings(checker_daemon=False) if no_daemon else c.settings()
    from corroborate.check.checker import validate_claim
    from corroborate.judge.reading import claim_problem

    refused: dict[int, str] = {}
    if claims_file is None:
        validate_claim(claims[0], s.judge_any_language)
    else:
        problems = ((i, claim_problem(text, s.judge_any_language)) for i, text in enumerate(claims))
        refused = {i: problem for i, problem in problems if problem}
    to_check = [text for i, text in enumerate(claims) if i not in refused]
    if fresh:
        from flows.ingest import run_ingest

        for text in to_check:
            run_ingest(s, outlets_file=str(s.outlets_file) if s.outlets_file else None, query=text)
    if claims_file is None:
        results = _warm_or_here(s, lambda checker: checker.check_claims(to_check))
    elif to_check:
        started = time.monotonic()
        with progress("check") as tick:
            results = _warm_or_here(s, lambda checker: checker.check_claims(to_check, tick))
        _err(f"checked {len(results)} claims in {time.monotonic() - started:.1f} s")
    else:
        results = []
    from corroborate import report

    checked = iter(results)
    if fmt == "json" and len(claims) == 1 and not refused:
        click.echo(report.to_json(results[0]))
    elif fmt in ("json", "jsonl"):
        for i, text in enumerate(claims):
            click.echo(report.refused_json(text, refused[i]) if i in refused
                       else report.to_json(next(checked), indent=None))
    elif fmt == "markdown":
        click.echo("\n".join(report.refused_markdown(text, refused[i]) if i in refused
                              else report.to_markdown(next(checked)) for i, text in enumerate(claims)))
    else:
        for i, text in enumerate(claims):
            if i in refused:
                report.print_refused(text, refused[i])
            else:
                report.print_table(next(checked))
    if refused:
        _err(f"{len(refused)} of {len(claims)} claims refused, each with its reason; the others were checked")
        raise click.exceptions.Exit(EXIT_REFUSED)


def _require_utf8(claim: str) -> None:
    """A claim argument's bytes that are not UTF-8 arrive as lone surrogates (PEP 383): refuse them by name."""
    try:
        claim.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ord(claim[exc.start])
        where = f" (byte 0x{bad - 0xDC00:02x} at character {exc.start + 1})" if 0xDC80 <= bad <= 0xDCFF else ""
        raise ConfigError(f"the claim is not valid UTF-8 text{where}; give it in UTF-8") from None


def _warm_or_here(s: Settings, work: Callable[[ServiceClient | Checker], T]) -> T:
    """``work`` done as :func:`corroborate.service.warm_or_here` decides (the warm checker of `corroborate
    serve` when one answers, else a Checker loaded in this process for this command); which way it went
    is said on stderr with --debug. When none answers, a background warm checker is started first
    (:mod:`corroborate.daemon`) unless the checker_daemon setting or --no-daemon says not to."""
    from corroborate.check.checker import Checker
    from corroborate.service import warm_or_here

    if s.checker_daemon:
        from corroborate.daemon import warm_client

        warm_client(s, log=_err if s.debug else None)  # the one that answers, or a new one: warm_or_here finds it
    return warm_or_here(s, work, log=_err if s.debug else None,
                        here=lambda: contextlib.closing(Checker.open(s, log=_err)))


def _read_claims(path: Path) -> list[str]:
    from corroborate.check.checker import read_text_file

    text = read_text_file(path, "claims file")
    claims = [line.strip() for line in text.splitlines() if line.strip()]
    if not claims:
        raise ConfigError(f"claims file {path} has no claims")
    return claims


@cli.command()
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report (schema: docs/report-schema.md).")
@click.option("--markdown", is_flag=True, help="Print a Markdown report.")
@click.option("--outlet", help="The article's own outlet (never counted as corroborating itself).")
@_NO_DAEMON
@pass_ctx
@_stops_cleanly
def article(c: Context, source: str, as_json: bool, markdown: bool, outlet: str | None, no_daemon: bool) -> None:
    """Check every claim of an article (a text/HTML FILE or a URL)."""
    fmt = _output_format(as_json, False, markdown)
    s = c.settings(checker_daemon=False) if no_daemon else c.settings()
    from dataclasses import replace

    from corroborate.check.checker import read_article
    from corroborate.corpus.backend import open_store

    art = read_article(source, s)
    if outlet:
        art = replace(art, outlet=outlet)
    started = time.monotonic()
    with progress("article") as tick:
        result = _warm_or_here(s, lambda checker: checker.check_article(art, tick))
    with open_store(s) as store:
        if store.read_only:
            _err(f"note: {s.home} is read-only, so this check was not saved in it")
        else:
            store.save_check("article", art.source, art.title, result.to_dict())  # source without credentials
    claims = sum(1 for r in result.sentences if r.sentence.is_claim)
    _err(f"checked {claims} claims in {time.monotonic() - started:.1f} s")
    from corroborate import report

    if fmt == "json":
        click.echo(report.to_json(result))
    elif fmt == "markdown":
        click.echo(report.to_markdown(result))
    else:
        report.print_table(result)


# -- stance, eval, calibrate --------------------------------------------------------------------


@cli.command()
@click.argument("pairs", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the CSV ('-' = stdout); never the input file. A file is replaced atomically, a link's "
    "target is written, a device such as /dev/null is written in place.",
)
@pass_ctx
@_stops_cleanly
def stance(c: Context, pairs: Path, output: Path) -> None:
    """Label claim/evidence pairs: a CSV id,claim,evidence in, a CSV out.

    Output columns: id,stance,p_agree,p_disagree,p_discuss,p_unrelated,problem. Every input row gets an
    output row, in order. A row that cannot be judged (a one-word or empty claim, a
    claim in a language the judge does not read, too few fields) has an empty stance and probabilities and
    its reason in `problem`; the others are judged. Exit code 3 when some rows were refused.

    An id starting with =, +, -, @, tab or carriage return is written with a leading ' so that a
    spreadsheet shows it as text instead of running it as a formula.
    """
    s = c.settings()
    from corroborate.judge.pairs import label_pairs_csv, read_pairs_csv
    from corroborate.judge.reading import Judge
    from corroborate.output import check_output

    rows = read_pairs_csv(pairs, s.judge_any_language)  # validate before loading models
    check_output(output, [pairs])
    judge = Judge.for_settings(s) if any(not r.problem for r in rows) else None
    with progress("stance") as tick:
        n, refused = label_pairs_csv(pairs, output, judge, progress=tick, any_language=s.judge_any_language)
    _err(f"wrote {n} rows to {output}")
    if refused:
        _err(f"{refused} of {n} rows refused: an empty stance and the reason in the problem column")
        raise click.exceptions.Exit(EXIT_REFUSED)


@cli.group("eval")
def eval_() -> None:
    """Evaluate models on labelled data."""


_SPLIT = click.option("--split", type=click.Choice(["train", "dev", "test"]), default="test", show_default=True,
                      help="Which part (split by group; test is frozen: nothing is chosen on it).")
_LIMIT = click.option("--limit", type=click.IntRange(1), help="Use only the first N pairs (quick runs).")
_DATA = click.option("--data", type=click.Path(path_type=Path), required=True, help="The shared data folder.")


_CACHE = click.option("--cache-dir", type=click.Path(path_type=Path),
                      help="Keep FNC-1 judgements here (per split and judge): eval fnc1 and calibrate judge once.")


def _current_settings() -> Settings:
    """The settings of this invocation (the judge's folder, sentences and precision follow them)."""
    from corroborate.settings import load_settings

    c = click.get_current_context().find_object(Context)
    return c.settings() if c else load_settings()


def _judge_eval(
    source: str, data: Path, split: str, limit: int | None, cache_dir: Path | None = None
) -> None:
    from corroborate.judge.reading import Judge
    from corroborate.training.evaluate_judge import eval_fnc1, eval_sentences
    from corroborate.training.judge_data import check_data

    check_data(source, data)  # a wrong folder fails in one line, before the models load
    judge = Judge.for_settings(_current_settings())
    with progress(f"eval {source}") as tick:
        if source == "fnc1":
            result = eval_fnc1(judge, data, split, limit, progress=tick, cache_dir=cache_dir)
        else:
            result = eval_sentences(judge, data, source, split, limit, progress=tick)
    click.echo(result.to_markdown())


@eval_.command("snli")
@_DATA
@_SPLIT
@_LIMIT
def eval_snli(data: Path, split: str, limit: int | None) -> None:
    """The judge's accuracy on SNLI (test = SNLI's own test file)."""
    _judge_eval("snli", data, split, limit)


@eval_.command("cannot")
@_DATA
@_SPLIT
@_LIMIT
def eval_cannot(data: Path, split: str, limit: int | None) -> None:
    """The judge on held-out CANNOT negation/antonym pairs: denial precision and recall."""
    _judge_eval("cannot", data, split, limit)


@eval_.command("perspectrum")
@_DATA
@_SPLIT
@_LIMIT
def eval_perspectrum(data: Path, split: str, limit: int | None) -> None:
    """The judge on Perspectrum's own split: support (entails) vs undermine (contradicts)."""
    _judge_eval("perspectrum", data, split, limit)


@eval_.command("fever")
@_DATA
@_SPLIT
@_LIMIT
def eval_fever(data: Path, split: str, limit: int | None) -> None:
    """The judge on FEVER-RTE (real claims against their Wikipedia evidence; split by evidence): supported or not."""
    _judge_eval("fever", data, split, limit)


@eval_.command("cad-snli")
@_DATA
@_SPLIT
@_LIMIT
def eval_cad_snli(data: Path, split: str, limit: int | None) -> None:
    """The judge on counterfactually augmented SNLI (minimal edits that flip the label; its own split)."""
    _judge_eval("cad-snli", data, split, limit)


@eval_.command("debunks")
@click.option("--split", type=click.Choice(["train", "dev", "test"]), default="dev", show_default=True,
              help="Which part of the generated facts (split by fact).")
@_LIMIT
def eval_debunks(split: str, limit: int | None) -> None:
    """The judge on generated claims that are themselves denials ("Reports of X's death are false")."""
    _judge_eval("debunks", Path("."), split, limit)


@eval_.command("fnc1")
@_DATA
@_SPLIT
@_LIMIT
@_CACHE
def eval_fnc1(data: Path, split: str, limit: int | None, cache_dir: Path | None) -> None:
    """FNC-1 headline/body pairs of the story-grouped split, judged as check judges them."""
    _judge_eval("fnc1", data, split, limit, cache_dir)


@eval_.command("fnc1-headlines")
@_DATA
@_SPLIT
@_LIMIT
def eval_fnc1_headlines(data: Path, split: str, limit: int | None) -> None:
    """Real headlines of one FNC-1 story against each other (same side, opposite sides, observing), judged
    as check judges them."""
    from corroborate.judge.reading import Judge
    from corroborate.training.evaluate_judge import eval_headline_pairs
    from corroborate.training.judge_data import check_data

    check_data("fnc1-headlines", data)  # a wrong folder fails in one line, before the models load
    judge = Judge.for_settings(_current_settings())
    with progress("eval fnc1-headlines") as tick:
        click.echo(eval_headline_pairs(judge, data, split, limit, progress=tick).to_markdown())


@eval_.command("denials")
@click.option("--file", "path", type=click.Path(path_type=Path), default=Path("tests/data/denials.tsv"),
              show_default=True, help="The news denial set (id, group, category, claim, sentence, label).")
def eval_denials(path: Path) -> None:
    """The news denial set, judged as check judges it: per-class precision and recall."""
    from corroborate.judge.reading import Judge
    from corroborate.training.evaluate_judge import eval_denials as run
    from corroborate.training.evaluate_judge import read_denials

    read_denials(path)  # a missing or malformed file fails in one line, before the models load
    judge = Judge.for_settings(_current_settings())
    with progress("eval denials") as tick:
        click.echo(run(judge, path, progress=tick).to_markdown())


@cli.command()
@click.option("--data", type=click.Path(path_type=Path), required=True, help="The shared data folder (fnc1/).")
@click.option("--limit", type=click.IntRange(1), help="Use only the first N pairs of each part (quick runs).")
@_CACHE
@pass_ctx
def calibrate(c: Context, data: Path, limit: int | None, cache_dir: Path | None) -> None:
    """Recompute the verdict thresholds on the check path: chosen on FNC-1 dev stories, reported on test stories."""
    from corroborate.training.calibrate import calibrate as run
    from corroborate.training.judge_data import check_data

    check_data("fnc1", data)
    with progress("calibrate") as tick:
        result = run(data, c.settings(), limit=limit, progress=tick, cache_dir=cache_dir)
    click.echo(result.to_markdown())


# -- demo site, Prefect ---------------------------------------------------------------------------


@cli.command("demo-site")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--write-outlets", type=click.Path(path_type=Path), help="Write the demo outlets TOML here.")
def demo_site(port: int, write_outlets: Path | None) -> None:
    """Serve the bundled fictional demo news site on 127.0.0.x (Ctrl-C stops)."""
    from corroborate.ingest.demosite import serve_forever

    serve_forever(port, _err, outlets_path=write_outlets)


@cli.command()
@pass_ctx
def serve(c: Context) -> None:
    """Serve the Prefect deployments (scheduled ingest, on-demand checks).

    One serve per data folder: a second one names the first (pid, host) and exits non-zero. On its way out
    a serve pauses only its own deployments, not those another data folder's serve has taken over.
    """
    from flows.serve import main

    main(c.settings())


@cli.command()
@pass_ctx
def server(c: Context) -> None:
    """Start a local Prefect server (dashboard) on 127.0.0.1 with the project's PREFECT_HOME."""
    from flows.serve import start_server

    start_server(c.settings())


# -- index, status, settings ------------------------------------------------------------------------


@cli.group("store")
def store_group() -> None:
    """The corpus store: the SQLite file in the data folder, or PostgreSQL (store_url; docs/scaling.md)."""


@store_group.command("copy")
@click.option("--to", "url", help="postgresql:// URL of the target (default: the store_url setting; a password is "
              "best given in PGPASSWORD).")
@click.option("--batch", type=click.IntRange(1, 1_000_000), default=2000, show_default=True,
              help="Rows per transaction (an interrupted copy loses at most one batch).")
@pass_ctx
def store_copy(c: Context, url: str | None, batch: int) -> None:
    """Copy this data folder's SQLite corpus into a PostgreSQL store, embeddings included; resumable (run it
    again after an interruption) and verified at the end by row counts and content hashes of every table."""
    from corroborate.corpus.copy import copy_to_postgres

    s = c.settings()
    target = url or s.store_url
    if not target:
        raise click.UsageError("give --to postgresql://... or set store_url")
    with progress("copy") as tick:
        report = copy_to_postgres(s.home, target, batch=batch, progress=lambda _t, d, n: tick(d, n))
    for t in report.tables:
        _err(f"{t.table}: {t.target} rows ({t.copied} copied now), sha256 {t.target_sha256[:12]} matches")
    click.echo(f"copied {report.source} into {report.target} in {report.seconds:.1f} s"
               f"{' (resumed)' if report.resumed else ''}; verified")


@cli.group()
def index() -> None:
    """Inspect or rebuild the vector index."""


@index.command("status")
@pass_ctx
def index_status(c: Context) -> None:
    """Show the index manifest beside the store's counts, and what the next check will do with the index.

    Runs the checks a check runs before it searches (file type, checksum, dimension, counts and generation
    against the store). Exit code 1 when the index is not usable as it is (a check would build, sync or
    rebuild it first, or stop).
    """
    from corroborate.corpus.backend import open_store
    from corroborate.corpus.embed import DIMENSION, MODEL_NAME
    from corroborate.corpus.index import index_health, read_manifest
    from corroborate.errors import IndexStateError

    s = c.settings()
    with open_store(s) as store:
        health = index_health(store, s, MODEL_NAME, DIMENSION)
        try:
            manifest = read_manifest(s.index_dir)
        except IndexStateError:
            manifest = None
        info = {
            "documents": store.document_count(),
            "passages": store.passage_count(),
            "store_generation": store.generation(),
            "unembedded": store.unembedded_count(),
            "manifest": manifest.__dict__ if manifest else None,
            "state": health.state,
            "usable": health.usable,
            "problem": health.problem or None,
            "vectors": health.vectors,
            "next_check": health.next_check,
        }
    click.echo(json.dumps(info, indent=2))
    if not health.usable:
        _err(f"index {health.state}: {health.problem}; {health.next_check}")
        raise click.exceptions.Exit(EXIT_ERROR)


@index.command("rebuild")
@pass_ctx
def index_rebuild(c: Context) -> None:
    """Rebuild the index from the store (embeds only passages without embeddings)."""
    from corroborate.corpus.backend import corpus_writer_lock, open_store
    from corroborate.corpus.embed import load_embedder
    from corroborate.corpus.index import sync_index

    s = c.settings()
    with (
        corpus_writer_lock(s, timeout=600, what="index rebuild"),
        open_store(s) as store,
        progress("index") as tick,
    ):
        idx, rep = sync_index(store, load_embedder(), s, rebuild=True, progress=lambda _s, d, t: tick(d, t))
    click.echo(f"index rebuilt: {idx.count} vectors ({idx.kind}); embedded {rep.embedded} new passages")


# -- outlets ----------------------------------------------------------------------------------------


@cli.group("outlets")
def outlets_group() -> None:
    """The outlet registry: list it, check its feeds and sitemaps (docs/outlets.md)."""


_OUTLETS_FILE = click.option(
    "--outlets",
    "outlets_file",
    type=click.Path(path_type=Path),
    help="Outlets TOML (default: the bundled outlets.toml merged with outlets-fundus.toml).",
)


def _print_rows(rows: list[dict[str, Any]], cols: list[str]) -> None:
    """A plain table; every cell made visible (corroborate.screens): a name cannot move the cursor."""
    cells = [{k: visible(str(r[k] if r[k] is not None else "-")) for k in cols} for r in rows]
    widths = {k: max(len(k), *(len(c[k]) for c in cells)) for k in cols}
    click.echo("  ".join(k.ljust(widths[k]) for k in cols).rstrip())
    for c in cells:
        click.echo("  ".join(c[k].ljust(widths[k]) for k in cols).rstrip())


@outlets_group.command("list")
@_OUTLETS_FILE
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per outlet.")
@pass_ctx
def outlets_list(c: Context, outlets_file: Path | None, as_json: bool) -> None:
    """Show the registry, one outlet a line: country, language, independence group, flags, feeds, sitemaps.

    Flags: state (state media), fictional, owner? (owner not known: an outlet only fundus lists, its own
    independence group), no-source (no feed or sitemap: it is still recognised by its domains).
    """
    from corroborate.ingest.outlets import load_outlets

    s = c.settings(outlets_file=outlets_file)
    registry = load_outlets(s.outlets_file)
    rows = []
    for o in registry:
        flags = [f for f, on in (("state", o.state_media), ("fictional", o.fictional), ("owner?", o.owner == "unknown"),
                                 ("no-source", not o.feeds and not o.sitemaps)) if on]
        rows.append({"outlet": o.name, "country": o.country, "lang": o.language, "group": o.group,
                     "flags": ",".join(flags), "feeds": len(o.feeds), "sitemaps": len(o.sitemaps), "from": o.origin,
                     "domains": list(o.domains)})
    if as_json:
        for row in rows:
            click.echo(json_text(row))
        return
    _print_rows(rows, ["outlet", "country", "lang", "group", "flags", "feeds", "sitemaps", "from"])
    sources = [where for o in registry for url, where in o.provenance if url in o.feeds or url in o.sitemaps]
    fundus = sum(1 for where in sources if where.startswith("fundus"))
    _err(f"{len(registry)} outlets, {sum(1 for o in registry if o.feeds or o.sitemaps)} with a feed or sitemap; "
         f"{len(sources)} sources ({fundus} from fundus)")


@outlets_group.command("check")
@_OUTLETS_FILE
@click.option("--outlet", "names", multiple=True, help="Check only this outlet (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@pass_ctx
def outlets_check(c: Context, outlets_file: Path | None, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch each feed and sitemap once and say which work: HTTP status, items, newest item, stale (no new
    item in 14 days) and what to do.

    Fetching is as polite as an ingest's (robots.txt, per-host limits and delays, retries on transient
    errors only); a sitemap index is followed as an ingest follows it.
    """
    from corroborate.ingest.health import check_outlets, summary_counts
    from corroborate.ingest.outlets import load_outlets

    s = c.settings(outlets_file=outlets_file)
    registry = load_outlets(s.outlets_file)
    if names:
        known = {o.name for o in registry}
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError(f"no outlet named {', '.join(repr(n) for n in missing)} in the registry "
                              "(see `corroborate outlets list`)")
        registry = [o for o in registry if o.name in names]
    with progress("outlets checked") as tick:
        health = check_outlets(registry, s, progress=tick)
    rows = [h.to_row() for h in health]
    if as_json:
        for h, row in zip(health, rows, strict=True):
            click.echo(json_text({**row, "detail": h.detail}))
    elif rows:
        _print_rows(rows, ["outlet", "kind", "status", "items", "newest", "stale", "state", "action", "url"])
    counts = summary_counts(health)
    unlisted = [o.name for o in registry if not o.feeds and not o.sitemaps]
    _err(f"{len(health)} sources: " + (", ".join(f"{n} {state}" for state, n in counts.items()) or "none"))
    if unlisted:
        _err(f"{len(unlisted)} outlets have no feed or sitemap: {', '.join(unlisted)}")


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the documented settings table (for the README).")
@pass_ctx
def settings(c: Context, markdown: bool) -> None:
    """Show the effective settings (defaults < corroborate.toml < CORROBORATE_* env < flags)."""
    from corroborate.settings import settings_fields, settings_markdown

    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    from corroborate.corpus.dburl import redact_url

    s = c.settings()
    for key in settings_fields():
        value = getattr(s, key)
        if key == "store_url" and value:
            value = redact_url(value)
        shown = json.dumps(list(value)) if isinstance(value, tuple) else repr(value)  # languages = ["en"], as in TOML
        click.echo(f"{key} = {shown}")


# -- entry point ------------------------------------------------------------------------------------


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("CORROBORATE_DEBUG", "").lower() in {"1", "true", "yes", "on"}


def _known_problem(exc: BaseException) -> str | None:
    """A message for failures of the machine rather than of corroborate (a full disk), wherever they arise."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" (writing {exc.filename})" if exc.filename else ""
        return f"the disk is full{where}; free some space and run again"
    if type(exc).__module__ == "sqlite3" and "disk is full" in str(exc):
        return f"the disk holding the data folder is full ({exc}); free some space and run again"
    return None


def main(argv: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    debug = _debug_requested(args)
    try:
        # outside standalone mode click returns the code of a click.exceptions.Exit instead of raising it
        code = cli.main(args=args, prog_name="corroborate", standalone_mode=False)
    except click.exceptions.Abort:
        _err("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except CorroborateError as exc:
        if debug:
            raise
        _err(f"error: {exc}")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except interrupt.Interrupted as exc:  # SIGINT or SIGTERM of a command that stops cleanly: one line
        _err(str(exc))
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks for users
        if debug:
            raise
        known = _known_problem(exc)
        _err(
            f"error: {known}"
            if known
            else f"error: unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
            "(run with --debug for details)"
        )
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
