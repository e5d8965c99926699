"""Pure helpers that turn a raw file's bytes into lines: hash, decode, split.

Kept free of Dagster and DuckDB so they can be unit- and property-tested directly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class UndecodableError(ValueError):
    """The bytes are not text we can read; the message is the human reason."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_bytes(data: bytes) -> DecodedText:
    """Decode UTF-8 (with or without BOM); anything else raises UndecodableError with a reason."""
    if data.startswith(UTF8_BOM):
        body, encoding = data[len(UTF8_BOM) :], "utf-8-sig"
    else:
        body, encoding = data, "utf-8"
    if b"\x00" in body:
        offset = body.index(b"\x00") + (len(data) - len(body))
        raise UndecodableError(f"binary content: NUL byte at offset {offset}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        raise UndecodableError(
            f"not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {offset} ({exc.reason})"
        ) from None
    return DecodedText(text=text, encoding=encoding)


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
