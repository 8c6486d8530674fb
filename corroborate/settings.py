"""All settings in one frozen dataclass.

Precedence, lowest to highest: the defaults below < ``corroborate.toml`` < ``CORROBORATE_*``
environment variables < explicit overrides (CLI flags). ``corroborate.toml`` is read from the
path given with ``--config`` / ``CORROBORATE_CONFIG``, else ``$CORROBORATE_HOME/corroborate.toml``,
else ``./corroborate.toml``; a missing file is fine, a malformed one is a :class:`ConfigError`.

A file found on its own (the data folder's or the working folder's, not one named with ``--config``)
may not set what can run code or open the network to private addresses (:data:`EXPLICIT_ONLY`): such
a key is ignored with a one-line warning on stderr. Every number has a range (:data:`RANGES`), checked
at load with an error naming the setting and where its value came from.

Each field's ``metadata["doc"]`` documents it; the README's configuration table is generated
from these (``corroborate settings --markdown``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corroborate.errors import ConfigError

ENV_PREFIX = "CORROBORATE_"


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "corroborate"


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every tunable of corroborate, with its documented default."""

    # where things live
    home: Path = field(
        default_factory=_default_home, metadata={"doc": "Data folder: store, index, Prefect home (CORROBORATE_HOME)."}
    )
    outlets_file: Path | None = _f(
        None, "Outlets registry (TOML), read alone; empty = the bundled outlets.toml merged with outlets-fundus.toml."
    )
    debug: bool = _f(False, "Show tracebacks instead of one-line errors.")
    store_url: str = field(  # repr=False: it may hold a password (corroborate.corpus.dburl.redact_url shows it)
        default="",
        repr=False,
        metadata={"doc": "PostgreSQL store many hosts share (postgresql://user@host/db; password best in PGPASSWORD "
                  "or ~/.pgpass); empty = the SQLite file in the data folder (docs/scaling.md)."},
    )

    # fetching
    user_agent: str = _f(
        "corroborate/0.1 (+https://github.com/corroborate/corroborate; news corroboration research bot)",
        "User-Agent sent with every request.",
    )
    timeout_s: float = _f(20.0, "Total timeout per request attempt, seconds.")
    connect_timeout_s: float = _f(5.0, "Connect timeout, seconds.")
    per_host_concurrency: int = _f(2, "Concurrent requests per host.")
    per_host_delay_s: float = _f(1.0, "Minimum delay between request starts on one host, seconds.")
    total_concurrency: int = _f(16, "Concurrent requests overall.")
    max_retries: int = _f(3, "Retries on transient errors (connect/read errors, 429, 5xx).")
    backoff_base_s: float = _f(0.5, "First backoff delay; doubles each retry, with jitter.")
    backoff_max_s: float = _f(30.0, "Longest backoff or Retry-After honoured, seconds.")
    max_bytes: int = _f(5_000_000, "Largest response body accepted, bytes.")
    max_redirects: int = _f(5, "Redirects followed per request.")
    allow_private: bool = _f(False, "Allow private and loopback addresses (tests, demo); never link-local or metadata.")
    respect_robots: bool = _f(True, "Honour robots.txt.")

    # discovery
    gdelt_url: str = _f("https://api.gdeltproject.org/api/v2/doc/doc", "GDELT DOC 2.0 API endpoint.")
    gdelt_interval_s: float = _f(5.0, "Minimum seconds between GDELT requests (its limit is 1 per 5 s).")
    gdelt_max_records: int = _f(75, "Articles asked of GDELT per query (max 250).")
    max_items_per_source: int = _f(200, "Candidate URLs kept per feed or sitemap.")
    languages: tuple[str, ...] = _f(
        ("en",),
        "Languages ingested and read (ISO 639-1; env: comma-separated): outlets whose registry language is not "
        "listed are not fetched; documents in another language are stored with it but never embedded or judged. "
        "A listed language no embedder and judge read yet is fetched and stored unread (corroborate/languages.py).",
    )

    # extraction and dedup
    min_text_chars: int = _f(200, "Pages with less extracted text are skipped as not articles.")
    minhash_permutations: int = _f(128, "MinHash permutations for near-duplicate detection.")
    near_duplicate_threshold: float = _f(0.7, "Jaccard similarity above which two texts are one syndicated origin.")
    copy_containment: float = _f(
        0.5,
        "Share of the shorter text's word 5-grams found in the longer from which one text is a copy or excerpt of "
        "the other: the article's copies are not evidence, evidence copies are one voice (docs/evaluation.md).",
    )
    rewrite_containment: float = _f(
        0.15,
        "Share of the shorter text's word 8-grams outside quotations found in the longer from which two documents "
        "published within rewrite_window_days are one rewritten origin, across domains (docs/evaluation.md).",
    )
    rewrite_window_days: int = _f(3, "Days apart within which documents sharing long passages are one origin.")

    # passages, embeddings, index
    passage_sentences: int = _f(3, "Sentences per passage window.")
    passage_overlap: int = _f(1, "Sentences shared by consecutive windows.")
    max_passage_chars: int = _f(1200, "Longest passage, characters.")
    embed_batch_size: int = _f(64, "Passages embedded per batch.")
    flat_index_max: int = _f(200_000, "Up to this many passages the index is exact (flat); above it HNSW.")
    hnsw_m: int = _f(32, "HNSW graph degree.")
    hnsw_ef_search: int = _f(128, "HNSW search breadth.")
    ivf_index_min: int = _f(500_000, "From this many passages the index is IVF with int8 codes (less memory).")
    ivf_nlist: int = _f(512, "IVF lists (clusters); fewer are trained when there are few vectors.")
    ivf_nprobe: int = _f(64, "IVF lists searched per query (recall vs speed).")

    # retrieval
    dense_k: int = _f(50, "Passages taken from the vector index per claim.")
    keyword_k: int = _f(50, "Passages taken from full-text (BM25) search per claim.")
    rrf_k: int = _f(60, "Reciprocal-rank-fusion constant.")
    max_documents: int = _f(10, "Evidence documents judged per claim.")
    min_similarity: float = _f(0.35, "Cosine similarity below which a passage is not evidence.")
    window_days: int | None = _f(None, "Only evidence published within this many days of the article (empty = any).")

    # stance and verdict
    judge_model: Path | None = _f(
        None, "Folder of a retrained sentence judge (python -m corroborate.train_judge --out DIR); empty = bundled."
    )
    judge_sentences: int = _f(2, "Evidence sentences per document the judge reads for each atom (closest first).")
    judge_any_language: bool = _f(
        False, "Judge claims written in a script without spaces (Chinese, Japanese, Thai, ...) with the English "
        "judge anyway (unreliable); off, such a claim is refused with its language named.",
    )
    judge_precision: str = _f(
        "auto", "Arithmetic of the sentence judge: 'bfloat16' (about 1.6x faster where the CPU has native bfloat16, "
        "calls 99.9 % the same), 'float32', or 'auto' (bfloat16 only where native)."
    )
    stance_min_confidence: float = _f(0.45, "A stance below this probability does not count as a voice.")
    stance_high_confidence: float = _f(0.7, "When every voice is at least this confident, voices count unweighted.")
    min_voices_corroborated: int = _f(2, "Independent agreeing voices needed for 'corroborated'.")
    min_voices_contradicted: int = _f(1, "Independent disagreeing voices needed for 'contradicted'.")

    # operations
    ingest_interval_minutes: int = _f(30, "Interval of the scheduled ingest-outlets deployment.")
    ingest_query_cron: str = _f("0 */6 * * *", "Cron of the scheduled ingest-query deployment.")
    ingest_query: str = _f("", "GDELT query of the scheduled ingest-query deployment.")
    task_runner: str = _f("thread", "Prefect task runner: 'thread' or 'dask'.")
    dask_address: str = _f("", "Dask scheduler to join; empty = a LocalCluster.")
    checker_daemon: bool = _f(
        True, "`check` and `article` start a background warm checker for the data folder on first use when none "
        "answers (the models stay loaded: later checks take about a second); `--no-daemon` turns it off for one "
        "command.",
    )
    checker_idle_minutes: float = _f(15.0, "Minutes the background warm checker waits for the next check, then exits.")

    @property
    def store_path(self) -> Path:
        return self.home / "corroborate.db"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def prefect_home(self) -> Path:
        return self.home / ".prefect"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def settings_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(Settings))


