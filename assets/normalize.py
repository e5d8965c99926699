"""Text normalisation shared by topics and headline matching: NFKC, casefold, credits and news
prefixes removed, punctuation dropped, words stemmed with Snowball (PyStemmer) per language."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import Stemmer
import yaml

RULES_DIR = Path(__file__).parent / "rules"

#: ISO 639-1 -> Snowball algorithm name
SNOWBALL = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "nb": "norwegian",
    "fi": "finnish", "ru": "russian", "tr": "turkish", "hu": "hungarian", "ro": "romanian",
    "ca": "catalan", "el": "greek", "id": "indonesian", "ar": "arabic", "pl": "polish",
}  # fmt: skip

_CREDIT = re.compile(r"\(\s*(?:sources?|quelle|source|fuente|fonte|bron)\s*:[^)]*\)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@cache
def matching_rules() -> dict[str, Any]:
    return yaml.safe_load((RULES_DIR / "matching.yml").read_text(encoding="utf-8"))


@cache
def _prefix_pattern() -> re.Pattern[str]:
    alternatives = "|".join(f"(?:{p})" for p in matching_rules()["prefixes"])
    return re.compile(rf"^\s*(?:{alternatives})\s*", re.IGNORECASE)


@cache
def stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = SNOWBALL.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def strip_furniture(text: str) -> str:
    """NFKC text without inline credits and news prefixes ("LIVE:", "UPDATE 2-"), case and punctuation kept."""
    text = _CREDIT.sub(" ", unicodedata.normalize("NFKC", text))
    previous = None
    while previous != text:  # "LIVE: UPDATE 2- ..." loses both prefixes
        previous, text = text, _prefix_pattern().sub("", text, count=1)
    return text.strip()


def normalize(text: str) -> str:
    """The form headlines are compared in: 'LIVE: Farewell to Queen Elizabeth II.' -> 'farewell to queen elizabeth ii'."""
    return _normalize_short(text) if len(text) <= SHORT_TEXT else _normalize(text)


#: Texts up to this long (headlines, titles, headings) have their normal form cached: topics and
#: matching both normalise every headline, and headlines recur across files. Paragraphs and bodies
#: are not kept (they seldom repeat, and would fill the cache).
SHORT_TEXT = 300


def _normalize(text: str) -> str:
    text = strip_furniture(text).casefold().replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


_normalize_short = lru_cache(maxsize=1 << 15)(_normalize)


def words(text: str) -> list[str]:
    """Lowercase words of a text, punctuation dropped (apostrophe-s split off and dropped)."""
    return _words_of(normalize(text))


def _words_of(normalized: str) -> list[str]:
    return [w for w in normalized.split() if not (len(w) == 1 and w.isalpha())]


def stem_words(tokens: list[str], language: str) -> list[str]:
    stem = stemmer(language)
    return stem.stemWords(tokens) if stem else list(tokens)


@cache
def _stopwords(language: str) -> frozenset[str]:
    stopwords = matching_rules()["stopwords"]
    return frozenset(stopwords.get(language, ())) | frozenset(stopwords["en"])


def content_stems(normalized: str, language: str) -> list[str]:
    """Stemmed words of a normalised text (`normalize`, which is idempotent) minus the language's
    function words: what matching compares."""
    stop = _stopwords(language)
    return stem_words([w for w in _words_of(normalized) if w not in stop], language)
