"""All settings in one frozen pydantic-settings model.

Precedence, lowest to highest: the defaults below < ``corroborate.toml`` < ``CORROBORATE_*``
environment variables < explicit overrides (CLI flags); :func:`load_settings` stacks the layers.
``corroborate.toml`` is read from the path given with ``--config`` / ``CORROBORATE_CONFIG``, else
``$CORROBORATE_HOME/corroborate.toml``, else ``./corroborate.toml``; a missing file is fine, a malformed one
is a :class:`ConfigError`. ``Settings(...)`` itself reads no file and no environment: it is the defaults
and what it is given, checked.

A file found on its own (the data folder's or the working folder's, not one named with ``--config``)
may not set what can run code or open the network to private addresses (:data:`EXPLICIT_ONLY`): such
a key is ignored with a one-line warning on stderr.

Each field is declared once, with its type, its accepted values (``ge``/``le``, a ``Literal`` or a
validator) and its help (``description``). A value pydantic refuses becomes one :class:`ConfigError` line
naming the setting and where its value came from. The README's configuration table is generated from the
fields (``corroborate settings --markdown``).
"""

from __future__ import annotations

import os
import sys
import tomllib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from corroborate.errors import ConfigError

ENV_PREFIX = "CORROBORATE_"


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "corroborate"


# -- what a TOML value, an environment variable or a flag may say, beyond what pydantic reads itself ------------
# A validator's ValueError is the whole message after "SOURCE: " (see _one_line).


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value  # env vars and flags cannot say None


def _blank_is_false(value: Any) -> Any:
    return False if isinstance(value, str) and not value.strip() else value


def _path(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str | Path):
        if not str(value).strip():  # Path("") would be ".": an empty home must be refused, not used
            raise ValueError(f"{info.field_name} is empty; give a path or leave it unset")
        return Path(value).expanduser()
    return value


def _words(value: Any, info: ValidationInfo) -> Any:
    items = value.split(",") if isinstance(value, str) else value  # comma-separated in env and flags
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"setting '{info.field_name}' must be a list of strings, got {_shown(value)}")
    return tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))