_HINTS: dict[str, Any] | None = None


def _hints() -> dict[str, Any]:
    global _HINTS
    if _HINTS is None:
        _HINTS = typing.get_type_hints(Settings)
    return _HINTS


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a TOML/env/CLI value into the field's type, or raise a one-line ConfigError."""
    hint = _hints()[name]
    optional = False
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        optional = type(None) in args
        hint = next(a for a in args if a is not type(None))
    if optional and (value is None or (isinstance(value, str) and value.strip() == "")):
        return None
    if typing.get_origin(hint) is tuple:  # a list of words: a TOML array, or comma-separated in env and flags
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{source}: setting '{name}' must be a list of strings, got {value!r}"[:200])
        return tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    if hint is Path and str(value).strip() == "":
        raise ConfigError(f"{source}: {name} is empty; give a path or leave it unset")
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if hint is Path:
            return Path(str(value)).expanduser()
        if hint is str:
            if not isinstance(value, (str, int, float)):
                raise ValueError(value)
            return str(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ConfigError(f"{source}: setting '{name}' must be {hint.__name__}, got {shown}") from None
    raise ConfigError(f"{source}: setting '{name}' has an unsupported type")  # pragma: no cover


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    # allow an optional [corroborate] table
    section = data.get("corroborate", data)
    if not isinstance(section, dict):
        raise ConfigError(f"config {path}: [corroborate] must be a table")
    return section


# Keys a config file found on its own may not set: they load code (a pickled model, a Dask scheduler
# whose replies are unpickled) or open the network to private addresses. Any other *_model path is
# treated the same, so a model setting added later is covered.
EXPLICIT_ONLY = frozenset({"judge_model", "allow_private", "dask_address"})
# Settings of the retired document-level stance path: a config file that still sets them loads, with a warning.
RETIRED = frozenset({"stance_model", "min_quote_similarity", "paraphrase_similarity"})


def explicit_only(name: str) -> bool:
    """Whether ``name`` is honoured only from ``--config``, CORROBORATE_* env or a flag."""
    return name in EXPLICIT_ONLY or name.endswith("_model")


# Accepted values, inclusive, of every number (checked at load; Settings() itself trusts its caller).
RANGES: dict[str, tuple[float, float]] = {
    "timeout_s": (0.1, 3600.0),
    "connect_timeout_s": (0.1, 600.0),
    "per_host_concurrency": (1, 64),
    "per_host_delay_s": (0.0, 3600.0),
    "total_concurrency": (1, 1024),
    "max_retries": (0, 20),
    "backoff_base_s": (0.0, 600.0),
    "backoff_max_s": (0.0, 3600.0),
    "max_bytes": (1_000, 1_000_000_000),
    "max_redirects": (0, 30),
    "gdelt_interval_s": (0.0, 3600.0),
    "gdelt_max_records": (1, 250),
    "max_items_per_source": (1, 1_000_000),
    "min_text_chars": (0, 1_000_000),
    "minhash_permutations": (16, 1024),
    "near_duplicate_threshold": (0.0, 1.0),
    "copy_containment": (0.01, 1.0),
    "rewrite_containment": (0.01, 1.0),
    "rewrite_window_days": (0, 36_500),
    "passage_sentences": (1, 100),
    "passage_overlap": (0, 99),
    "max_passage_chars": (50, 100_000),
    "embed_batch_size": (1, 4096),
    "flat_index_max": (0, 10**10),
    "hnsw_m": (2, 256),
    "hnsw_ef_search": (1, 100_000),
    "ivf_index_min": (1, 10**10),
    "ivf_nlist": (1, 1_000_000),
    "ivf_nprobe": (1, 1_000_000),
    "dense_k": (1, 10_000),
    "keyword_k": (1, 10_000),
    "rrf_k": (0, 10_000),
    "max_documents": (1, 1_000),
    "min_similarity": (0.0, 1.0),
    "window_days": (0, 36_500),
    "stance_min_confidence": (0.0, 1.0),
    "judge_sentences": (1, 20),
    "stance_high_confidence": (0.0, 1.0),
    "min_voices_corroborated": (1, 1_000),
    "min_voices_contradicted": (1, 1_000),
    "ingest_interval_minutes": (1, 525_600),
    "checker_idle_minutes": (0.05, 10_080.0),
}

_warned: set[tuple[str, str]] = set()


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_settings(
    overrides: dict[str, Any] | None = None,
    *,
    config: Path | None = None,
    environ: typing.Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Build :class:`Settings`: defaults < corroborate.toml < CORROBORATE_* env < ``overrides``.

    ``overrides`` holds values given on the command line; ``None`` values are ignored so
    unset flags do not mask lower layers. ``warn`` receives the one-line warning for each key a
    discovered config file may not set (default: printed once per file and key on stderr).
    """
    env = os.environ if environ is None else environ
    names = {f.name for f in settings_fields()}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in given:
        if key not in names:
            raise ConfigError(f"unknown setting '{key}'")

    # home decides where the default config lives, so resolve it first
    if "home" in given:
        home = _coerce("home", given["home"], "--home")
    elif ENV_PREFIX + "HOME" in env:
        home = _coerce("home", env[ENV_PREFIX + "HOME"], ENV_PREFIX + "HOME")
    else:
        home = _default_home()

    cfg_raw = config or env.get(ENV_PREFIX + "CONFIG")
    candidates = [Path(cfg_raw).expanduser()] if cfg_raw else [home / "corroborate.toml", Path("corroborate.toml")]
    if cfg_raw and not candidates[0].is_file():
        raise ConfigError(f"config file {candidates[0]} does not exist")
    for path in candidates:
        if path.is_file():
            for key, raw in _read_toml(path).items():
                if key in RETIRED:
                    (warn or _warn_stderr)(
                        f"warning: config {path}: '{key}' is retired (the sentence judge replaced the "
                        "stance model and its quote rules); ignored"
                    )
                    continue
                if key not in names:
                    raise ConfigError(f"config {path}: unknown setting '{key}'")
                if not cfg_raw and explicit_only(key):
                    _ignored(path, key, warn)
                    continue
                values[key] = _coerce(key, raw, f"config {path}")
                sources[key] = f"config {path}"
            break

    for name in names:
        raw_env = env.get(ENV_PREFIX + name.upper())
        if raw_env is not None:
            values[name] = _coerce(name, raw_env, ENV_PREFIX + name.upper())
            sources[name] = ENV_PREFIX + name.upper()

    for key, raw in given.items():
        flag = f"--{key.replace('_', '-')}"
        values[key] = _coerce(key, raw, flag)
        sources[key] = flag

    values.setdefault("home", home)
    settings = Settings(**values)
    _validate(settings, sources)
    return settings


def _ignored(path: Path, key: str, warn: Callable[[str], None] | None) -> None:
    message = (
        f"warning: ignoring '{key}' in {path}: a config file found on its own may not set it; "
        f"use --config FILE, {ENV_PREFIX}{key.upper()} or a flag"
    )
    if warn is not None:
        warn(message)
    elif (str(path), key) not in _warned:
        _warned.add((str(path), key))
        _warn_stderr(message)


def _validate(s: Settings, sources: typing.Mapping[str, str] | None = None) -> None:
    """Raise a one-line ConfigError for the first value out of its range, naming where it came from."""
    where = sources or {}

    def fail(name: str, problem: str) -> typing.NoReturn:
        source = where.get(name, "default")
        raise ConfigError(f"{source}: setting '{name}' {problem}")

    for name, (lo, hi) in RANGES.items():
        value = getattr(s, name)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            fail(name, f"must be a finite number, got {value!r}")
        if not lo <= value <= hi:
            fail(name, f"must be between {_num(lo)} and {_num(hi)}, got {value!r}")
    if s.passage_overlap >= s.passage_sentences:
        fail("passage_overlap", "must be smaller than 'passage_sentences'")
    if s.judge_precision not in {"auto", "float32", "bfloat16"}:
        fail("judge_precision", f"must be 'auto', 'float32' or 'bfloat16', got {s.judge_precision!r}")
    if s.task_runner not in {"thread", "dask"}:
        fail("task_runner", f"must be 'thread' or 'dask', got {s.task_runner!r}")
    if not s.languages:
        fail("languages", "must list at least one language (ISO 639-1), e.g. [\"en\"]")
    for code in s.languages:
        if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
            fail("languages", f"must hold ISO 639-1 codes (two lower-case letters), got {code!r}")
    if not s.user_agent.strip() or not (s.user_agent.isascii() and s.user_agent.isprintable()):
        fail("user_agent", "must be one line of printable ASCII")
    if urlsplit(s.gdelt_url).scheme not in {"http", "https"} or not urlsplit(s.gdelt_url).netloc:
        fail("gdelt_url", f"must be an http(s) URL, got {s.gdelt_url!r}")
    if s.store_url:
        try:
            scheme = urlsplit(s.store_url).scheme
        except ValueError:
            scheme = "an unparseable"
        if scheme not in {"postgresql", "postgres"}:  # the value may hold a password: name its scheme only
            fail("store_url", f"must be a postgresql:// URL or empty, got {scheme or 'no'} scheme")


def _num(x: float) -> str:
    return f"{x:,}".replace(",", "_") if isinstance(x, int) else repr(x)


_ACCEPTED = {
    "home": "a folder path, not empty",
    "outlets_file": "a file path or empty",
    "judge_model": "a folder or empty",
    "user_agent": "one line of printable ASCII",
    "gdelt_url": "an http(s) URL",
    "task_runner": "`thread`, `dask`",
    "judge_precision": "`auto`, `float32`, `bfloat16`",
    "dask_address": "an address or empty",
    "languages": "ISO 639-1 codes",
    "store_url": "a postgresql:// URL or empty",
}


def settings_markdown() -> str:
    """The README configuration table, generated from the dataclass."""
    rows = ["| setting | env | default | accepted | meaning |", "|---|---|---|---|---|"]
    for f in settings_fields():
        if f.name == "home":
            default = "`~/.local/share/corroborate`"
        else:
            default = f"`{f.default!r}`" if f.default not in (None, "") else "(empty)"
            if isinstance(f.default, tuple):  # as a TOML array
                default = "`[" + ", ".join(f'"{x}"' for x in f.default) + "]`"
        if f.name in RANGES:
            accepted = f"{_num(RANGES[f.name][0])} – {_num(RANGES[f.name][1])}"
        else:
            accepted = _ACCEPTED.get(f.name) or ("true / false" if isinstance(f.default, bool) else "any text")
        if explicit_only(f.name):
            accepted += "; not from a discovered config file"
        doc = f.metadata.get("doc", "")
        rows.append(f"| `{f.name}` | `{ENV_PREFIX}{f.name.upper()}` | {default} | {accepted} | {doc} |")
    return "\n".join(rows) + "\n"
