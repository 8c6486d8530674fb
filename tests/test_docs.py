"""Docs never drift: generated references are current, and the examples in docs/ run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from corroborate import docgen
from corroborate.cli import cli
from corroborate.report import report_schema
from corroborate.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_generated_references_are_current() -> None:
    for path, text in docgen.expected().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python -m corroborate.docgen"


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_configuration_example_loads(tmp_path: Path) -> None:
    (example,) = _blocks(ROOT / "docs" / "configuration.md", "toml")
    (tmp_path / "corroborate.toml").write_text(example, encoding="utf-8")
    s = load_settings({"home": tmp_path}, environ={})
    assert s.per_host_delay_s == 2.0 and s.window_days == 30


def test_report_schema_example_validates() -> None:
    blocks = _blocks(ROOT / "docs" / "report-schema.md", "json")
    assert blocks, "docs/report-schema.md must show an example"
    jsonschema.validate(json.loads(blocks[0]), report_schema())


@pytest.mark.parametrize("doc", ["README.md", "docs/report-schema.md", "docs/scaling.md"])
def test_commands_named_in_docs_exist(doc: str) -> None:
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} not written yet")
    names = set(re.findall(r"`corroborate ([a-z][a-z-]+)", path.read_text(encoding="utf-8")))
    for name in names:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, f"{doc} mentions `corroborate {name}`, which does not exist"
