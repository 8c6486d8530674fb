"""The language a document is written in, from its text (py3langid), the page's declaration second.

Chosen by measurement (scripts/measure_language_id.py, figures in docs/extraction.md): on the 181
pages of news-html and 22 paragraphs written in 21 languages, py3langid on the extracted text names
the language of all 203 pages (40 of them not English); the page's own signals (``<html lang>``,
og:locale, then a stopword vote among 8 languages), which ingest used before, 184 (24 of the 40).
Declarations lie where a CMS default does (German posts on a site declared ``en``, English ones
declared ``de``), and a stopword vote knows 8 of the 31 languages of the bundled outlets.

py3langid (BSD) ships its model in the wheel (``data/model.npz.xz``): nothing is downloaded. The
model is loaded once per process, on first use (about a second).

Answers are ISO 639-1 codes as the outlet registry writes them (``nb``/``nn`` read as ``no``), or
None when the text is too short or the model unsure, and the page declares nothing usable either.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MIN_CONFIDENCE", "MIN_LETTERS", "identify_language"]

# Below this many letters a text says too little (a headline); the declaration is used instead.
MIN_LETTERS = 40
# Normalised probability under which py3langid's first answer is not trusted.
MIN_CONFIDENCE = 0.5
# Enough text to tell any language; longer texts only cost time.
SAMPLE_CHARS = 20_000
_ALIASES = {"nb": "no", "nn": "no"}
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_CODE = re.compile(r"^[a-z]{2}$")

_identifier: Any = None
_lock = threading.Lock()


def _model() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def _code(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower()
    code = _ALIASES.get(code, code)
    return code if _CODE.match(code) else None


def identify_language(text: str, declared: str | None = None) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in; ``declared`` (the page's own claim)
    when the text is too short to tell or the model is unsure; None when neither says."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample[:2000])) >= MIN_LETTERS:
        found, probability = _model().classify(sample)
        code = _code(str(found))
        if code is not None and float(probability) >= MIN_CONFIDENCE:
            return code
    return _code(declared)