def _language_codes(codes: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    if not codes:
        raise ValueError(f"setting '{info.field_name}' must list at least one language (ISO 639-1), e.g. [\"en\"]")
    for code in codes:
        if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
            raise ValueError(f"setting '{info.field_name}' must hold ISO 639-1 codes (two lower-case letters), "
                             f"got {code!r}")
    return codes


def _header_line(text: str, info: ValidationInfo) -> str:
    if not text.strip() or not (text.isascii() and text.isprintable()):  # it is sent as an HTTP header
        raise ValueError(f"setting '{info.field_name}' must be one line of printable ASCII")
    return text


def _http_url(text: str, info: ValidationInfo) -> str:
    if urlsplit(text).scheme not in {"http", "https"} or not urlsplit(text).netloc:
        raise ValueError(f"setting '{info.field_name}' must be an http(s) URL, got {_shown(text)}")
    return text


def _postgres_url(text: str, info: ValidationInfo) -> str:
    if text:
        try:
            scheme = urlsplit(text).scheme
        except ValueError:
            scheme = "an unparseable"
        if scheme not in {"postgresql", "postgres"}:  # the value may hold a password: name its scheme only
            raise ValueError(f"setting '{info.field_name}' must be a postgresql:// URL or empty, "
                             f"got {scheme or 'no'} scheme")
    return text


Folder = Annotated[Path, BeforeValidator(_path)]
MaybePath = Annotated[Path | None, BeforeValidator(_path), BeforeValidator(_blank_is_none)]  # last runs first
MaybeInt = Annotated[int | None, BeforeValidator(_blank_is_none)]
Switch = Annotated[bool, BeforeValidator(_blank_is_false)]
Languages = Annotated[tuple[str, ...], BeforeValidator(_words), AfterValidator(_language_codes)]


class Settings(BaseSettings):
    """Every tunable of corroborate, with its documented default."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        coerce_numbers_to_str=True,  # `ingest_query = 2024` in TOML is the text "2024"
        hide_input_in_errors=True,  # store_url may hold a password
        validate_default=False,  # the defaults are in range (a test checks); a subclass may move them (tests do)
    )

    # where things live
    home: Folder = Field(default_factory=_default_home,
                         description="Data folder: store, index, Prefect home (CORROBORATE_HOME).")
    outlets_file: MaybePath = Field(None, description="Outlets registry (TOML), read alone; empty = the bundled "
                                    "outlets.toml merged with outlets-fundus.toml.")
    debug: Switch = Field(False, description="Show tracebacks instead of one-line errors.")
    store_url: Annotated[str, AfterValidator(_postgres_url)] = Field(
        "", repr=False,  # it may hold a password (corroborate.corpus.dburl.redact_url shows it)
        description="PostgreSQL store many hosts share (postgresql://user@host/db; password best in PGPASSWORD "
        "or ~/.pgpass); empty = the SQLite file in the data folder (docs/scaling.md).",
    )

    # fetching
    user_agent: Annotated[str, AfterValidator(_header_line)] = Field(
        "corroborate/0.1 (+https://github.com/corroborate/corroborate; news corroboration research bot)",
        description="User-Agent sent with every request.",
    )
    timeout_s: float = Field(20.0, ge=0.1, le=3600.0, description="Total timeout per request attempt, seconds.")
    connect_timeout_s: float = Field(5.0, ge=0.1, le=600.0, description="Connect timeout, seconds.")
    per_host_concurrency: int = Field(2, ge=1, le=64, description="Concurrent requests per host.")
    per_host_delay_s: float = Field(1.0, ge=0.0, le=3600.0,
                                    description="Minimum delay between request starts on one host, seconds.")
    total_concurrency: int = Field(16, ge=1, le=1024, description="Concurrent requests overall.")
    max_retries: int = Field(3, ge=0, le=20, description="Retries on transient errors (connect/read errors, 429, 5xx).")
    backoff_base_s: float = Field(0.5, ge=0.0, le=600.0,
                                  description="First backoff delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(30.0, ge=0.0, le=3600.0,
                                 description="Longest backoff or Retry-After honoured, seconds.")
    max_bytes: int = Field(5_000_000, ge=1_000, le=1_000_000_000, description="Largest response body accepted, bytes.")
    max_redirects: int = Field(5, ge=0, le=30, description="Redirects followed per request.")
    allow_private: Switch = Field(
        False, description="Allow private and loopback addresses (tests, demo); never link-local or metadata."
    )
    respect_robots: Switch = Field(True, description="Honour robots.txt.")

    # discovery
    gdelt_url: Annotated[str, AfterValidator(_http_url)] = Field("https://api.gdeltproject.org/api/v2/doc/doc",
                                                                 description="GDELT DOC 2.0 API endpoint.")
    gdelt_interval_s: float = Field(5.0, ge=0.0, le=3600.0,
                                    description="Minimum seconds between GDELT requests (its limit is 1 per 5 s).")
    gdelt_max_records: int = Field(75, ge=1, le=250, description="Articles asked of GDELT per query (max 250).")
    max_items_per_source: int = Field(200, ge=1, le=1_000_000, description="Candidate URLs kept per feed or sitemap.")
    languages: Languages = Field(
        ("en",),
        description="Languages ingested and read (ISO 639-1; env: comma-separated): outlets whose registry language "
        "is not listed are not fetched; documents in another language are stored with it but never embedded or "
        "judged. A listed language no embedder and judge read yet is fetched and stored unread "
        "(corroborate/languages.py).",
    )

    # extraction and dedup
    min_text_chars: int = Field(200, ge=0, le=1_000_000,
                                description="Pages with less extracted text are skipped as not articles.")
    minhash_permutations: int = Field(128, ge=16, le=1024,
                                      description="MinHash permutations for near-duplicate detection.")
    near_duplicate_threshold: float = Field(
        0.7, ge=0.0, le=1.0, description="Jaccard similarity above which two texts are one syndicated origin."
    )
    copy_containment: float = Field(
        0.5, ge=0.01, le=1.0,
        description="Share of the shorter text's word 5-grams found in the longer from which one text is a copy or "
        "excerpt of the other: the article's copies are not evidence, evidence copies are one voice "
        "(docs/evaluation.md).",
    )
    rewrite_containment: float = Field(
        0.15, ge=0.01, le=1.0,
        description="Share of the shorter text's word 8-grams outside quotations found in the longer from which two "
        "documents published within rewrite_window_days are one rewritten origin, across domains "
        "(docs/evaluation.md).",
    )
    rewrite_window_days: int = Field(
        3, ge=0, le=36_500, description="Days apart within which documents sharing long passages are one origin."
    )

    # passages, embeddings, index
    passage_sentences: int = Field(3, ge=1, le=100, description="Sentences per passage window.")
    passage_overlap: int = Field(1, ge=0, le=99, validate_default=True,  # checked against passage_sentences
                                 description="Sentences shared by consecutive windows.")
    max_passage_chars: int = Field(1200, ge=50, le=100_000, description="Longest passage, characters.")
    # 8, not 64: MiniLM embeds the loopback site's passages 1.8x faster on 2 CPU cores (benchmarks/embed_batch.py;
    # a batch of 64 long passages makes attention matrices of ~200 MB that no cache holds); raise it on a GPU
    embed_batch_size: int = Field(8, ge=1, le=4096, description="Passages embedded per batch.")
    flat_index_max: int = Field(200_000, ge=0, le=10**10,
                                description="Up to this many passages the index is exact (flat); above it HNSW.")
    hnsw_m: int = Field(32, ge=2, le=256, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(128, ge=1, le=100_000, description="HNSW search breadth.")
    ivf_index_min: int = Field(500_000, ge=1, le=10**10,
                               description="From this many passages the index is IVF with int8 codes (less memory).")
    ivf_nlist: int = Field(512, ge=1, le=1_000_000,
                           description="IVF lists (clusters); fewer are trained when there are few vectors.")
    ivf_nprobe: int = Field(64, ge=1, le=1_000_000, description="IVF lists searched per query (recall vs speed).")

    # retrieval
    dense_k: int = Field(50, ge=1, le=10_000, description="Passages taken from the vector index per claim.")
    keyword_k: int = Field(50, ge=1, le=10_000, description="Passages taken from full-text (BM25) search per claim.")
    rrf_k: int = Field(60, ge=0, le=10_000, description="Reciprocal-rank-fusion constant.")
    max_documents: int = Field(10, ge=1, le=1_000, description="Evidence documents judged per claim.")
    min_similarity: float = Field(0.35, ge=0.0, le=1.0,
                                  description="Cosine similarity below which a passage is not evidence.")
    window_days: MaybeInt = Field(
        None, ge=0, le=36_500,
        description="Only evidence published within this many days of the article (empty = any).",
    )

    # stance and verdict
    judge_model: MaybePath = Field(None, description="Folder of a retrained sentence judge (python -m "
                                   "corroborate.train_judge --out DIR); empty = bundled.")
    judge_sentences: int = Field(
        2, ge=1, le=20, description="Evidence sentences per document the judge reads for each atom (closest first)."
    )
    judge_any_language: Switch = Field(
        False,
        description="Judge claims written in a script without spaces (Chinese, Japanese, Thai, ...) with the English "
        "judge anyway (unreliable); off, such a claim is refused with its language named.",
    )
    judge_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Arithmetic of the sentence judge: 'bfloat16' (about 1.6x faster where the CPU has native "
        "bfloat16, calls 99.9 % the same), 'float32', or 'auto' (bfloat16 only where native).",
    )
    stance_min_confidence: float = Field(0.45, ge=0.0, le=1.0,
                                         description="A stance below this probability does not count as a voice.")
    stance_high_confidence: float = Field(
        0.7, ge=0.0, le=1.0, description="When every voice is at least this confident, voices count unweighted."
    )
    min_voices_corroborated: int = Field(2, ge=1, le=1_000,
                                         description="Independent agreeing voices needed for 'corroborated'.")
    min_voices_contradicted: int = Field(1, ge=1, le=1_000,
                                         description="Independent disagreeing voices needed for 'contradicted'.")

    # operations
    ingest_interval_minutes: int = Field(30, ge=1, le=525_600,
                                         description="Interval of the scheduled ingest-outlets deployment.")
    ingest_query_cron: str = Field("0 */6 * * *", description="Cron of the scheduled ingest-query deployment.")
    ingest_query: str = Field("", description="GDELT query of the scheduled ingest-query deployment.")
    task_runner: Literal["thread", "dask"] = Field("thread", description="Prefect task runner: 'thread' or 'dask'.")
    dask_address: str = Field("", description="Dask scheduler to join; empty = a LocalCluster.")
    checker_daemon: Switch = Field(
        True,
        description="`check` and `article` start a background warm checker for the data folder on first use when none "
        "answers (the models stay loaded: later checks take about a second); `--no-daemon` turns it off for one "
        "command.",
    )
    checker_idle_minutes: float = Field(
        15.0, ge=0.05, le=10_080.0,
        description="Minutes the background warm checker waits for the next check, then exits.",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _true_is_not_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name in RANGES:  # pydantic would read `window_days = true` as 1
            kind = "int" if _is_int(info.field_name) else "float"
            raise ValueError(f"setting '{info.field_name}' must be {kind}, got {value!r}")
        return value

    @field_validator("passage_overlap")
    @classmethod
    def _windows_move_on(cls, overlap: int, info: ValidationInfo) -> int:
        if overlap >= info.data.get("passage_sentences", overlap + 1):  # absent: refused on its own already
            raise ValueError("setting 'passage_overlap' must be smaller than 'passage_sentences'")
        return overlap

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings(...) is what it is given; the file and environment layers are load_settings' (it knows
        # which of them may set what, and names where a refused value came from).
        return (init_settings,)

    def __setattr__(self, name: str, value: Any) -> None:
        # an AttributeError, as from a frozen dataclass (pydantic's own is a ValidationError)
        raise AttributeError(f"settings are frozen: use .replace({name}=...)")

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
        """A copy with ``changes``, checked as the constructor checks them."""
        return type(self)(**{**self.__dict__, **changes})


def settings_fields() -> dict[str, FieldInfo]:
    """Every setting's declaration by name, in the order of the table in the docs."""
    return dict(Settings.model_fields)


def _bounds(info: FieldInfo) -> tuple[float, float] | None:
    lo = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
    hi = next((m.le for m in info.metadata if hasattr(m, "le")), None)
    return None if lo is None or hi is None else (lo, hi)


# Accepted values, inclusive, of every number: read from the fields' ge/le.
RANGES: dict[str, tuple[float, float]] = {
    name: bounds for name, info in Settings.model_fields.items() if (bounds := _bounds(info))
}


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


_warned: set[tuple[str, str]] = set()


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def load_settings(
    overrides: dict[str, Any] | None = None,
    *,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Build :class:`Settings`: defaults < corroborate.toml < CORROBORATE_* env < ``overrides``.

    ``overrides`` holds values given on the command line; ``None`` values are ignored so
    unset flags do not mask lower layers. ``warn`` receives the one-line warning for each key a
    discovered config file may not set (default: printed once per file and key on stderr).
    """
    env = os.environ if environ is None else environ
    names = Settings.model_fields
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in flags:
        if key not in names:
            raise ConfigError(f"unknown setting '{key}'")
    from_env = {name: env[_env_name(name)] for name in names if _env_name(name) in env}

    # home decides where the default config lives, so it is checked first
    if "home" in flags:
        home = _checked({"home": flags["home"]}, {"home": _flag("home")}).home
    elif "home" in from_env:
        home = _checked({"home": from_env["home"]}, {"home": _env_name("home")}).home
    else:
        home = _default_home()

    named = config or env.get(ENV_PREFIX + "CONFIG")
    candidates = [Path(named).expanduser()] if named else [home / "corroborate.toml", Path("corroborate.toml")]
    if named and not candidates[0].is_file():
        raise ConfigError(f"config file {candidates[0]} does not exist")
    path = next((p for p in candidates if p.is_file()), None)
    from_file = _file_values(path, discovered=not named, warn=warn) if path else {}

    sources = {key: f"config {path}" for key in from_file}
    sources |= {key: _env_name(key) for key in from_env}
    sources |= {key: _flag(key) for key in flags}
    return _checked({"home": home, **from_file, **from_env, **flags}, sources)


def _file_values(path: Path, *, discovered: bool, warn: Callable[[str], None] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in _read_toml(path).items():
        if key in RETIRED:
            (warn or _warn_stderr)(
                f"warning: config {path}: '{key}' is retired (the sentence judge replaced the "
                "stance model and its quote rules); ignored"
            )
        elif key not in Settings.model_fields:
            raise ConfigError(f"config {path}: unknown setting '{key}'")
        elif discovered and explicit_only(key):
            _ignored(path, key, warn)
        else:
            values[key] = raw
    return values


def _checked(values: dict[str, Any], sources: Mapping[str, str]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc.errors()[0], sources)) from None


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


# pydantic's error types that say a value is not of the field's type, by their first word
_TYPE_NAMES = {"int": "int", "float": "float", "bool": "bool", "string": "str", "path": "Path"}


def _one_line(error: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """Pydantic's first error as one line: where the value came from, the setting, what is wrong."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    source = sources.get(name, "default")
    kind, value = error["type"], error.get("input")
    if kind == "value_error":  # one of the validators above, which word the whole message
        return f"{source}: {error['ctx']['error']}"
    expected = _TYPE_NAMES.get(kind.split("_")[0])
    if kind == "finite_number" and _is_int(name):  # 1e400 in TOML is inf: not an int
        expected = "int"
    if expected:
        problem = f"must be {expected}, got {_shown(value)}"
    elif kind == "finite_number":
        problem = f"must be a finite number, got {_number(name, value)}"
    elif kind in {"greater_than_equal", "less_than_equal"}:
        lo, hi = RANGES[name]
        problem = f"must be between {_num(lo)} and {_num(hi)}, got {_number(name, value)}"
    elif kind == "literal_error":
        problem = f"must be {error['ctx']['expected']}, got {_shown(value)}"
    else:
        problem = str(error["msg"]).replace("\n", " ")
    return f"{source}: setting '{name}' {problem}"


def _is_int(name: str) -> bool:
    hint = Settings.model_fields[name].annotation if name in Settings.model_fields else None
    return hint is int or int in typing.get_args(hint)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(name: str, value: Any) -> str:
    """A number as read: an environment variable's "0" for a float setting is 0.0."""
    try:
        return repr(int(value) if _is_int(name) else float(value))
    except (TypeError, ValueError, OverflowError):
        return _shown(value)


def _num(x: float) -> str:
    return f"{x:,}".replace(",", "_") if isinstance(x, int) else repr(x)


_ACCEPTED = {
    "home": "a folder path, not empty",
    "outlets_file": "a file path or empty",
    "judge_model": "a folder or empty",
    "user_agent": "one line of printable ASCII",
    "gdelt_url": "an http(s) URL",
    "dask_address": "an address or empty",
    "languages": "ISO 639-1 codes",
    "store_url": "a postgresql:// URL or empty",
}


def _accepted(name: str, info: FieldInfo) -> str:
    if name in RANGES:
        return f"{_num(RANGES[name][0])} – {_num(RANGES[name][1])}"
    if typing.get_origin(info.annotation) is Literal:
        return ", ".join(f"`{value}`" for value in typing.get_args(info.annotation))
    return _ACCEPTED.get(name) or ("true / false" if info.annotation is bool else "any text")


def settings_markdown() -> str:
    """The README configuration table, generated from the fields."""
    rows = ["| setting | env | default | accepted | meaning |", "|---|---|---|---|---|"]
    for name, info in settings_fields().items():
        if name == "home":
            default = "`~/.local/share/corroborate`"
        elif isinstance(info.default, tuple):  # as a TOML array
            default = "`[" + ", ".join(f'"{x}"' for x in info.default) + "]`"
        else:
            default = f"`{info.default!r}`" if info.default not in (None, "") else "(empty)"
        accepted = _accepted(name, info)
        if explicit_only(name):
            accepted += "; not from a discovered config file"
        rows.append(f"| `{name}` | `{_env_name(name)}` | {default} | {accepted} | {info.description or ''} |")
    return "\n".join(rows) + "\n"
