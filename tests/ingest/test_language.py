"""Language-aware ingest: the language a page is written in, the outlets a run fetches, and the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from language_samples import SAMPLES, sample_page

from corroborate.errors import ConfigError
from corroborate.ingest.extract import extract
from corroborate.ingest.language import identify_language
from corroborate.ingest.outlets import in_languages, load_outlets
from corroborate.languages import judged_languages, unread_languages
from corroborate.settings import Settings, load_settings


@pytest.mark.parametrize(("language", "declared", "text"), SAMPLES, ids=[f"{s[0]}-{s[1]}" for s in SAMPLES])
def test_extract_names_the_language_the_text_is_written_in(language: str, declared: str | None, text: str) -> None:
    """Whatever the page declares: a German post on a site declared English is German."""
    settings = Settings(min_text_chars=50)
    assert extract(sample_page(declared, text), "https://example.org/a", settings).language == language


def test_too_little_text_falls_back_to_the_declaration() -> None:
    assert identify_language("Kurz gesagt.", "de") == "de"
    assert identify_language("Kurz gesagt.", None) is None
    assert identify_language("Kurz gesagt.", "nb") == "no"  # the registry's code for Norwegian
    assert identify_language("Kurz gesagt.", "english") is None
    german = SAMPLES[1][2]
    assert identify_language(german, "en") == "de"


def test_outlets_in_other_languages_are_not_fetched_by_default() -> None:
    settings = load_settings({}, environ={})
    assert settings.languages == ("en",)
    bundled = load_outlets(None)
    kept, left = in_languages(bundled, settings.languages)
    assert {o.language for o in kept} == {"en"}
    assert sum(left.values()) == len(bundled) - len(kept) == sum(1 for o in bundled if o.language != "en")
    assert left["de"] == max(left.values())  # German is the largest share, as the registry has it
    print(f"\n{len(bundled)} bundled outlets: {len(kept)} fetched, {sum(left.values())} not ({left})")


def test_languages_setting_from_toml_env_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "corroborate.toml"
    config.write_text('languages = ["en", "DE"]\n', encoding="utf-8")
    assert load_settings({}, config=config, environ={}).languages == ("en", "de")
    assert load_settings({}, environ={"CORROBORATE_LANGUAGES": "en, fr,en"}).languages == ("en", "fr")
    assert load_settings({"languages": ["de"]}, environ={}).languages == ("de",)
    with pytest.raises(ConfigError, match="CORROBORATE_LANGUAGES: setting 'languages' must hold ISO 639-1"):
        load_settings({}, environ={"CORROBORATE_LANGUAGES": "english"})
    with pytest.raises(ConfigError, match="must list at least one language"):
        load_settings({}, environ={"CORROBORATE_LANGUAGES": " "})
    with pytest.raises(ConfigError, match="must be a list of strings"):
        load_settings({}, config=_write(tmp_path, "languages = 3\n"), environ={})


def test_languages_survive_the_trip_to_a_flow_through_the_environment(tmp_path: Path) -> None:
    from flows.common import settings_env_vars

    settings = load_settings({"home": tmp_path, "languages": ["en", "de"]}, environ={})
    assert load_settings({}, environ=settings_env_vars(settings)).languages == ("en", "de")


def test_a_listed_language_no_judge_reads_is_fetched_but_not_judged() -> None:
    assert judged_languages(("en", "de")) == {"en"}
    assert unread_languages(("en", "de")) == {"de"}


def _write(folder: Path, text: str) -> Path:
    path = folder / "other.toml"
    path.write_text(text, encoding="utf-8")
    return path
