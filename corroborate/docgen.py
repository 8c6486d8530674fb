"""Generate the reference docs from the code, so they never drift (checked by tests/test_docs.py).

``python -m corroborate.docgen`` rewrites docs/cli.md (from every command's ``--help``) and
docs/configuration.md (from the Settings dataclass); ``--check`` only reports whether they are current.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from corroborate.settings import settings_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(click.Context(command))):
            sub = command.get_command(click.Context(command), name)
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


EXIT_CODES = [
    "Exit codes, for every command:",
    "",
    "| code | meaning |",
    "|---:|---|",
    "| 0 | done |",
    "| 1 | an error, said in one line on stderr (`--debug` shows the traceback); `index status`: the index is "
    "not usable as it is |",
    "| 2 | a usage error (an unknown option, a missing argument) |",
    "| 3 | a batch was done, but some of its rows were refused, each with its reason: `check --file` (a "
    "status-less record with `problem`, or a marked row) and `stance` (an empty stance and a `problem` "
    "column) |",
    "| 128 + N | stopped by signal N after a clean stop: 130 for Ctrl-C (SIGINT), 143 for SIGTERM (`ingest` "
    "keeps what it fetched and marks its run `interrupted`) |",
    "",
]


def cli_markdown() -> str:
    from corroborate.cli import cli

    out = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python -m corroborate.docgen`; do not edit.",
        "",
        *EXIT_CODES,
    ]
    for path, command in _walk(cli, ["corroborate"]):
        ctx = click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=cli.context_settings.get("help_option_names", ["--help"]),
        )
        out += [f"## {' '.join(path)}", "", "```text", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(out)


def configuration_markdown() -> str:
    return "\n".join(
        [
            "# Configuration",
            "",
            "Settings come from one frozen pydantic-settings model, `corroborate.settings.Settings`. Each layer",
            "overrides the one before it: the defaults below < `corroborate.toml` (given with `--config`/",
            "`CORROBORATE_CONFIG`, else `$CORROBORATE_HOME/corroborate.toml`, else `./corroborate.toml`; a",
            "`[corroborate]` table or top-level keys) < `CORROBORATE_*` environment variables < command-line flags.",
            "",
            "```toml",
            "# corroborate.toml",
            "per_host_delay_s = 2.0",
            "window_days = 30",
            "```",
            "",
            "## What a discovered config file may not set",
            "",
            "A `corroborate.toml` that corroborate finds on its own (in the data folder or the working folder)",
            "could have come with a download, so it may not set what runs code, swaps a model or opens the network:",
            "the judge model folder (`judge_model`, or any other `*_model` path: a swapped model changes every",
            "verdict, and older model files were pickles, which run code when loaded),",
            "`dask_address` (a Dask scheduler's replies are unpickled) and `allow_private` (fetching private and",
            "loopback addresses). Such a key is ignored with a one-line warning on stderr naming it. These keys",
            "are honoured from a file named with `--config FILE` or `CORROBORATE_CONFIG`, from `CORROBORATE_*`",
            "environment variables and from command-line flags.",
            "",
            "A model file named this way is loaded only when it is a regular file owned by the user running",
            "corroborate and not writable by group or others; otherwise the command stops with a one-line error.",
            "",
            "## Accepted values",
            "",
            "Every value is checked when settings load: numbers must be finite and within the range below, `home`",
            "may not be empty (`CORROBORATE_HOME=` or `--home \"\"` is an error, not the working folder). An error",
            "names the setting and where its value came from (the file, the environment variable or the flag).",
            "",
            "Generated from the model's fields by `python -m corroborate.docgen`; do not edit.",
            "",
            settings_markdown(),
        ]
    )


README = DOCS.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def readme_with_settings() -> str:
    """README.md with the settings table between its markers replaced by the generated one."""
    text = README.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{settings_markdown()}{END}{tail}"


def expected() -> dict[Path, str]:
    return {
        DOCS / "cli.md": cli_markdown(),
        DOCS / "configuration.md": configuration_markdown(),
        README: readme_with_settings(),
    }


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for path, text in expected().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if check else 'wrote'}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
