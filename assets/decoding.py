"""Pure helpers that turn a raw file's bytes into lines: hash, decode, split.

Decoding, in order:
1. A byte-order mark says it: UTF-8, UTF-16 or UTF-32 (LE/BE).
2. NUL bytes: UTF-16 without BOM if they sit in every other byte, otherwise binary (rejected).
3. Valid UTF-8 is UTF-8.
4. Otherwise a legacy single-byte code page. Short Western text is ambiguous between them (the same
   bytes are "Grève" in cp1252 and "Grčve" in cp1250; charset-normalizer picks cp1250 here), so each
   code page that decodes the bytes cleanly is tried and the language detector we already ship
   chooses the reading that looks most like a language; ties go to cp1252, the common Western one.
5. Text with many control characters is binary whatever it decodes as (rejected, with the count).

Kept free of Dagster and DuckDB so they can be unit- and property-tested directly.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass

UTF8_BOM = codecs.BOM_UTF8
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Single-byte code pages tried, in order of preference on a tie: Western, Central European,
#: Cyrillic, Turkish. Greek and Baltic code pages are left out on purpose: a script that only one
#: language writes makes the detector sure of gibberish (Cyrillic bytes read as "Greek").
LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1251", "cp1254")
#: Languages each code page is written for: a reading whose language does not fit is a misreading.
CODEPAGE_LANGUAGES = {
    "cp1252": {"en", "de", "fr", "es", "it", "pt", "nl", "da", "sv", "nb", "fi", "ca", "id"},
    "cp1250": {"pl", "cs", "sk", "hu", "hr", "sl", "ro"},
    "cp1251": {"ru", "uk", "bg"},
    "cp1254": {"tr"},
}
#: Letters that almost only Icelandic uses: in other text they betray a misread code page.
_RARE_LATIN = frozenset("ÞþÐðÝý")
MAX_CONTROL_SHARE = 0.01  # more than 1% control characters (not tab, LF, CR, FF): binary
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class UndecodableError(ValueError):
    """The bytes are not text we can read; the message is the human reason."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_text(text: str, encoding: str) -> DecodedText:
    controls = len(_CONTROL.findall(text))
    if text and controls / len(text) > MAX_CONTROL_SHARE:
        raise UndecodableError(
            f"binary content: {controls} control characters in {len(text)} (read as {encoding})"
        )
    return DecodedText(text=text, encoding=encoding)


def _looks_like_utf16(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' for BOM-less UTF-16: one byte of each pair takes very few values
    (0x00 for Latin text, 0x04 for Cyrillic, ...), which random binary never does."""
    if len(data) < 4 or len(data) % 2:
        return None
    for encoding, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        counts = sorted((high.count(value) for value in set(high)), reverse=True)
        if 0 in high and sum(counts[:3]) >= 0.9 * len(high):
            return encoding
    return None


_WORD = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0]  # LATIN, GREEK, CYRILLIC, ARABIC ...


def _mixed_script_share(text: str) -> float:
    """Share of words whose letters come from more than one script: the signature of mojibake."""
    words = _WORD.findall(text[:20000])
    if not words:
        return 0.0
    mixed = sum(1 for w in words if len({_script(ch) for ch in w}) > 1)
    return mixed / len(words)


def _implausible_latin(text: str) -> bool:
    """Latin-script text where most letters carry accents: Cyrillic or Greek read in a Western code page."""
    letters = [ch for ch in text[:20000] if ch.isalpha()]
    if not letters or any(_script(ch) != "LATIN" for ch in letters):
        return False
    return sum(not ch.isascii() for ch in letters) / len(letters) > 0.4


def _language_fit(text: str, encoding: str) -> tuple[bool, float]:
    """(the detected language is one this code page is written for, the detector's confidence)."""
    from assets.language import detect_raw

    detection = detect_raw([text[:4000]])[0]
    if not detection.candidates:
        return False, 0.0
    language, confidence = detection.candidates[0]
    return language in CODEPAGE_LANGUAGES.get(encoding, set()), confidence


def _decode_legacy(data: bytes) -> DecodedText:
    readings: list[tuple[str, str]] = []
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL.search(text) or len(_CONTROL.findall(text)) / len(text) <= MAX_CONTROL_SHARE:
            readings.append((encoding, text))
    if not readings:
        raise UndecodableError("not valid UTF-8 and no single-byte code page reads it as text")
    distinct: dict[str, str] = {}
    for encoding, text in readings:
        distinct.setdefault(text, encoding)  # identical readings: keep the preferred code page
    if len(distinct) == 1:
        encoding, text = readings[0]
        return DecodedText(text=text, encoding=encoding)
    # fewest words mixing scripts, a plausible share of accented letters, no Icelandic-only letters,
    # a language the code page is written for, the detector's confidence, the preferred code page
    scored = [
        (
            -round(_mixed_script_share(text), 3),
            not _implausible_latin(text),
            -sum(ch in _RARE_LATIN for ch in text[:20000]),
            *_language_fit(text, enc),
            -LEGACY_ENCODINGS.index(enc),
            enc,
            text,
        )
        for text, enc in distinct.items()
    ]
    *_, encoding, text = max(scored)
    return DecodedText(text=text, encoding=encoding)


def decode_bytes(data: bytes) -> DecodedText:
    """Decode a file's bytes to text; UndecodableError (with the reason) when it is not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise UndecodableError(
                    f"{encoding} byte-order mark, but invalid {encoding}: {exc.reason}"
                ) from None
    if b"\x00" in data:
        utf16 = _looks_like_utf16(data)
        if utf16:
            try:
                return _check_text(data.decode(utf16), utf16)
            except UnicodeDecodeError:
                pass
        raise UndecodableError(f"binary content: NUL byte at offset {data.index(0)}")
    try:
        return _check_text(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    legacy = _decode_legacy(data)
    return _check_text(legacy.text, legacy.encoding)


def split_lines(text: str) -> list[str]:
    r"""Split on \n, \r\n and \r only (not str.splitlines, which also splits on \x0b, \x1c, U+2028...).

    A final terminator does not open an extra empty line; empty text has no lines.
    """
    if not text:
        return []
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines
